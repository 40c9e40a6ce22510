/**
 * Mode "bucket-owner": My Account's half, applied by the bucket owner with credentials for My
 * Account only. The aws.other_account provider is not configured at all, and no Aspera host is
 * touched (that is the operator's half).
 *
 * Inputs from the operator: the host role (hostRole: its name in otherAccount, or its full ARN,
 * which may have a path) and the External ID. The External ID comes from the config
 * ("externalId") or, with "otherHalfState", from the transfer-host half's published outputs, read
 * at plan time: the trust policies in cdk.tf.json then hold the reference
 * "${data.terraform_remote_state.transfer_host_half.outputs.external_id}" and `cdktf plan` shows the
 * value. The host role is never taken from the other half: the config names it and the plan fails
 * if the operator's half runs another one (src/exchange/contract.ts, transferHostHalfChecks).
 *
 * Order: the grant roles trust Other Account's root narrowed by aws:PrincipalArn and the External
 * ID, so they can be created before the host role exists (IAM checks neither condition value).
 */
import { type TerraformStack, TerraformOutput } from 'cdktf';
import type { Config } from '../config/schema';
import { AsperaHostConfiguration } from '../constructs/aspera-hosts';
import { BucketOwnerAccess } from '../constructs/bucket-owner-access';
import { BUCKET_OWNER_OUTPUTS, publishedGrants, sha256Hex, TRANSFER_HOST_OUTPUTS, transferHostHalfChecks } from '../exchange/contract';
import { readOtherHalf } from '../exchange/remote-state';
import { grantRoleArn, grantRolePathOf, hostRoleArn } from '../iam/arns';
import { awsProviderFor, MY_ACCOUNT_ALIAS } from '../providers';
import { externalIdSource } from './half-ownership';

/** Construct id of the operator's state as read here: data.terraform_remote_state.transfer_host_half. */
export const TRANSFER_HOST_HALF_ID = 'transfer_host_half';

export interface BucketOwnerHalf {
  readonly access: BucketOwnerAccess;
  /** The External ID the trust policies require: the config's, or a reference into the other half's state. */
  readonly externalId: string;
}

export function composeBucketOwnerHalf(stack: TerraformStack, config: Config): BucketOwnerHalf {
  const myAccount = awsProviderFor(stack, MY_ACCOUNT_ALIAS, config.myAccount, config.stackName);

  let externalId = config.externalId;
  let externalIdSha256: string = sha256Hex(config.externalId);
  const source = externalIdSource(config);
  if (source.kind === 'other-half-state') {
    const transferHostHalf = readOtherHalf(stack, TRANSFER_HOST_HALF_ID, {
      state: source.state,
      outputs: TRANSFER_HOST_OUTPUTS,
      checks: transferHostHalfChecks(config, source.state),
    });
    // A plan-time value: the postcondition above has checked it is an STS External ID (so it
    // cannot break the policy JSON it is interpolated into) before any role is planned.
    externalId = transferHostHalf.getString(TRANSFER_HOST_OUTPUTS.externalId);
    externalIdSha256 = `\${sha256(data.terraform_remote_state.${TRANSFER_HOST_HALF_ID}.outputs.${TRANSFER_HOST_OUTPUTS.externalId})}`;
  }
  const access = new BucketOwnerAccess(stack, 'bucket_owner', { config: { ...config, externalId }, provider: myAccount });
  // The schema keeps asperaHosts empty in this mode, so this configures no host; like in mode
  // "both" it removes host scripts an earlier synth (e.g. in another mode) left in the stack directory.
  new AsperaHostConfiguration(stack, 'aspera_hosts', { config, dependsOn: [] });

  new TerraformOutput(stack, BUCKET_OWNER_OUTPUTS.grantRoleArns, {
    description: 'Role in My Account per Aspera transfer user (the role its docroot assumes)',
    value: Object.fromEntries(config.grants.map((grant) => [grant.transferUser, grantRoleArn(config, grant)])),
  });
  new TerraformOutput(stack, BUCKET_OWNER_OUTPUTS.grants, {
    description: 'Per Aspera transfer user: role ARN, bucket, prefix and access, as the transfer host needs them for its docroots',
    value: publishedGrants(config),
  });
  new TerraformOutput(stack, BUCKET_OWNER_OUTPUTS.trustedHostRoleArn, {
    description: 'The only role in Other Account that may assume the grant roles (with the External ID)',
    value: hostRoleArn(config),
  });
  new TerraformOutput(stack, BUCKET_OWNER_OUTPUTS.accountId, {
    description: 'My Account: the bucket owner',
    value: config.myAccount.accountId,
  });
  new TerraformOutput(stack, BUCKET_OWNER_OUTPUTS.externalIdSha256, {
    description: 'SHA-256 of the External ID the grant roles require, so the operator can check theirs without it being sent back',
    value: externalIdSha256,
  });
  new TerraformOutput(stack, BUCKET_OWNER_OUTPUTS.grantRolePath, {
    description: 'IAM path of the grant roles ("/" unless "hostPolicy" is "role-path"); the operator\'s half must use the same',
    value: grantRolePathOf(config),
  });
  return { access, externalId };
}
