/**
 * What a grant role may do in S3. This file decides every S3 permission the grant roles get.
 * The action lists are the minimum the Aspera S3 docroot needs, per access level; resources are
 * the grant's bucket and, for objects, its prefix. No s3:*, no "*" resources. Two guards hold for
 * every grant, whoever owns the bucket and whatever its bucket policy says:
 *  - TLS only: any request on the grant's bucket without TLS (aws:SecureTransport false) is denied;
 *  - the owner pinned: every allow holds only while the bucket belongs to My Account
 *    (s3:ResourceAccount), so a same-named bucket in another account (a deleted bucket's name
 *    taken over) is never written to or read from.
 * What the grant may do with the bucket's KMS key is decided in kms-access.ts.
 */
import type { Access, Config, Grant } from '../config/schema';
import { bucketArn, normalizePrefix, objectsArn, partitionOfConfig } from './arns';
import type { Condition, PolicyStatement } from './policy-document';

export interface AsperaS3Actions {
  /** Allowed on objects: arn:aws:s3:::bucket/prefix/* */
  objectActions: readonly string[];
  /** Allowed on the bucket itself: arn:aws:s3:::bucket */
  bucketActions: readonly string[];
}

export const ASPERA_S3_ACTIONS: Readonly<Record<Access, AsperaS3Actions>> = {
  'read-write': {
    objectActions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
    bucketActions: ['s3:ListBucket', 's3:ListBucketMultipartUploads', 's3:GetBucketLocation'],
  },
  // Readers never upload, so nothing about multipart uploads.
  'read-only': {
    objectActions: ['s3:GetObject'],
    bucketActions: ['s3:ListBucket', 's3:GetBucketLocation'],
  },
};

/** Every S3 action a grant's role is allowed, objects first. */
export const grantS3Actions = (access: Access): string[] => [
  ...ASPERA_S3_ACTIONS[access].objectActions,
  ...ASPERA_S3_ACTIONS[access].bucketActions,
];

/**
 * The S3 statements of one grant role's inline policy. With a prefix, listing is limited to keys
 * under "prefix/" (s3:prefix condition) so the transfer user cannot even see the rest of the
 * bucket. Only "prefix/*" is allowed, not the bare "prefix": S3 matches prefixes as strings, so
 * listing "incoming/a" would also return the names under "incoming/ab/" (a neighbour's keys).
 * Aspera's own example for a folder-restricted docroot uses the same condition (IBM Aspera KB "IAM
 * roles advanced examples", example 1).
 */
export function grantS3Statements(config: Config, grant: Grant): PolicyStatement[] {
  const partition = partitionOfConfig(config);
  const prefix = normalizePrefix(grant.prefix);
  const bucket = bucketArn(partition, grant.bucket);
  const { objectActions, bucketActions } = ASPERA_S3_ACTIONS[grant.access];
  const ownedByMyAccount: Condition = { StringEquals: { 's3:ResourceAccount': config.myAccount.accountId } };
  const statements: PolicyStatement[] = [
    {
      Sid: 'DenyWithoutTls',
      Effect: 'Deny',
      Action: ['s3:*'],
      Resource: [bucket, `${bucket}/*`],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
    { Sid: 'AsperaObjects', Effect: 'Allow', Action: [...objectActions], Resource: [objectsArn(partition, grant.bucket, prefix)], Condition: ownedByMyAccount },
  ];
  if (prefix === '') {
    statements.push({ Sid: 'AsperaBucket', Effect: 'Allow', Action: [...bucketActions], Resource: [bucket], Condition: ownedByMyAccount });
  } else {
    statements.push({
      Sid: 'AsperaListUnderPrefix',
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      Resource: [bucket],
      Condition: { ...ownedByMyAccount, StringLike: { 's3:prefix': [`${prefix}/*`] } },
    });
    const others = bucketActions.filter((action) => action !== 's3:ListBucket');
    statements.push({ Sid: 'AsperaBucket', Effect: 'Allow', Action: others, Resource: [bucket], Condition: ownedByMyAccount });
  }
  return statements;
}
