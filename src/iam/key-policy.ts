/**
 * The key policy of each KMS key this stack creates (a bucket with "encryption": "sse-kms" and no
 * kmsKeyArn). This file decides who may administer and who may use such a key:
 *  - My Account administers it (the account root, so IAM policies of the account decide which
 *    administrators): describe, tag, rotate, schedule deletion, change this policy; not use it.
 *  - The grant roles on the bucket use it, only through S3 in the bucket's region and only for
 *    that bucket: kms:Decrypt and kms:GenerateDataKey (each role's own policy, kms-access.ts,
 *    narrows that to what its access needs). The roles are named by aws:PrincipalArn, compared as
 *    a string at request time, not as principals: a principal is resolved to a unique ID when the
 *    policy is saved, so naming a role that does not exist yet would fail the apply, and a role
 *    recreated later would silently stop matching.
 *  - Nobody else: not other principals of My Account, however wide their IAM policies.
 * KMS refuses a key policy over 32,768 bytes (AWS KMS quotas, "Key policy document size"), and each
 * grant role on the key adds its ARN. With "hostPolicy": "exact-roles" a list that does not fit is
 * refused at synth (src/iam/limits.ts). With "role-path" such a list gives way to the stack's role
 * path: the grant roles on the bucket, and also the stack's other grant roles, whose own policies
 * allow them only their own bucket's key (the one widening, said in the review and the docs).
 */
import type { Config } from '../config/schema';
import { bucketKmsKey } from '../s3/bucket-encryption';
import { accountRootArn, bucketArn, grantRoleArn, grantRolePathOf, iamRoleArn, partitionOfConfig } from './arns';
import { s3ViaService } from './kms-access';
import { policyDocument, type PolicyDocument, renderPolicy } from './policy-document';

/** KMS's limit on one key policy, in bytes of the document. */
export const KMS_KEY_POLICY_MAX_BYTES = 32_768;

/** What the account's administrators may do with the key: manage it, never use it for data. */
export const KEY_ADMINISTRATION_ACTIONS = [
  'kms:DescribeKey',
  'kms:GetKeyPolicy',
  'kms:PutKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:EnableKeyRotation',
  'kms:DisableKeyRotation',
  'kms:RotateKeyOnDemand',
  'kms:ListKeyRotations',
  'kms:ListResourceTags',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateKeyDescription',
  'kms:EnableKey',
  'kms:DisableKey',
  'kms:ListGrants',
  'kms:RevokeGrant',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
];

/** A KMS key this stack creates for one bucket. */
export interface CreatedKmsKey {
  readonly bucket: string;
  /** aws_kms_key.<terraformName> */
  readonly terraformName: string;
  readonly description: string;
  /** The key policy JSON. */
  readonly policy: string;
}

/** Whether a created key's policy names its roles by the stack's role path rather than one by one. */
export function keyPolicyNamesRolePath(config: Config, bucket: string): boolean {
  return config.hostPolicy === 'role-path' && keyPolicyBytes(keyPolicyWith(config, bucket, 'exact')) > KMS_KEY_POLICY_MAX_BYTES;
}

/** A key policy's size as KMS counts it: bytes of the document as the provider sends it (compact JSON). */
export const keyPolicyBytes = (document: PolicyDocument): number => Buffer.byteLength(JSON.stringify(document));

export function createdKeyPolicy(config: Config, bucket: string): PolicyDocument {
  return keyPolicyWith(config, bucket, keyPolicyNamesRolePath(config, bucket) ? 'path' : 'exact');
}

function keyPolicyWith(config: Config, bucket: string, roles: 'exact' | 'path'): PolicyDocument {
  const partition = partitionOfConfig(config);
  const account = accountRootArn(partition, config.myAccount.accountId);
  const grants = config.grants.filter((g) => g.bucket === bucket);
  const rolePrincipals =
    roles === 'path'
      ? { ArnLike: { 'aws:PrincipalArn': [iamRoleArn(partition, config.myAccount.accountId, '*', grantRolePathOf(config))] } }
      : { ArnEquals: { 'aws:PrincipalArn': grants.map((g) => grantRoleArn(config, g)) } };
  return policyDocument(
    { Sid: 'AccountAdministersKey', Effect: 'Allow', Principal: { AWS: account }, Action: [...KEY_ADMINISTRATION_ACTIONS], Resource: ['*'] },
    {
      Sid: 'GrantRolesUseKeyViaS3',
      Effect: 'Allow',
      Principal: { AWS: account },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: ['*'],
      Condition: {
        ...rolePrincipals,
        StringEquals: { 'kms:ViaService': s3ViaService(config), 'kms:CallerAccount': config.myAccount.accountId, 'kms:EncryptionContext:aws:s3:arn': bucketArn(partition, bucket) },
      },
    },
  );
}

/** The keys this stack creates, in config order, with their policies. */
export function createdKmsKeys(config: Config): CreatedKmsKey[] {
  return config.buckets.flatMap((bucket) => {
    const key = bucketKmsKey(bucket);
    if (key?.kind !== 'created') return [];
    return [
      {
        bucket: bucket.name,
        terraformName: key.terraformName,
        description: `Default encryption of s3://${bucket.name} (stack ${config.stackName}); its grant roles use it through S3 only`,
        policy: renderPolicy(createdKeyPolicy(config, bucket.name)),
      },
    ];
  });
}
