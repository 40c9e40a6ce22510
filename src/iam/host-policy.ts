/**
 * What the transfer host role (Other Account) may do: assume this stack's grant roles. This file
 * decides that policy, in one of two forms (config "hostPolicy"):
 *
 *  - "exact-roles" (the default): the policy lists every grant role ARN. The host may try exactly
 *    these roles. It grows by one ARN per grant, and IAM allows 10,240 characters of inline policy
 *    per role in total: 160 grants with the example config's role names, about 100 with 64-character ones.
 *  - "role-path": the grant roles live under an IAM path that belongs to this stack,
 *    /aspera/<stackName>/, and the policy allows sts:AssumeRole on every role under it
 *    (arn:...:role/aspera/<stackName>/*). Its size does not depend on the number of grants.
 *
 * The path form widens what the host may *try*, never what it *gets*: AssumeRole across accounts
 * needs both this policy and the role's trust policy, and every grant role trusts only the host
 * role (aws:PrincipalArn) with the External ID (src/iam/trust-policy.ts). A role under the path
 * that does not trust the host stays closed to it; a role outside the path is not allowed at all.
 *
 * Without this identity policy the trust policies alone do not let the host in: cross-account
 * AssumeRole needs both sides to allow it.
 */
import type { Config } from '../config/schema';
import { grantRoleArn, grantRolePathOf, iamRoleArn, partitionOfConfig } from './arns';
import { policyDocument, type PolicyDocument } from './policy-document';

// The forms are config vocabulary (src/config/fields.ts); re-exported for the policy's readers.
export { DEFAULT_HOST_POLICY_FORM, HOST_POLICY_FORMS, type HostPolicyForm } from '../config/schema';

/** The config fields the host policy depends on. */
type HostPolicyConfig = Pick<Config, 'hostPolicy' | 'stackName' | 'myAccount' | 'grants'>;

/** The ARN pattern of every role under this stack's grant-role path: arn:aws:iam::111111111111:role/aspera/<stackName>/* */
export const grantRolePathPattern = (config: HostPolicyConfig): string =>
  iamRoleArn(partitionOfConfig(config), config.myAccount.accountId, '*', grantRolePathOf(config));

/** The role ARNs (or, in the path form, the one ARN pattern) the host role may assume. */
export const hostAssumableRoles = (config: HostPolicyConfig): string[] =>
  config.hostPolicy === 'role-path' ? [grantRolePathPattern(config)] : config.grants.map((grant) => grantRoleArn(config, grant));

export function hostAssumeGrantRolesPolicy(config: HostPolicyConfig): PolicyDocument {
  return policyDocument({
    Sid: 'AssumeAsperaGrantRoles',
    Effect: 'Allow',
    Action: ['sts:AssumeRole'],
    Resource: hostAssumableRoles(config),
  });
}

/**
 * Whether the host policy allows sts:AssumeRole on `roleArn`. IAM matches "*" in a resource ARN
 * against any run of characters, "/" included; the path form's single "*" comes last.
 */
export function hostMayAssume(config: HostPolicyConfig, roleArn: string): boolean {
  return hostAssumableRoles(config).some((allowed) => (allowed.endsWith('*') ? roleArn.startsWith(allowed.slice(0, -1)) : allowed === roleArn));
}

