/**
 * Who may assume which role. This file decides every trust policy the stack creates.
 *
 * Grant roles (My Account) trust the Other Account root, narrowed by two conditions:
 *  - sts:ExternalId must equal the External ID: the confused-deputy guard. A third party that
 *    also uses this Aspera operator cannot make it act on our buckets without our External ID.
 *    During a rotation ("nextExternalId") the one StringEquals key lists two values, the current
 *    External ID and the next, which IAM reads as either: hosts that present the old one and hosts
 *    that already present the new one both get in, and nobody without one of the two.
 *  - aws:PrincipalArn must equal the host role's ARN: only the transfer host's role, not any other
 *    principal the Other Account's administrators allow to call sts:AssumeRole.
 * The principal is the account root rather than the host role's ARN on purpose: IAM resolves a
 * role principal to the role's unique ID when the policy is saved, so if the host role is ever
 * deleted and recreated, a policy naming the role silently stops matching. A condition on
 * aws:PrincipalArn is compared as a string at request time and keeps working.
 */
import { type Config, externalIdValue } from '../config/schema';
import { accountRootArn, hostRoleArn, partitionOfConfig } from './arns';
import { policyDocument, type PolicyDocument } from './policy-document';

/** The External IDs the grant roles accept: "externalId", then "nextExternalId" during a rotation. */
export function acceptedExternalIds(config: Pick<Config, 'externalId' | 'nextExternalId'>): string[] {
  return [externalIdValue(config), ...(config.nextExternalId === undefined ? [] : [config.nextExternalId])];
}

export function grantRoleTrustPolicy(config: Config): PolicyDocument {
  const externalIds = acceptedExternalIds(config);
  return policyDocument({
    Sid: 'TransferHostRoleWithExternalId',
    Effect: 'Allow',
    Principal: { AWS: accountRootArn(partitionOfConfig(config), config.otherAccount.accountId) },
    Action: ['sts:AssumeRole'],
    Condition: {
      StringEquals: {
        // One value stays a string: outside a rotation the policy is what it always was.
        'sts:ExternalId': externalIds.length === 1 ? externalIds[0] : externalIds,
        'aws:PrincipalArn': hostRoleArn(config),
      },
    },
  });
}

/** The transfer host role (when this stack creates it) is an EC2 service role. */
export function hostRoleTrustPolicy(): PolicyDocument {
  return policyDocument({
    Sid: 'Ec2InstancesAssumeHostRole',
    Effect: 'Allow',
    Principal: { Service: 'ec2.amazonaws.com' },
    Action: ['sts:AssumeRole'],
  });
}
