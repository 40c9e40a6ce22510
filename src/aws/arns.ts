/**
 * ARNs and S3 locations built and read from plain values: no config, no policy. The config schema
 * (src/config/) checks ARNs with these and the policy builders (src/iam/) render them, so both
 * layers agree on one spelling and the config never reaches up into iam/ to do so.
 */
import type { Partition } from './partitions';

/** A role's ARN: its path ("/" or "/a/b/") sits between "role" and the name. */
export const iamRoleArn = (partition: Partition, accountId: string, roleName: string, path = '/'): string =>
  `arn:${partition}:iam::${accountId}:role${path}${roleName}`;

export const accountRootArn = (partition: Partition, accountId: string): string => `arn:${partition}:iam::${accountId}:root`;

export const bucketArn = (partition: Partition, bucket: string): string => `arn:${partition}:s3:::${bucket}`;

/** Objects the grant may touch: the whole bucket, or everything below "prefix/". */
export const objectsArn = (partition: Partition, bucket: string, prefix: string): string =>
  prefix === '' ? `${bucketArn(partition, bucket)}/*` : `${bucketArn(partition, bucket)}/${prefix}/*`;

/** The account ID field of an ARN (arn:partition:service:region:account:resource). */
export const accountOfArn = (arn: string): string => arn.split(':')[4];

/** The last segment of a role ARN (a role ARN may have a path: role/some/path/name). */
export const roleNameOfArn = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);

/** The path of a role ARN: "/" for role/name, "/a/b/" for role/a/b/name. */
export const rolePathOfArn = (arn: string): string => {
  const resource = arn.slice(arn.indexOf(':role/') + ':role'.length);
  return resource.slice(0, resource.lastIndexOf('/') + 1);
};

/**
 * The IAM path of the grant roles a stack creates: "/" with the exact host policy, and a path
 * that belongs to the stack, "/aspera/{stackName}/", with "hostPolicy": "role-path" (the host
 * policy then allows that path instead of listing each role; src/iam/host-policy.ts).
 */
export const grantRolePathOf = (config: { readonly hostPolicy: string; readonly stackName: string }): string =>
  config.hostPolicy === 'role-path' ? `/aspera/${config.stackName}/` : '/';

/** "s3://bucket/key": an object, or with a key ending in "/" (or "") a place in the bucket. */
export const s3Uri = (bucket: string, key = ''): string => `s3://${bucket}/${key}`;
