/**
 * My Account (the bucket owner): the buckets this stack creates, hardened, and one cross-account
 * role per grant that the transfer host assumes with the External ID. Every name, description and
 * policy is decided by src/iam/roles.ts and src/s3/bucket-policy.ts; this construct wires them
 * into resources and orders them.
 */
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import type { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import type { GrantRole } from '../iam/roles';
import type { CreatedBucket } from '../s3/bucket-policy';

/**
 * Terraform name of a created bucket's resources, e.g. aws_s3_bucket.bucket_acme-aspera-inbox.
 * Bucket names may contain dots, which Terraform names may not; "_" never occurs in a bucket
 * name, so replacing "." with "_" cannot make two buckets collide.
 */
export const bucketResourceName = (bucketName: string): string => `bucket_${bucketName.replace(/\./g, '_')}`;

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
    const s3Bucket = new S3Bucket(this, name, { provider, bucket: bucket.name });
    s3Bucket.overrideLogicalId(name);

    const publicAccessBlock = new S3BucketPublicAccessBlock(this, `${name}_public_access_block`, {
      provider,
      bucket: s3Bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    publicAccessBlock.overrideLogicalId(name);

    // SSE-S3 (AES256): works for any principal the bucket policy and IAM allow, with no KMS key
    // policy to keep in step across accounts. S3 Bucket Keys only apply to SSE-KMS, so none here.
    const encryption = new S3BucketServerSideEncryptionConfigurationA(this, `${name}_encryption`, {
      provider,
      bucket: s3Bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
    });
    encryption.overrideLogicalId(name);

    // ACLs disabled: every object belongs to the bucket owner, whoever uploads it.
    const ownershipControls = new S3BucketOwnershipControls(this, `${name}_ownership`, {
      provider,
      bucket: s3Bucket.id,
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    });
    ownershipControls.overrideLogicalId(name);

    const policy = new S3BucketPolicy(this, `${name}_policy`, {
      provider,
      bucket: s3Bucket.id,
      policy: bucket.policy,
      // S3 rejects concurrent PutBucketPolicy and PutPublicAccessBlock on one bucket
      // (OperationAborted), and the policy should only land once public access is blocked.
      dependsOn: [publicAccessBlock],
    });
    policy.overrideLogicalId(name);

    return { bucket: s3Bucket, publicAccessBlock, encryption, ownershipControls, policy };
  }
}

function hardeningOf(hardened: HardenedBucket): ITerraformDependable[] {
  return [hardened.bucket, hardened.publicAccessBlock, hardened.encryption, hardened.ownershipControls, hardened.policy];
}
