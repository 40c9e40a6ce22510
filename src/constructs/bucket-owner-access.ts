/**
 * My Account (the bucket owner): the buckets this stack creates, hardened, and one cross-account
 * role per grant that the transfer host assumes with the External ID. Every policy is decided by
 * the pure functions in src/iam and src/s3 and rendered here as concrete JSON.
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
import type { Bucket, Config, Grant } from '../config/schema';
import { grantRoleName, grantRolePathOf, hostRoleArn, normalizePrefix, partitionOfConfig } from '../iam/arns';
import { renderPolicy } from '../iam/policy-document';
import { grantPermissionsPolicy } from '../iam/s3-access';
import { grantRoleTrustPolicy } from '../iam/trust-policy';
import { tlsOnlyBucketPolicy } from '../s3/bucket-policy';
import { s3Uri } from '../aws/arns';

/** Name of the inline S3 policy on every grant role (inline policy names are per role). */
export const GRANT_POLICY_NAME = 'aspera-s3-access';

/**
 * Terraform name of a created bucket's resources, e.g. aws_s3_bucket.bucket_acme-aspera-inbox.
 * Bucket names may contain dots, which Terraform names may not; "_" never occurs in a bucket
 * name, so replacing "." with "_" cannot make two buckets collide.
 */
export const bucketResourceName = (bucketName: string): string => `bucket_${bucketName.replace(/\./g, '_')}`;

/** Terraform name of a grant's role and policy, e.g. aws_iam_role.grant_xfer2. */
export const grantResourceName = (grant: Grant): string => `grant_${grant.transferUser}`;

export interface BucketOwnerAccessProps {
  readonly config: Config;
  /** The aws.my_account provider. */
  readonly provider: AwsProvider;
}

/** The resources that make one created bucket safe to use; grants wait for all of them. */
export interface HardenedBucket {
  readonly bucket: S3Bucket;
  readonly publicAccessBlock: S3BucketPublicAccessBlock;
  readonly encryption: S3BucketServerSideEncryptionConfigurationA;
  readonly ownershipControls: S3BucketOwnershipControls;
  readonly policy: S3BucketPolicy;
}

export interface GrantRole {
  readonly grant: Grant;
  readonly role: IamRole;
  readonly policy: IamRolePolicy;
}

export class BucketOwnerAccess extends Construct {
  /** Created buckets by name (create:false buckets are not here: nothing is created for them). */
  readonly buckets: ReadonlyMap<string, HardenedBucket>;
  /** One role per grant, keyed by transfer user. */
  readonly grantRoles: ReadonlyMap<string, GrantRole>;

  constructor(scope: Construct, id: string, props: BucketOwnerAccessProps) {
    super(scope, id);
    const { config, provider } = props;

    const buckets = new Map<string, HardenedBucket>();
    for (const bucket of config.buckets) {
      if (bucket.create) buckets.set(bucket.name, this.hardenedBucket(config, bucket, provider));
    }
    this.buckets = buckets;

    const trustPolicy = renderPolicy(grantRoleTrustPolicy(config));
    // Only in the path form: a stack with the exact host policy keeps the roles it always had.
    const path = config.hostPolicy === 'role-path' ? { path: grantRolePathOf(config) } : {};
    const grantRoles = new Map<string, GrantRole>();
    for (const grant of config.grants) {
      const name = grantResourceName(grant);
      const where = s3Uri(grant.bucket, normalizePrefix(grant.prefix));
      const role = new IamRole(this, name, {
        provider,
        name: grantRoleName(config, grant),
        ...path,
        description: `Aspera transfer user ${grant.transferUser}: ${grant.access} on ${where}, assumed by ${hostRoleArn(config)} with the External ID`,
        assumeRolePolicy: trustPolicy,
        tags: { TransferUser: grant.transferUser },
      });
      role.overrideLogicalId(name);
      const hardened = buckets.get(grant.bucket);
      const policy = new IamRolePolicy(this, `${name}_s3_access`, {
        provider,
        name: GRANT_POLICY_NAME,
        // A reference (not the literal name) so Terraform creates the role first.
        role: role.name,
        policy: renderPolicy(grantPermissionsPolicy(config, grant)),
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

  private hardenedBucket(config: Config, bucket: Bucket, provider: AwsProvider): HardenedBucket {
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
      policy: renderPolicy(tlsOnlyBucketPolicy(partitionOfConfig(config), bucket.name)),
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
