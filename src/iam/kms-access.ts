/**
 * What a grant role may do with the KMS key of its bucket. This file decides every KMS permission
 * the grant roles get: on an SSE-KMS bucket (src/s3/bucket-encryption.ts decides which buckets are
 * and with which key) S3 calls KMS as the caller, so without these the first upload or download
 * fails with AccessDenied after a green apply.
 *  - the actions its access needs: kms:Decrypt to read (and to complete a multipart upload),
 *    kms:GenerateDataKey as well to write;
 *  - on that key only;
 *  - only through S3 in the bucket's region (kms:ViaService): the role cannot call KMS directly;
 *  - only for its bucket (kms:EncryptionContext:aws:s3:arn): the bucket's ARN, which S3 passes
 *    when the bucket uses an S3 Bucket Key, and otherwise the object's ARN, narrowed to the
 *    grant's prefix.
 * A key owned by another account must also allow the grant role in its own key policy; that policy
 * is its owner's to write (the review says what it must allow).
 */
import { PARTITION_FACTS } from '../aws/partitions';
import type { Access, Config, Grant } from '../config/schema';
import { type BucketKmsKey, createdKeyArnReference, kmsKeyOfBucket } from '../s3/bucket-encryption';
import { bucketArn, normalizePrefix, objectsArn, partitionOfConfig } from './arns';
import type { PolicyStatement } from './policy-document';

/** The KMS actions S3 needs on the caller's behalf, per access level. */
export const ASPERA_KMS_ACTIONS: Readonly<Record<Access, readonly string[]>> = {
  'read-write': ['kms:Decrypt', 'kms:GenerateDataKey'],
  'read-only': ['kms:Decrypt'],
};

/** kms:ViaService of S3 in the buckets' region: "s3.<region>.<partition's DNS suffix>". */
export const s3ViaService = (config: Pick<Config, 'myAccount'>): string =>
  `s3.${config.myAccount.region}.${PARTITION_FACTS[partitionOfConfig(config)].dnsSuffix}`;

/** The values of kms:EncryptionContext:aws:s3:arn S3 can pass for this grant's requests. */
export function grantEncryptionContexts(config: Config, grant: Grant, key: BucketKmsKey): string[] {
  const partition = partitionOfConfig(config);
  const bucket = bucketArn(partition, grant.bucket);
  return key.context === 'bucket' ? [bucket] : [bucket, objectsArn(partition, grant.bucket, normalizePrefix(grant.prefix))];
}

/**
 * A key's ARN as the grant policy names it: a given key's ARN, or a reference to the created key
 * (the size check passes `createdKeyArn` to measure with an ARN of the real length instead).
 */
export type KeyArnOf = (key: BucketKmsKey) => string;

export const keyArnInTerraform: KeyArnOf = (key) => (key.kind === 'given' ? key.arn : createdKeyArnReference(key));

/** The grant's KMS statement, or none when its bucket is not encrypted with a KMS key. */
export function grantKmsStatements(config: Config, grant: Grant, keyArnOf: KeyArnOf = keyArnInTerraform): PolicyStatement[] {
  const key = kmsKeyOfBucket(config, grant.bucket);
  if (key === undefined) return [];
  return [
    {
      Sid: 'AsperaKmsViaS3',
      Effect: 'Allow',
      Action: [...ASPERA_KMS_ACTIONS[grant.access]],
      Resource: [keyArnOf(key)],
      Condition: {
        StringEquals: { 'kms:ViaService': s3ViaService(config) },
        StringLike: { 'kms:EncryptionContext:aws:s3:arn': grantEncryptionContexts(config, grant, key) },
      },
    },
  ];
}
