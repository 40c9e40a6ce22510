/**
 * My Account (the bucket owner): the buckets this stack creates, hardened (with their KMS keys when
 * they are SSE-KMS and name none), and one cross-account role per grant that the transfer host
 * assumes with the External ID. Every name, description and policy is decided by src/iam/roles.ts,
 * src/iam/key-policy.ts, src/s3/bucket-policy.ts and src/s3/bucket-encryption.ts; this construct
 * wires them into resources and orders them.
 */
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import type { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import type { GrantRole } from '../iam/roles';
import { bucketResourceName } from '../s3/bucket-encryption';
import type { CreatedBucket } from '../s3/bucket-policy';

export { bucketResourceName };

/** Terraform name of a grant's role and policy, e.g. aws_iam_role.grant_xfer2. */
export const grantResourceName = (transferUser: string): string => `grant_${transferUser}`;

export interface BucketOwnerAccessProps {
  /** The aws.my_account provider. */
  readonly provider: AwsProvider;
  /** The buckets this stack creates (src/s3/bucket-policy.ts). */
  readonly createdBuckets: readonly CreatedBucket[];
  /** One role per grant, as src/iam/roles.ts decides them. */
  readonly grantRoles: readonly GrantRole[];
}

/** The resources that make one created bucket safe to use; grants wait for all of them. */
export interface HardenedBucket {
  readonly bucket: S3Bucket;
  /** The KMS key created for it ("encryption": "sse-kms" without kmsKeyArn). */
  readonly kmsKey?: KmsKey;
  readonly publicAccessBlock: S3BucketPublicAccessBlock;
  readonly encryption: S3BucketServerSideEncryptionConfigurationA;
  readonly ownershipControls: S3BucketOwnershipControls;
  readonly policy: S3BucketPolicy;
}

/** A grant's role and policy as created. */
export interface CreatedGrantRole {
  readonly grant: GrantRole;
  readonly role: IamRole;
  readonly policy: IamRolePolicy;
}

export class BucketOwnerAccess extends Construct {
  /** Created buckets by name (create:false buckets are not here: nothing is created for them). */
  readonly buckets: ReadonlyMap<string, HardenedBucket>;
  /** One role per grant, keyed by transfer user. */
  readonly grantRoles: ReadonlyMap<string, CreatedGrantRole>;

  constructor(scope: Construct, id: string, props: BucketOwnerAccessProps) {
    super(scope, id);
    const { provider } = props;

    const buckets = new Map<string, HardenedBucket>();
    for (const bucket of props.createdBuckets) buckets.set(bucket.name, this.hardenedBucket(bucket, provider));
    this.buckets = buckets;

    const grantRoles = new Map<string, CreatedGrantRole>();
    for (const grant of props.grantRoles) {
      const name = grantResourceName(grant.transferUser);
      const role = new IamRole(this, name, {
        provider,
        name: grant.roleName,
        ...(grant.rolePath !== undefined ? { path: grant.rolePath } : {}),
        description: grant.description,
        assumeRolePolicy: grant.trustPolicy,
        tags: { TransferUser: grant.transferUser },
      });
      role.overrideLogicalId(name);
      const hardened = buckets.get(grant.bucket);
      const policy = new IamRolePolicy(this, `${name}_s3_access`, {
        provider,
        name: grant.policyName,
        // A reference (not the literal name) so Terraform creates the role first.
        role: role.name,
        policy: grant.policy,
        // No S3 permission exists before its bucket refuses public access and plain HTTP.
        dependsOn: hardened === undefined ? undefined : hardeningOf(hardened),
      });
      policy.overrideLogicalId(name);
      grantRoles.set(grant.transferUser, { grant, role, policy });
    }
    this.grantRoles = grantRoles;
  }

  /** Everything a transfer host must wait for before it uses a grant. */
  get dependables(): ITerraformDependable[] {
    return [
      ...[...this.buckets.values()].flatMap(hardeningOf),
      ...[...this.grantRoles.values()].flatMap(({ role, policy }) => [role, policy]),
    ];
  }

  private hardenedBucket(bucket: CreatedBucket, provider: AwsProvider): HardenedBucket {
    const name = bucketResourceName(bucket.name);
    // No versioning on purpose: the design does not ask for it, and grant roles have DeleteObject
    // but not DeleteObjectVersion, so deleted transfers would linger as hidden versions that
    // nobody with Aspera access can see or remove.
    // A created key comes first and goes last: the bucket depends on it, so destroy schedules the
    // key's deletion only once the bucket is gone (a bucket that still holds objects makes destroy
    // stop, and its objects stay readable).
    let kmsKey: KmsKey | undefined;
    if (bucket.kmsKey?.kind === 'created') {
      kmsKey = new KmsKey(this, `${name}_key`, {
        provider,
        description: bucket.kmsKey.description,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: bucket.kmsKey.policy,
        tags: { Bucket: bucket.name },
      });
      kmsKey.overrideLogicalId(bucket.kmsKey.terraformName);
    }
    const s3Bucket = new S3Bucket(this, name, { provider, bucket: bucket.name, ...(kmsKey !== undefined ? { dependsOn: [kmsKey] } : {}) });
    s3Bucket.overrideLogicalId(name);

    // The sub-resources name the bucket by its "bucket" attribute, not its "id": both wait for the
    // bucket, but "bucket" is the configured name, which the plan shows, where "id" would read
    // "(known after apply)" on a first plan.
    const publicAccessBlock = new S3BucketPublicAccessBlock(this, `${name}_public_access_block`, {
      provider,
      bucket: s3Bucket.bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    publicAccessBlock.overrideLogicalId(name);

    // SSE-S3 (AES256) by default: works for any principal the bucket policy and IAM allow, with no
    // KMS key policy to keep in step across accounts; S3 Bucket Keys apply only to SSE-KMS. With
    // "sse-kms", the given key or the one created here, and a Bucket Key (fewer KMS requests; the
    // grant roles' KMS permissions expect the bucket's ARN as the encryption context).
    const kmsKeyArn = kmsKey?.arn ?? (bucket.kmsKey?.kind === 'given' ? bucket.kmsKey.arn : undefined);
    const encryption = new S3BucketServerSideEncryptionConfigurationA(this, `${name}_encryption`, {
      provider,
      bucket: s3Bucket.bucket,
      rule: [
        kmsKeyArn === undefined
          ? { applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }
          : { applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: kmsKeyArn }, bucketKeyEnabled: true },
      ],
    });
    encryption.overrideLogicalId(name);

    // ACLs disabled: every object belongs to the bucket owner, whoever uploads it.
    const ownershipControls = new S3BucketOwnershipControls(this, `${name}_ownership`, {
      provider,
      bucket: s3Bucket.bucket,
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    });
    ownershipControls.overrideLogicalId(name);

    const policy = new S3BucketPolicy(this, `${name}_policy`, {
      provider,
      bucket: s3Bucket.bucket,
      policy: bucket.policy,
      // S3 rejects concurrent PutBucketPolicy and PutPublicAccessBlock on one bucket
      // (OperationAborted), and the policy should only land once public access is blocked.
      dependsOn: [publicAccessBlock],
    });
    policy.overrideLogicalId(name);

    return { bucket: s3Bucket, ...(kmsKey !== undefined ? { kmsKey } : {}), publicAccessBlock, encryption, ownershipControls, policy };
  }
}

function hardeningOf(hardened: HardenedBucket): ITerraformDependable[] {
  return [hardened.bucket, ...(hardened.kmsKey !== undefined ? [hardened.kmsKey] : []), hardened.publicAccessBlock, hardened.encryption, hardened.ownershipControls, hardened.policy];
}
