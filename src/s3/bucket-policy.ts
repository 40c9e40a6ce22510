/**
 * The buckets this stack creates, and their bucket policy: refuse every request that is not over
 * TLS. (Their other hardening - public access blocked, SSE-S3, ACLs disabled - has no document:
 * src/constructs/bucket-owner-access.ts sets it.)
 */
import type { Config } from '../config/schema';
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
}

/** The buckets marked "create", in config order (the others exist already: nothing is created for them). */
export const createdBuckets = (config: Config): CreatedBucket[] =>
  config.buckets.filter((bucket) => bucket.create).map((bucket) => ({ name: bucket.name, policy: renderPolicy(tlsOnlyBucketPolicy(partitionOfConfig(config), bucket.name)) }));
