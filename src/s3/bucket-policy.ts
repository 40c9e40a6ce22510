/** Bucket policy for buckets this stack creates: refuse every request that is not over TLS. */
import type { Partition } from '../iam/arns';
import { bucketArn } from '../iam/arns';
import { policyDocument, type PolicyDocument } from '../iam/policy-document';

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
