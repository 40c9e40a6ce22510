/**
 * Whether IAM will accept the policies this stack renders. This file decides that, before any
 * construct exists: the config loader (src/config-file.ts) calls it once the schema has passed,
 * so a config that synthesizes never has a policy IAM refuses halfway through `cdktf apply`.
 *
 * The documents are the ones the constructs are given (roles.ts), measured as IAM measures them:
 * characters of the JSON as sent, not counting whitespace. The quotas (IAM and AWS STS quotas, "IAM object quotas"):
 *  - all inline policies of one role together: 10,240 characters (a hard limit);
 *  - one customer managed policy: 6,144 characters (hard);
 *  - one role trust policy: 2,048 characters by default (a raise to 4,096 can be requested; the
 *    config does not state one: only the External ID (two during a rotation, "nextExternalId")
 *    and the host role's ARN make this policy grow, and a shorter External ID is the better fix).
 * A test checks that the list below is exactly the set of IAM documents in the synthesized stack.
 */
import { IAM_QUOTAS } from '../aws/iam-quotas';
import type { Config } from '../config/schema';
import { appliesBucketOwnerHalf, appliesTransferHostHalf } from '../modes/mode';
import { withThousands } from '../number-format';
import { partitionOf } from '../aws/partitions';
import { grantRoleName, grantRolePathOf, hostRoleName } from './arns';
import { commandOutputPolicy, fleetScriptsPolicy } from './fleet-policy';
import { hostAssumeGrantRolesPolicy } from './host-policy';
import { renderPolicy } from './policy-document';
import { createdKmsKeys, KMS_KEY_POLICY_MAX_BYTES, keyPolicyBytes } from './key-policy';
import type { KeyArnOf } from './kms-access';
import { grantRoles, hostRoleAccess } from './roles';

/** The policy size limits, as src/aws/iam-quotas.ts states them. */
export const IAM_POLICY_LIMITS = {
  inlinePoliciesPerRole: IAM_QUOTAS.inlinePoliciesPerRole,
  managedPolicy: IAM_QUOTAS.managedPolicy,
  trustPolicy: IAM_QUOTAS.trustPolicy,
} as const;

/** STS allows External IDs of up to 1,224 characters (the schema's limit too). */
export const MAX_EXTERNAL_ID_LENGTH = 1224;

/** A policy's size as IAM counts it: characters of the JSON, whitespace not counted. */
// Runs of whitespace, not single characters: the same count, several times faster on indented JSON.
export const iamPolicySize = (json: string): number => json.replace(/\s+/g, '').length;

/** "key": the key policy of a KMS key the stack creates (KMS, not IAM, but checked alike). */
export type IamPolicyKind = 'trust' | 'inline' | 'managed' | 'key';

/** One IAM document the stack renders, with where it goes. */
export interface RenderedIamPolicy {
  readonly kind: IamPolicyKind;
  /** The role it belongs to (trust, inline) or the policy's own name (managed). */
  readonly owner: string;
  /** The JSON as it goes into cdk.tf.json. */
  readonly json: string;
}

/** Which halves this config's stack applies. */
const createsGrantRoles = (config: Config): boolean => appliesBucketOwnerHalf(config.mode);
const setsHostRolePolicy = (config: Config): boolean => appliesTransferHostHalf(config.mode);

/**
 * The External ID as the trust policy will hold it. A half that takes it from the other half's
 * state (or generates it) does not know it at synth time: measure the longest one STS allows.
 */
const externalIdForSize = (config: Config): string => (config.externalId ?? 'x'.repeat(MAX_EXTERNAL_ID_LENGTH));

/**
 * A created key's ARN as it will be: known only after apply, but its length is fixed (the key ID
 * is a UUID), so the policies are measured with one of that length rather than with the reference.
 */
const createdKeyArnForSize =
  (config: Config): KeyArnOf =>
  (key) =>
    key.kind === 'given' ? key.arn : `arn:${partitionOf(config.myAccount.region)}:kms:${config.myAccount.region}:${config.myAccount.accountId}:key/00000000-0000-0000-0000-000000000000`;

/** Every IAM document the stack for `config` renders: those of src/iam/roles.ts, for the halves it applies, and the created keys' policies. */
export function renderedIamPolicies(config: Config): RenderedIamPolicy[] {
  const out: RenderedIamPolicy[] = [];
  if (createsGrantRoles(config)) {
    for (const role of grantRoles({ ...config, externalId: externalIdForSize(config) }, createdKeyArnForSize(config))) {
      out.push({ kind: 'trust', owner: role.roleName, json: role.trustPolicy }, { kind: 'inline', owner: role.roleName, json: role.policy });
    }
    for (const key of createdKmsKeys(config)) out.push({ kind: 'key', owner: key.bucket, json: key.policy });
  }
  if (setsHostRolePolicy(config)) {
    const { hostRole, policy } = hostRoleAccess(config);
    if (hostRole.kind === 'created') out.push({ kind: 'trust', owner: hostRole.roleName, json: hostRole.trustPolicy });
    out.push({ kind: 'inline', owner: hostRole.roleName, json: policy });
    // The fleets' policies are inline on the same role: they count toward its total.
    for (const fleetPolicy of [fleetScriptsPolicy(config), commandOutputPolicy(config)]) {
      if (fleetPolicy !== undefined) out.push({ kind: 'inline', owner: hostRole.roleName, json: renderPolicy(fleetPolicy) });
    }
  }
  return out;
}

export interface IamLimitProblem {
  /** The config field to change. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** How many of the first grants fit in the host role's inline policy (sizes grow with each grant). */
function grantsThatFit(config: Config, limit: number): number {
  let fits = 0;
  let over = config.grants.length;
  while (over - fits > 1) {
    const mid = Math.floor((fits + over) / 2);
    const size = iamPolicySize(renderPolicy(hostAssumeGrantRolesPolicy({ ...config, grants: config.grants.slice(0, mid) })));
    if (size <= limit) fits = mid;
    else over = mid;
  }
  return fits;
}

/** What IAM would refuse of the stack for `config`, one problem per document kind and role. */
export function iamLimitProblems(config: Config): IamLimitProblem[] {
  const problems: IamLimitProblem[] = [];
  const policies = renderedIamPolicies(config);
  // Every grant role has the same trust policy (one string): measure each document once.
  const sizes = new Map<string, number>();
  const sizeOf = (json: string): number => {
    let size = sizes.get(json);
    if (size === undefined) sizes.set(json, (size = iamPolicySize(json)));
    return size;
  };

  const trust = policies.find((p) => p.kind === 'trust' && sizeOf(p.json) > IAM_POLICY_LIMITS.trustPolicy);
  if (trust !== undefined) {
    const size = sizeOf(trust.json);
    const measured = config.externalId === undefined ? ` (measured with the longest External ID STS allows, ${withThousands(MAX_EXTERNAL_ID_LENGTH)} characters, as it comes from the other half's state)` : '';
    const next = config.nextExternalId;
    if (next !== undefined) {
      // During a rotation the trust accepts two External IDs; the next one is the one still to choose.
      const fits = IAM_POLICY_LIMITS.trustPolicy - (size - next.length);
      problems.push({
        path: ['nextExternalId'],
        message:
          `makes the grant roles' trust policy ${withThousands(size)} characters (without whitespace)${measured}: during the rotation it accepts both the current External ID ` +
          `(${withThousands(externalIdForSize(config).length)} characters) and this one (${withThousands(next.length)}); IAM allows ${withThousands(IAM_POLICY_LIMITS.trustPolicy)} per trust policy (the default quota): ` +
          (fits >= 2 ? `choose a nextExternalId of at most ${withThousands(fits)} characters` : "no nextExternalId fits beside the current External ID: shorten the host role's path"),
      });
    } else {
      problems.push({
        path: config.externalId === undefined ? ('arn' in config.hostRole ? ['hostRole', 'arn'] : ['otherHalfState']) : ['externalId'],
        message:
          `makes the grant roles' trust policy ${withThousands(size)} characters (without whitespace)${measured}; IAM allows ${withThousands(IAM_POLICY_LIMITS.trustPolicy)} per trust policy (the default quota): ` +
          `shorten the External ID (${withThousands(externalIdForSize(config).length)} characters) or the host role's path`,
      });
    }
  }

  const inlineByRole = new Map<string, number>();
  for (const p of policies) if (p.kind === 'inline') inlineByRole.set(p.owner, (inlineByRole.get(p.owner) ?? 0) + sizeOf(p.json));
  for (const [role, size] of inlineByRole) {
    if (size <= IAM_POLICY_LIMITS.inlinePoliciesPerRole) continue;
    if (setsHostRolePolicy(config) && role === hostRoleName(config)) {
      const existing = 'existingRoleName' in config.hostRole ? ' (plus any inline policies the existing role has already)' : '';
      problems.push({
        path: ['grants'],
        message:
          `${withThousands(config.grants.length)} grants make the transfer host role ${JSON.stringify(role)}'s inline policy ${withThousands(size)} characters (without whitespace)${existing}; ` +
          `IAM allows ${withThousands(IAM_POLICY_LIMITS.inlinePoliciesPerRole)} for all inline policies of one role together: ` +
          `${withThousands(grantsThatFit(config, IAM_POLICY_LIMITS.inlinePoliciesPerRole))} of these grants fit; use fewer grants or shorter role names ("roleName", "stackName")` +
          (config.hostPolicy === 'exact-roles'
            ? `, or set "hostPolicy": "role-path" (grant roles under the IAM path ${grantRolePathOf({ ...config, hostPolicy: 'role-path' })}, a host policy of constant size; on an applied stack this replaces every grant role)`
            : ''),
      });
    } else {
      const index = config.grants.findIndex((g) => grantRoleName(config, g) === role);
      problems.push({
        path: ['grants', index, 'prefix'],
        message: `makes the inline policy of grant role ${JSON.stringify(role)} ${withThousands(size)} characters (without whitespace); IAM allows ${withThousands(IAM_POLICY_LIMITS.inlinePoliciesPerRole)}: use a shorter prefix`,
      });
    }
  }

  for (const p of policies) {
    if (p.kind !== 'key') continue;
    const bytes = keyPolicyBytes(JSON.parse(p.json));
    if (bytes <= KMS_KEY_POLICY_MAX_BYTES) continue;
    const index = config.buckets.findIndex((b) => b.name === p.owner);
    const onKey = config.grants.filter((g) => g.bucket === p.owner).length;
    problems.push({
      path: ['buckets', index, 'encryption'],
      message:
        `makes the policy of the KMS key this stack creates for ${JSON.stringify(p.owner)} ${withThousands(bytes)} bytes: it names each of the ${withThousands(onKey)} grant roles on the bucket, and KMS allows ${withThousands(KMS_KEY_POLICY_MAX_BYTES)} bytes per key policy. ` +
        `Set "hostPolicy": "role-path" (the key policy then names the roles' IAM path ${grantRolePathOf({ ...config, hostPolicy: 'role-path' })}, a constant size; on an applied stack this replaces every grant role), ` +
        'or name a key whose policy you manage in "kmsKeyArn", or spread the grants over more buckets',
    });
  }

  for (const p of policies) {
    if (p.kind !== 'managed' || sizeOf(p.json) <= IAM_POLICY_LIMITS.managedPolicy) continue;
    problems.push({
      path: ['grants'],
      message: `make the managed policy ${JSON.stringify(p.owner)} ${withThousands(sizeOf(p.json))} characters (without whitespace); IAM allows ${withThousands(IAM_POLICY_LIMITS.managedPolicy)} per managed policy: use fewer grants`,
    });
  }
  return problems;
}

/** IAM's roles per account: 1,000 by default, raised on request up to 5,000 (the schema's grant limit). */
export const DEFAULT_ROLES_PER_ACCOUNT = IAM_QUOTAS.rolesPerAccount;
export const MAX_ROLES_PER_ACCOUNT = IAM_QUOTAS.rolesPerAccountMax;

/** Roles this stack creates in My Account: one per grant, in the halves that create grant roles. */
export const grantRolesCreated = (config: Config): number => (createsGrantRoles(config) ? config.grants.length : 0);

/**
 * What the review must tell the account owner before apply when the grant roles alone exceed the
 * default quota of roles per account (a config above the hard maximum is refused by the schema),
 * or undefined. Roles the account has already count too, so the raise must cover those as well.
 */
export function roleQuotaNotice(config: Config): string | undefined {
  const roles = grantRolesCreated(config);
  if (roles <= DEFAULT_ROLES_PER_ACCOUNT) return undefined;
  return (
    `This stack creates ${withThousands(roles)} IAM roles in My Account (${config.myAccount.accountId}), one per grant; the default quota is ${withThousands(DEFAULT_ROLES_PER_ACCOUNT)} roles per account. ` +
    `Before apply, the account needs a raised "Roles per account" quota (IAM, in Service Quotas; at most ${withThousands(MAX_ROLES_PER_ACCOUNT)}) that also covers the roles it already has, or the apply stops at the first role over the quota.`
  );
}
