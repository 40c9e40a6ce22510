/**
 * Every IAM role and role policy the stack creates, decided from the config: names, paths,
 * descriptions and the JSON of each document, as they go into cdk.tf.json. The constructs
 * (src/constructs/bucket-owner-access.ts, transfer-host-access.ts) are given these and only wire
 * them; the size check (limits.ts) measures these same documents, so what is checked is what is
 * created. Pure: config in, values out, no cdktf.
 *
 * The policies themselves are decided elsewhere, one decision per file: trust-policy.ts (who may
 * assume), s3-access.ts (what a grant may do in S3), kms-access.ts (what it may do with its
 * bucket's KMS key), host-policy.ts (which roles the host may try).
 */
import { s3Uri } from '../aws/arns';
import type { Config, Grant } from '../config/schema';
import { grantRoleName, grantRolePathOf, hostRoleArn, hostRoleName, hostRolePath, normalizePrefix } from './arns';
import { hostAssumeGrantRolesPolicy } from './host-policy';
import { type KeyArnOf, grantKmsStatements, keyArnInTerraform } from './kms-access';
import { policyDocument, type PolicyDocument, renderPolicy } from './policy-document';
import { grantS3Statements } from './s3-access';
import { grantRoleTrustPolicy, hostRoleTrustPolicy } from './trust-policy';

/** Name of the inline S3 policy on every grant role (inline policy names are per role). */
export const GRANT_POLICY_NAME = 'aspera-s3-access';

/** One grant's role in My Account, with its trust and its inline S3 policy. */
export interface GrantRole {
  readonly transferUser: string;
  /** The bucket the role's policy reaches (its hardening comes first when this stack creates it). */
  readonly bucket: string;
  readonly roleName: string;
  /** The IAM path, only in the "role-path" form: a stack with the exact host policy keeps the roles it always had. */
  readonly rolePath?: string;
  readonly description: string;
  /** The trust policy JSON (the same for every grant of a stack). */
  readonly trustPolicy: string;
  readonly policyName: string;
  /** The inline S3 policy JSON. */
  readonly policy: string;
}

/** One grant role's inline policy: its S3 permissions, then its use of the bucket's KMS key if any. */
export const grantPermissionsPolicy = (config: Config, grant: Grant, keyArnOf: KeyArnOf = keyArnInTerraform): PolicyDocument =>
  policyDocument(...grantS3Statements(config, grant), ...grantKmsStatements(config, grant, keyArnOf));

/**
 * The grant roles of the bucket owner's half, in config order. `keyArnOf` names a created KMS key
 * in the policies (by default a Terraform reference; the size check gives an ARN of the real length).
 */
export function grantRoles(config: Config, keyArnOf: KeyArnOf = keyArnInTerraform): GrantRole[] {
  // Rendered once: every grant role trusts the same host role with the same External ID.
  const trustPolicy = renderPolicy(grantRoleTrustPolicy(config));
  const rolePath = config.hostPolicy === 'role-path' ? grantRolePathOf(config) : undefined;
  const trustedBy = hostRoleArn(config);
  return config.grants.map((grant) => ({
    transferUser: grant.transferUser,
    bucket: grant.bucket,
    roleName: grantRoleName(config, grant),
    ...(rolePath !== undefined ? { rolePath } : {}),
    description: `Aspera transfer user ${grant.transferUser}: ${grant.access} on ${s3Uri(grant.bucket, normalizePrefix(grant.prefix))}, assumed by ${trustedBy} with the External ID`,
    trustPolicy,
    policyName: GRANT_POLICY_NAME,
    policy: renderPolicy(grantPermissionsPolicy(config, grant, keyArnOf)),
  }));
}

/** The host role when this stack creates it: an EC2 service role with an instance profile of the same name. */
export interface CreatedHostRole {
  readonly kind: 'created';
  readonly roleName: string;
  /** hostRole.path, when the config gives one. */
  readonly rolePath?: string;
  readonly description: string;
  /** The trust policy JSON. */
  readonly trustPolicy: string;
}

/** The role the Aspera instance already runs with: the stack only adds its policy, after checking the role's ARN at plan time. */
export interface ExistingHostRole {
  readonly kind: 'existing';
  readonly roleName: string;
  /** The ARN the grant roles trust: the role found by name must have exactly this one. */
  readonly expectedArn: string;
  /** What the plan says when it does not. */
  readonly mismatchMessage: string;
}

/** The transfer host's half: its role and the inline policy that lets it assume the grant roles. */
export interface HostRoleAccess {
  readonly hostRole: CreatedHostRole | ExistingHostRole;
  /** Carries the stack name, so two stacks can share one host role. */
  readonly policyName: string;
  /** The sts:AssumeRole policy JSON. */
  readonly policy: string;
}

/** The transfer host's half of a config whose hostRole is created or existing (not given by ARN). */
export function hostRoleAccess(config: Config): HostRoleAccess {
  const roleName = hostRoleName(config);
  const policyName = `${config.stackName}-assume-grant-roles`;
  const policy = renderPolicy(hostAssumeGrantRolesPolicy(config));
  if ('name' in config.hostRole) {
    const hostRole: CreatedHostRole = {
      kind: 'created',
      roleName,
      ...(config.hostRole.path !== undefined ? { rolePath: config.hostRole.path } : {}),
      description: `Aspera transfer host: may assume the ${config.stackName} grant roles in account ${config.myAccount.accountId}`,
      trustPolicy: renderPolicy(hostRoleTrustPolicy()),
    };
    return { hostRole, policyName, policy };
  }
  if ('existingRoleName' in config.hostRole) {
    // The grant roles' trust policies name the host role by its derived ARN, with the path the
    // config gives (hostRole.path, "/" by default). A role under another path (or a typo) would
    // otherwise be found fine and then silently denied on every AssumeRole.
    const expectedArn = hostRoleArn(config);
    const pathHint = config.hostRole.path !== undefined ? '' : ": set hostRole.path to the role's path";
    const mismatchMessage = `hostRole.existingRoleName: the role "${roleName}" must have the ARN ${expectedArn} (path "${hostRolePath(config)}"${pathHint}); the grant roles trust exactly that ARN.`;
    return { hostRole: { kind: 'existing', roleName, expectedArn, mismatchMessage }, policyName, policy };
  }
  // The schema allows hostRole.arn in mode "bucket-owner" only, which has no transfer host half.
  throw new Error(`hostRole.arn (${config.hostRole.arn}): the transfer host's half needs hostRole.name or hostRole.existingRoleName`);
}
