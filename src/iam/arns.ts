/**
 * ARNs and names, derived from the config alone. Roles do not exist yet at synth time, but their
 * ARNs are fully determined by partition, account and name; deriving them here lets every policy
 * be rendered as concrete JSON that a reviewer can read in cdk.tf.json exactly as AWS will store it.
 */
import type { Config, Grant } from '../config/schema';

export type Partition = 'aws' | 'aws-cn' | 'aws-us-gov' | 'aws-iso' | 'aws-iso-b';

export function partitionOf(region: string): Partition {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  return 'aws';
}

export const iamRoleArn = (partition: Partition, accountId: string, roleName: string): string =>
  `arn:${partition}:iam::${accountId}:role/${roleName}`;

export const accountRootArn = (partition: Partition, accountId: string): string => `arn:${partition}:iam::${accountId}:root`;

export const bucketArn = (partition: Partition, bucket: string): string => `arn:${partition}:s3:::${bucket}`;

/** Objects the grant may touch: the whole bucket, or everything below "prefix/". */
export const objectsArn = (partition: Partition, bucket: string, prefix: string): string =>
  prefix === '' ? `${bucketArn(partition, bucket)}/*` : `${bucketArn(partition, bucket)}/${prefix}/*`;

/** Prefixes are stored without a trailing slash: "incoming/a/" and "incoming/a" mean the same. */
export const normalizePrefix = (prefix: string): string => prefix.replace(/\/+$/, '');

export const partitionOfConfig = (config: Config): Partition => partitionOf(config.myAccount.region);

/** The cross-account role in My Account for one grant: "{stackName}-{transferUser}" unless named. */
export const grantRoleName = (config: Config, grant: Grant): string => grant.roleName ?? `${config.stackName}-${grant.transferUser}`;

export const grantRoleArn = (config: Config, grant: Grant): string =>
  iamRoleArn(partitionOfConfig(config), config.myAccount.accountId, grantRoleName(config, grant));

/** The role the Aspera instance runs with in Other Account (created, or existing). */
export const hostRoleName = (config: Config): string =>
  'name' in config.hostRole ? config.hostRole.name : config.hostRole.existingRoleName;

export const hostRoleArn = (config: Config): string =>
  iamRoleArn(partitionOfConfig(config), config.otherAccount.accountId, hostRoleName(config));

export const hostRoleIsCreated = (config: Config): boolean => 'name' in config.hostRole;
