/**
 * ARNs and names, derived from the config alone. Roles do not exist yet at synth time, but their
 * ARNs are fully determined by partition, account and name; deriving them here lets every policy
 * be rendered as concrete JSON that a reviewer can read in cdk.tf.json exactly as AWS will store it.
 */
import { type Partition, partitionOf } from '../aws/partitions';
import type { Config, Grant } from '../config/schema';

// Partitions are decided in src/aws/partitions.ts; re-exported for the policy builders.
export { type Partition, partitionOf };

/** A role's ARN: its path ("/" or "/a/b/") sits between "role" and the name. */
export const iamRoleArn = (partition: Partition, accountId: string, roleName: string, path = '/'): string =>
  `arn:${partition}:iam::${accountId}:role${path}${roleName}`;

export const accountRootArn = (partition: Partition, accountId: string): string => `arn:${partition}:iam::${accountId}:root`;

export const bucketArn = (partition: Partition, bucket: string): string => `arn:${partition}:s3:::${bucket}`;

/** Objects the grant may touch: the whole bucket, or everything below "prefix/". */
export const objectsArn = (partition: Partition, bucket: string, prefix: string): string =>
  prefix === '' ? `${bucketArn(partition, bucket)}/*` : `${bucketArn(partition, bucket)}/${prefix}/*`;

/** Prefixes are stored without a trailing slash: "incoming/a/" and "incoming/a" mean the same. */
export const normalizePrefix = (prefix: string): string => prefix.replace(/\/+$/, '');

export const partitionOfConfig = (config: Pick<Config, 'myAccount'>): Partition => partitionOf(config.myAccount.region);

/** The last segment of a role ARN (a role ARN may have a path: role/some/path/name). */
const roleNameOfArn = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);

/**
 * The cross-account role in My Account for one grant: "{stackName}-{transferUser}" unless named
 * (or, in mode "transfer-host", given by ARN).
 */
export const grantRoleName = (config: Pick<Config, 'stackName'>, grant: Grant): string =>
  grant.roleName ?? (grant.roleArn !== undefined ? roleNameOfArn(grant.roleArn) : `${config.stackName}-${grant.transferUser}`);

/**
 * The IAM path of the grant roles this stack creates: "/" with the exact host policy, and a path
 * that belongs to this stack, "/aspera/{stackName}/", with "hostPolicy": "role-path" (the host
 * policy then allows that path instead of listing each role; src/iam/host-policy.ts).
 */
export const grantRolePathOf = (config: Pick<Config, 'hostPolicy' | 'stackName'>): string =>
  config.hostPolicy === 'role-path' ? `/aspera/${config.stackName}/` : '/';

export const grantRoleArn = (config: Pick<Config, 'hostPolicy' | 'stackName' | 'myAccount'>, grant: Grant): string =>
  grant.roleArn ?? iamRoleArn(partitionOfConfig(config), config.myAccount.accountId, grantRoleName(config, grant), grantRolePathOf(config));

/** The role the Aspera instance runs with in Other Account (created, existing, or in mode "bucket-owner" given by ARN). */
export const hostRoleName = (config: Config): string =>
  'name' in config.hostRole ? config.hostRole.name : 'existingRoleName' in config.hostRole ? config.hostRole.existingRoleName : roleNameOfArn(config.hostRole.arn);

/** The path of a role ARN: "/" for role/name, "/a/b/" for role/a/b/name. */
export const rolePathOfArn = (arn: string): string => {
  const resource = arn.slice(arn.indexOf(':role/') + ':role'.length);
  return resource.slice(0, resource.lastIndexOf('/') + 1);
};

/** The host role's IAM path: hostRole.path, or the path in hostRole.arn; "/" by default. */
export const hostRolePath = (config: Config): string => ('arn' in config.hostRole ? rolePathOfArn(config.hostRole.arn) : (config.hostRole.path ?? '/'));

export const hostRoleArn = (config: Config): string =>
  'arn' in config.hostRole ? config.hostRole.arn : iamRoleArn(partitionOfConfig(config), config.otherAccount.accountId, hostRoleName(config), hostRolePath(config));

export const hostRoleIsCreated = (config: Config): boolean => 'name' in config.hostRole;
