/**
 * How each bucket's objects are encrypted, and so which KMS key (if any) its grants must be able
 * to use. This file decides it once; the grant policies (src/iam/kms-access.ts), the created
 * keys' policies (src/iam/key-policy.ts), the construct that creates buckets and keys
 * (src/constructs/bucket-owner-access.ts) and the review all ask it.
 *
 *  - a created bucket, "encryption" "sse-s3" (the default): S3-managed keys, nothing for KMS;
 *  - a created bucket, "sse-kms": the key kmsKeyArn names, else a key this stack creates for the
 *    bucket (rotation on), with the S3 Bucket Key on in both cases (fewer KMS calls, and S3 then
 *    uses the bucket's ARN as the encryption context);
 *  - an existing bucket with kmsKeyArn: the key its owner already encrypts with; whether it uses a
 *    Bucket Key is not ours to know, so both encryption contexts (bucket, object) stay possible;
 *  - an existing bucket without: SSE-S3 or no default encryption, nothing for KMS.
 */
import type { Bucket, Config } from '../config/schema';

/**
 * Terraform name of a created bucket's resources, e.g. aws_s3_bucket.bucket_acme-aspera-inbox.
 * Bucket names may contain dots, which Terraform names may not; "_" never occurs in a bucket
 * name, so replacing "." with "_" cannot make two buckets collide.
 */
export const bucketResourceName = (bucketName: string): string => `bucket_${bucketName.replace(/\./g, '_')}`;

/**
 * What S3 passes to KMS as the encryption context "aws:s3:arn": the bucket's ARN when the bucket
 * uses an S3 Bucket Key, else the object's ARN.
 */
export type EncryptionContext = 'bucket' | 'bucket-or-object';

/** The KMS key of one bucket. */
export type BucketKmsKey =
  /** A key that exists (in My Account or another account), by its ARN. */
  | { readonly kind: 'given'; readonly arn: string; readonly context: EncryptionContext }
  /** A key this stack creates for the bucket: aws_kms_key.<terraformName>. */
  | { readonly kind: 'created'; readonly bucket: string; readonly terraformName: string; readonly context: 'bucket' };

/** The KMS key a bucket's objects are encrypted with, or undefined when S3 manages the keys. */
export function bucketKmsKey(bucket: Bucket): BucketKmsKey | undefined {
  if (bucket.create) {
    if (bucket.encryption !== 'sse-kms') return undefined;
    return bucket.kmsKeyArn !== undefined
      ? { kind: 'given', arn: bucket.kmsKeyArn, context: 'bucket' }
      : { kind: 'created', bucket: bucket.name, terraformName: bucketResourceName(bucket.name), context: 'bucket' };
  }
  return bucket.kmsKeyArn !== undefined ? { kind: 'given', arn: bucket.kmsKeyArn, context: 'bucket-or-object' } : undefined;
}

/** The key of the bucket a grant names (the schema guarantees the bucket is declared). */
export function kmsKeyOfBucket(config: Pick<Config, 'buckets'>, bucketName: string): BucketKmsKey | undefined {
  const bucket = config.buckets.find((b) => b.name === bucketName);
  return bucket === undefined ? undefined : bucketKmsKey(bucket);
}

/** A created key's ARN as a Terraform string: known only once the key exists. */
export const createdKeyArnReference = (key: { terraformName: string }): string => `\${aws_kms_key.${key.terraformName}.arn}`;
