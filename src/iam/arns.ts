/**
 * ARNs and names, derived from the config alone. Roles do not exist yet at synth time, but their
 * ARNs are fully determined by partition, account and name; deriving them here lets every policy
 * be rendered as concrete JSON that a reviewer can read in cdk.tf.json exactly as AWS will store it.
 */
import { accountRootArn, bucketArn, grantRolePathOf, iamRoleArn, objectsArn, roleNameOfArn, rolePathOfArn } from '../aws/arns';
import { type Partition, partitionOf } from '../aws/partitions';
import type { Config, Grant } from '../config/schema';

// Partitions are decided in src/aws/partitions.ts and plain ARNs built in src/aws/arns.ts;
// re-exported for the policy builders.
export { type Partition, partitionOf };
export { accountRootArn, bucketArn, grantRolePathOf, iamRoleArn, objectsArn, rolePathOfArn };

/** Prefixes are stored without a trailing slash: "incoming/a/" and "incoming/a" mean the same. */
export const normalizePrefix = (prefix: string): string => prefix.replace(/\/+$/, '');

export const partitionOfConfig = (config: Pick<Config, 'myAccount'>): Partition => partitionOf(config.myAccount.region);

/**
 * The cross-account role in My Account for one grant: "{stackName}-{transferUser}" unless named
 * (or, in mode "transfer-host", given by ARN).
 */
export const grantRoleName = (config: Pick<Config, 'stackName'>, grant: Grant): string =>
  grant.roleName ?? (grant.roleArn !== undefined ? roleNameOfArn(grant.roleArn) : `${config.stackName}-${grant.transferUser}`);

export const grantRoleArn = (config: Pick<Config, 'hostPolicy' | 'stackName' | 'myAccount'>, grant: Grant): string =>
  grant.roleArn ?? iamRoleArn(partitionOfConfig(config), config.myAccount.accountId, grantRoleName(config, grant), grantRolePathOf(config));

/** The role the Aspera instance runs with in Other Account (created, existing, or in mode "bucket-owner" given by ARN). */
export const hostRoleName = (config: Config): string =>
  'name' in config.hostRole ? config.hostRole.name : 'existingRoleName' in config.hostRole ? config.hostRole.existingRoleName : roleNameOfArn(config.hostRole.arn);

/** The host role's IAM path: hostRole.path, or the path in hostRole.arn; "/" by default. */
export const hostRolePath = (config: Config): string => ('arn' in config.hostRole ? rolePathOfArn(config.hostRole.arn) : (config.hostRole.path ?? '/'));

export const hostRoleArn = (config: Config): string =>
  'arn' in config.hostRole ? config.hostRole.arn : iamRoleArn(partitionOfConfig(config), config.otherAccount.accountId, hostRoleName(config), hostRolePath(config));

