/**
 * What the transfer host role (Other Account) may do: assume exactly this stack's grant roles.
 * Without this identity policy the trust policies alone do not let the host in: cross-account
 * AssumeRole needs both sides to allow it.
 */
import type { Config } from '../config/schema';
import { grantRoleArn } from './arns';
import { policyDocument, type PolicyDocument } from './policy-document';

export function hostAssumeGrantRolesPolicy(config: Config): PolicyDocument {
  return policyDocument({
    Sid: 'AssumeAsperaGrantRoles',
    Effect: 'Allow',
    Action: ['sts:AssumeRole'],
    Resource: config.grants.map((grant) => grantRoleArn(config, grant)),
  });
}
