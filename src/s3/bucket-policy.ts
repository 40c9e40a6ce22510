/**
 * The buckets this stack creates, and their bucket policy: refuse every request that is not over
 * TLS. (Their other hardening - public access blocked, default encryption as bucket-encryption.ts
 * decides it, ACLs disabled - has no document: src/constructs/bucket-owner-access.ts sets it.)
 */
import type { Config } from '../config/schema';
import { createdKmsKeys, type CreatedKmsKey } from '../iam/key-policy';
import { bucketKmsKey } from './bucket-encryption';
import type { Partition } from '../iam/arns';
import { bucketArn, partitionOfConfig } from '../iam/arns';
import { policyDocument, type PolicyDocument, renderPolicy } from '../iam/policy-document';

export function tlsOnlyBucketPolicy(partition: Partition, bucket: string): PolicyDocument {
  return policyDocument({
    Sid: 'DenyInsecureTransport',
    Effect: 'Deny',
    Principal: '*',
    Action: ['s3:*'],
    Resource: [bucketArn(partition, bucket), `${bucketArn(partition, bucket)}/*`],
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  });
}

/** A bucket this stack creates. */
export interface CreatedBucket {
  readonly name: string;
  /** Its bucket policy JSON. */
  readonly policy: string;
  /** SSE-KMS: the key given by ARN, or the key this stack creates for it; undefined: SSE-S3. */
  readonly kmsKey?: { readonly kind: 'given'; readonly arn: string } | ({ readonly kind: 'created' } & CreatedKmsKey);
}

/** The buckets marked "create", in config order (the others exist already: nothing is created for them). */
export function createdBuckets(config: Config): CreatedBucket[] {
  const keys = new Map(createdKmsKeys(config).map((key) => [key.bucket, key]));
  return config.buckets
    .filter((bucket) => bucket.create)
    .map((bucket) => {
      const key = bucketKmsKey(bucket);
      const kmsKey = key === undefined ? undefined : key.kind === 'given' ? { kind: 'given' as const, arn: key.arn } : { kind: 'created' as const, ...keys.get(bucket.name)! };
      return { name: bucket.name, policy: renderPolicy(tlsOnlyBucketPolicy(partitionOfConfig(config), bucket.name)), ...(kmsKey === undefined ? {} : { kmsKey }) };
    });
}
