/**
 * What each mode creates: one body, the two halves as flags on it (src/modes/mode.ts), as
 * terraform-aws-modules do with `count = var.create && ...`. Mode "both" is exactly the union of
 * the two halves; construct ids are the same whichever halves apply, so no Terraform address
 * depends on the mode.
 *
 *  bucket owner's half (appliesBucketOwnerHalf: modes "both" and "bucket-owner"), in My Account:
 *    - the aws.my_account provider
 *    - bucket_owner (src/constructs/bucket-owner-access.ts): the buckets marked "create", hardened,
 *      and one grant role with its inline S3 policy per grant (as src/iam/roles.ts decides them)
 *    - in mode "bucket-owner" with "otherHalfState": data.terraform_remote_state.transfer_host_half,
 *      the operator's External ID read at plan time (src/modes/external-id.ts) and checked
 *      (src/exchange/contract.ts, transferHostHalfChecks)
 *  transfer host's half (appliesTransferHostHalf: modes "both" and "transfer-host"), in Other Account:
 *    - the aws.other_account provider
 *    - transfer_host (src/constructs/transfer-host-access.ts): the host role and its instance
 *      profile (or an existing role), and its policy that may assume the grant roles (roles.ts too)
 *    - in mode "transfer-host" without "externalId": random_id.external_id, the generated External ID
 *      (kept while "nextExternalId" rotates away from it: src/modes/external-id.ts)
 *    - in mode "transfer-host" with "otherHalfState": data.terraform_remote_state.bucket_owner_half,
 *      the bucket owner's outputs checked against this config (bucketOwnerHalfChecks)
 *  the host configuration, wired once by src/stack.ts: the SSH hosts (aspera_hosts) and, with the
 *    transfer host's half, the SSM fleets (aspera_fleets), waiting for every resource of the halves
 *    this stack applies
 *  outputs (publishOutputs below): every output of the halves this stack applies, except those that
 *    only the other half's stack reads (EXCHANGE): mode "both" has no other half to read them.
 */
import { Bytes as RandomBytes } from '@cdktf/provider-random/lib/bytes';
import { Id as RandomId } from '@cdktf/provider-random/lib/id';
import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { type ITerraformDependable, type TerraformStack, TerraformOutput } from 'cdktf';
import type { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import type { Config } from '../config/schema';
import { BucketOwnerAccess } from '../constructs/bucket-owner-access';
import { TransferHostAccess } from '../constructs/transfer-host-access';
import { BUCKET_OWNER_OUTPUTS, bucketOwnerHalfChecks, publishedGrants, TRANSFER_HOST_OUTPUTS, transferHostHalfChecks } from '../exchange/contract';
import { readOtherHalf } from '../exchange/remote-state';
import { ACCESS_KEY_SEED_BYTES, ACCESS_KEY_SEED_ID, accessKeysFacts, accessKeySecretsExpression, hasAccessKeys, installsDocroot } from '../aspera/access-key';
import { grantRoleArn, grantRolePathOf, hostRoleArn } from '../iam/arns';
import { grantRoles, hostRoleAccess } from '../iam/roles';
import { createdBuckets } from '../s3/bucket-policy';
import { awsProviderFor, MY_ACCOUNT_ALIAS, OTHER_ACCOUNT_ALIAS } from '../providers';
import { ExternalIds, GENERATED_EXTERNAL_ID_BYTES, GENERATED_EXTERNAL_ID_ID, type PlanTimeExternalId, TRANSFER_HOST_HALF_ID } from './external-id';
import { appliesBucketOwnerHalf, appliesTransferHostHalf } from './mode';

export { GENERATED_EXTERNAL_ID_BYTES, GENERATED_EXTERNAL_ID_ID, TRANSFER_HOST_HALF_ID } from './external-id';

/** Construct id of the bucket owner's state as the operator reads it: data.terraform_remote_state.bucket_owner_half. */
export const BUCKET_OWNER_HALF_ID = 'bucket_owner_half';

/** The halves one stack applies, as composed. */
export interface Halves {
  /** What the trust accepts and what the hosts present (src/modes/external-id.ts). */
  readonly externalIds: ExternalIds;
  readonly bucketOwner?: { readonly provider: AwsProvider; readonly access: BucketOwnerAccess };
  readonly transferHost?: { readonly provider: AwsProvider; readonly access: TransferHostAccess };
  /** What a docroot needs before it is installed: the bucket owner's resources here, and the host's policy. */
  readonly docrootsWaitFor: ITerraformDependable[];
  /** With the transfer host's half, when a grant is installed as a Node API access key: the seed of the keys' secrets. */
  readonly accessKeySeed?: PlanTimeExternalId;
}

/** The seed of the access key secrets, as the host constructs splice it and the outputs derive from it. */
const ACCESS_KEY_SEED: PlanTimeExternalId = { reference: `random_bytes.${ACCESS_KEY_SEED_ID}.hex`, hexDigits: 2 * ACCESS_KEY_SEED_BYTES };

export function composeHalves(stack: TerraformStack, config: Config): Halves {
  const bucketOwnerHalf = appliesBucketOwnerHalf(config.mode);
  const transferHostHalf = appliesTransferHostHalf(config.mode);
  const myAccount = bucketOwnerHalf ? awsProviderFor(stack, MY_ACCOUNT_ALIAS, config.myAccount, config.stackName) : undefined;
  const otherAccount = transferHostHalf ? awsProviderFor(stack, OTHER_ACCOUNT_ALIAS, config.otherAccount, config.stackName) : undefined;

  const externalIds = ExternalIds.of(config);
  const source = externalIds.current.source;
  if (source.kind === 'other-half-state') {
    // The postcondition checks the value is an STS External ID (so it cannot break the policy JSON
    // it is interpolated into) before any role is planned.
    readOtherHalf(stack, TRANSFER_HOST_HALF_ID, { state: source.state, outputs: TRANSFER_HOST_OUTPUTS, checks: transferHostHalfChecks(config, source.state) });
  }
  const accessKeySeed = transferHostHalf && hasAccessKeys(config) ? ACCESS_KEY_SEED : undefined;
  if (externalIds.generates || accessKeySeed !== undefined) new RandomProvider(stack, 'random');
  if (accessKeySeed !== undefined) {
    // Generated once, kept in state; the host scripts derive each key's secret from it
    // (src/aspera/access-key.ts). Replacing it (apply -replace) gives every key a new secret.
    // random_bytes, not random_id: its value is sensitive, and its id is not the value.
    new RandomBytes(stack, 'access_key_secret_seed', { length: ACCESS_KEY_SEED_BYTES }).overrideLogicalId(ACCESS_KEY_SEED_ID);
  }
  if (externalIds.generates) {
    // No keepers: the value never changes on its own. Replacing it would cut every host off until
    // the bucket owner's trust requires the new value; rotate with "nextExternalId" instead (see
    // src/modes/external-id.ts): the bucket owner accepts both, the hosts move to the next one, and
    // "externalId" set to it (the promotion) deletes this resource.
    // (The construct id differs from the Terraform name: the output "external_id" has that id.)
    const generated = new RandomId(stack, 'generated_external_id', { byteLength: GENERATED_EXTERNAL_ID_BYTES });
    generated.overrideLogicalId(GENERATED_EXTERNAL_ID_ID);
  }
  const policyConfig = externalIds.inPolicy(config);

  const bucketOwner = myAccount && {
    provider: myAccount,
    access: new BucketOwnerAccess(stack, 'bucket_owner', { provider: myAccount, createdBuckets: createdBuckets(config), grantRoles: grantRoles(policyConfig) }),
  };
  const transferHost = otherAccount && {
    provider: otherAccount,
    access: new TransferHostAccess(stack, 'transfer_host', { provider: otherAccount, access: hostRoleAccess(policyConfig) }),
  };

  if (transferHost !== undefined && bucketOwner === undefined && config.otherHalfState !== undefined) {
    readOtherHalf(stack, BUCKET_OWNER_HALF_ID, {
      state: config.otherHalfState,
      outputs: BUCKET_OWNER_OUTPUTS,
      checks: bucketOwnerHalfChecks(config, config.otherHalfState, { sha256Expression: externalIds.presented.sha256Expression, by: externalIds.presentedBy }),
    });
  }

  // A docroot only works once its bucket is hardened, its role and policy exist and the host may
  // assume it. In mode "transfer-host" the bucket owner's resources are in another state: the
  // docroots work from the moment the bucket owner has applied its half.
  const docrootsWaitFor = [...(bucketOwner?.access.dependables ?? []), ...(transferHost !== undefined ? [transferHost.access.assumeGrantRolesPolicy] : [])];
  return { externalIds, ...(bucketOwner && { bucketOwner }), ...(transferHost && { transferHost }), docrootsWaitFor, ...(accessKeySeed && { accessKeySeed }) };
}

/** One Terraform output of a half. */
interface HalfOutput {
  readonly name: string;
  readonly description: string;
  /** The description when the other half is another party's (the output is then sent to them). */
  readonly descriptionForOtherParty?: string;
  readonly value: unknown;
  readonly sensitive?: true;
  /** Only the other half's stack reads it (src/exchange/contract.ts): not published in mode "both". */
  readonly exchange?: true;
}

/** The outputs of the bucket owner's half. */
function bucketOwnerOutputs(config: Config, externalIds: ExternalIds): HalfOutput[] {
  return [
    {
      name: BUCKET_OWNER_OUTPUTS.grantRoleArns,
      description: 'Role in My Account per Aspera transfer user (the role its docroot assumes)',
      value: Object.fromEntries(config.grants.map((grant) => [grant.transferUser, grantRoleArn(config, grant)])),
    },
    {
      name: BUCKET_OWNER_OUTPUTS.grants,
      description: 'Per Aspera transfer user: role ARN, bucket, prefix and access, as the transfer host needs them for its docroots',
      value: publishedGrants(config),
      exchange: true,
    },
    {
      name: BUCKET_OWNER_OUTPUTS.trustedHostRoleArn,
      description: 'The only role in Other Account that may assume the grant roles (with the External ID)',
      value: hostRoleArn(config),
      exchange: true,
    },
    { name: BUCKET_OWNER_OUTPUTS.accountId, description: 'My Account: the bucket owner', value: config.myAccount.accountId, exchange: true },
    {
      name: BUCKET_OWNER_OUTPUTS.externalIdSha256,
      description: 'SHA-256 of the External ID the grant roles require ("externalId", or the one read from the operator\'s state), so the operator can check theirs without it being sent back',
      value: externalIds.current.sha256InTerraform,
      exchange: true,
    },
    {
      name: BUCKET_OWNER_OUTPUTS.externalIdSha256s,
      description: 'SHA-256 of every External ID the grant roles accept: the current one and, during a rotation, "nextExternalId"',
      value: externalIds.accepted.map((id) => id.sha256InTerraform),
      exchange: true,
    },
    {
      name: BUCKET_OWNER_OUTPUTS.grantRolePath,
      description: 'IAM path of the grant roles ("/" unless "hostPolicy" is "role-path"); the operator\'s half must use the same',
      value: grantRolePathOf(config),
      exchange: true,
    },
  ];
}

/** The access keys' outputs: what each key is (for the review and Faspex / AoC registration), and their secrets. */
function accessKeyOutputs(config: Config, seed: PlanTimeExternalId): HalfOutput[] {
  const keys = accessKeysFacts(config);
  return [
    {
      name: 'access_keys',
      description: 'Node API access key per id, as created on every Aspera host: the transfer user whose grant it carries, bucket, path and the role it assumes with the External ID',
      value: Object.fromEntries(keys.map((k) => [k.id, { transfer_user: k.transferUser, bucket: k.bucket, path: k.path, role_arn: k.roleArn }])),
    },
    {
      name: 'access_key_secrets',
      description: 'Secret of each Node API access key, by id: what registering the node in Faspex 5, Aspera on Cloud or Shares asks for (terraform output -json access_key_secrets)',
      value: accessKeySecretsExpression(keys.map((k) => k.id), seed.reference),
      sensitive: true,
    },
  ];
}

/** The outputs of the transfer host's half. */
function transferHostOutputs(config: Config, externalIds: ExternalIds, access: TransferHostAccess, accessKeySeed?: PlanTimeExternalId): HalfOutput[] {
  const presented = externalIds.presented;
  return [
    ...(accessKeySeed !== undefined ? accessKeyOutputs(config, accessKeySeed) : []),
    {
      name: TRANSFER_HOST_OUTPUTS.hostRoleArn,
      description: 'Role in Other Account that the Aspera instance runs with and that may assume the grant roles',
      descriptionForOtherParty: 'Role in Other Account that the Aspera instance runs with; the bucket owner trusts it (send it to them)',
      value: hostRoleArn(config),
    },
    { name: TRANSFER_HOST_OUTPUTS.accountId, description: 'Other Account: the transfer host owner', value: config.otherAccount.accountId, exchange: true },
    ...(access.instanceProfile !== undefined
      ? [{ name: TRANSFER_HOST_OUTPUTS.instanceProfileName, description: 'Instance profile to attach to the Aspera EC2 instance in Other Account', value: access.instanceProfile.name }]
      : []),
    {
      name: TRANSFER_HOST_OUTPUTS.docroots,
      description: 'S3 docroot per Aspera transfer user, as installed in aspera.conf',
      // Grants installed as access keys only have no docroot.
      value: Object.fromEntries(config.grants.filter(installsDocroot).map((grant) => [grant.transferUser, presented.docroot(config, grant)])),
      // The default docroot carries the External ID, so it is as sensitive as external_id.
      sensitive: true,
    },
    {
      name: TRANSFER_HOST_OUTPUTS.externalId,
      description: 'External ID the transfer host presents when it assumes a grant role',
      descriptionForOtherParty: 'External ID the transfer host presents when it assumes a grant role (send it to the bucket owner)',
      value: presented.inTerraform,
      // Not an AWS secret, but it is the confused-deputy guard: keep it out of logs and plan output.
      sensitive: true,
    },
    {
      name: TRANSFER_HOST_OUTPUTS.grantRolePath,
      description: 'IAM path under which this half expects the grant roles ("/" unless "hostPolicy" is "role-path"); the bucket owner\'s half must use the same',
      value: grantRolePathOf(config),
      exchange: true,
    },
  ];
}

/** Publishes the outputs of the halves this stack applies (see the header). */
export function publishOutputs(stack: TerraformStack, config: Config, halves: Halves): void {
  const both = halves.bucketOwner !== undefined && halves.transferHost !== undefined;
  const outputs = [
    ...(halves.bucketOwner !== undefined ? bucketOwnerOutputs(config, halves.externalIds) : []),
    ...(halves.transferHost !== undefined ? transferHostOutputs(config, halves.externalIds, halves.transferHost.access, halves.accessKeySeed) : []),
  ];
  for (const output of outputs) {
    if (both && output.exchange) continue;
    new TerraformOutput(stack, output.name, {
      description: both ? output.description : (output.descriptionForOtherParty ?? output.description),
      value: output.value,
      ...(output.sensitive ? { sensitive: true } : {}),
    });
  }
}
