/**
 * Mode "transfer-host": Other Account's half, applied by the Aspera operator with credentials for
 * Other Account only. The aws.my_account provider is not configured at all.
 *
 * Inputs from the bucket owner are plain config: myAccount.accountId and the grants (transfer
 * user, bucket, prefix, access, and the role's name or ARN). Every grant role ARN is derived from
 * them at synth time, because the docroots installed on the Aspera host are rendered into scripts
 * at synth time and must name the same roles as the host's policy. With "otherHalfState" the plan
 * additionally reads the bucket owner's published outputs and fails if they contradict this config
 * (src/exchange/contract.ts, bucketOwnerHalfChecks).
 *
 * The External ID is chosen here, by the party that assumes the roles (as AWS recommends):
 * "externalId" from the config, or, when the config leaves it out, a random one generated once at
 * apply time and kept in this half's state (random_id, 128 bits, hex: safe as is in a URL, a shell
 * word, XML and an IAM policy). It is published as the sensitive output "external_id".
 */
import { Id as RandomId } from '@cdktf/provider-random/lib/id';
import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { type TerraformStack, TerraformOutput } from 'cdktf';
import { grantDocroot } from '../aspera/docroot';
import type { Config } from '../config/schema';
import { AsperaFleetConfiguration, FLEETS_CONSTRUCT_ID } from '../constructs/aspera-fleets';
import { AsperaHostConfiguration } from '../constructs/aspera-hosts';
import { TransferHostAccess } from '../constructs/transfer-host-access';
import { BUCKET_OWNER_OUTPUTS, bucketOwnerHalfChecks, sha256Hex, TRANSFER_HOST_OUTPUTS } from '../exchange/contract';
import { hclString } from '../exchange/hcl';
import { readOtherHalf } from '../exchange/remote-state';
import { grantRolePathOf, hostRoleArn, hostRoleName } from '../iam/arns';
import { awsProviderFor, OTHER_ACCOUNT_ALIAS } from '../providers';

/** Size of a generated External ID: 16 random bytes, 32 hex characters. */
export const GENERATED_EXTERNAL_ID_BYTES = 16;

/** Terraform name of the generated External ID: random_id.external_id. */
export const GENERATED_EXTERNAL_ID_ID = 'external_id';

/** Construct id of the bucket owner's state as read here: data.terraform_remote_state.bucket_owner_half. */
export const BUCKET_OWNER_HALF_ID = 'bucket_owner_half';

/** True when this half generates the External ID (the config leaves "externalId" out). */
export const generatesExternalId = (config: Config): boolean => config.externalId === '';

/**
 * The docroot of a grant whose External ID is only known at plan time (`externalId` is a Terraform
 * reference to a hex value). The docroot is rendered with a marker in place of the External ID,
 * then the marker is replaced by the reference: hex needs no URL encoding, so the result is what
 * grantDocroot would render with the concrete value.
 */
export function docrootWithPlanTimeExternalId(config: Config, grant: Config['grants'][number], externalId: string): string {
  const marker = 'EXTERNALIDPLACEHOLDER0';
  // Letters and digits only, so encoding leaves it as is; refuse a config that contains it already.
  if (grantDocroot({ ...config, externalId: '' }, grant).includes(marker)) throw new Error(`the docroot of ${grant.transferUser} contains ${marker}`);
  const rendered = grantDocroot({ ...config, externalId: marker }, grant);
  return rendered.split(marker).join(externalId);
}

export interface TransferHostHalf {
  readonly access: TransferHostAccess;
  /** The External ID as used in this stack: the config's, or a reference to the generated one. */
  readonly externalId: string;
}

export function composeTransferHostHalf(stack: TerraformStack, config: Config): TransferHostHalf {
  const otherAccount = awsProviderFor(stack, OTHER_ACCOUNT_ALIAS, config.otherAccount, config.stackName);

  let externalId = config.externalId;
  let externalIdSha256 = hclString(sha256Hex(config.externalId));
  if (generatesExternalId(config)) {
    new RandomProvider(stack, 'random');
    // No keepers: the value never changes on its own. Rotate with `terraform apply
    // -replace=random_id.external_id` in the synthesized stack, then send the new value over.
    // (The construct id differs from the Terraform name: the output "external_id" has that id.)
    const generated = new RandomId(stack, 'generated_external_id', { byteLength: GENERATED_EXTERNAL_ID_BYTES });
    generated.overrideLogicalId(GENERATED_EXTERNAL_ID_ID);
    externalId = generated.hex;
    // A plain expression (not a cdktf token): it goes inside the "${...}" of a condition.
    externalIdSha256 = `sha256(random_id.${GENERATED_EXTERNAL_ID_ID}.hex)`;
  }
  const resolved: Config = { ...config, externalId };

  const access = new TransferHostAccess(stack, 'transfer_host', { config: resolved, provider: otherAccount });

  if (config.otherHalfState !== undefined) {
    readOtherHalf(stack, BUCKET_OWNER_HALF_ID, {
      state: config.otherHalfState,
      outputs: BUCKET_OWNER_OUTPUTS,
      checks: bucketOwnerHalfChecks(config, config.otherHalfState, externalIdSha256),
    });
  }

  // The bucket owner's roles are in another state: nothing here can wait for them. The docroots
  // work from the moment the bucket owner has applied its half. (Constructed without hosts too,
  // as in mode "both": it removes scripts an earlier synth left in the stack directory.) A
  // generated External ID reaches the hosts' docroots as a plan-time value.
  const planTimeExternalId = generatesExternalId(config) ? { planTimeExternalId: { reference: `random_id.${GENERATED_EXTERNAL_ID_ID}.hex`, hexDigits: 2 * GENERATED_EXTERNAL_ID_BYTES } } : {};
  new AsperaHostConfiguration(stack, 'aspera_hosts', {
    config: resolved,
    dependsOn: [access.assumeGrantRolesPolicy],
    ...planTimeExternalId,
  });
  new AsperaFleetConfiguration(stack, FLEETS_CONSTRUCT_ID, {
    config: resolved,
    provider: otherAccount,
    ...(access.role !== undefined ? { createdHostRoleName: access.role.name } : {}),
    hostRoleName: hostRoleName(config),
    dependsOn: [access.assumeGrantRolesPolicy],
    ...planTimeExternalId,
  });

  new TerraformOutput(stack, TRANSFER_HOST_OUTPUTS.hostRoleArn, {
    description: 'Role in Other Account that the Aspera instance runs with; the bucket owner trusts it (send it to them)',
    value: hostRoleArn(config),
  });
  new TerraformOutput(stack, TRANSFER_HOST_OUTPUTS.accountId, {
    description: 'Other Account: the transfer host owner',
    value: config.otherAccount.accountId,
  });
  if (access.instanceProfile !== undefined) {
    new TerraformOutput(stack, TRANSFER_HOST_OUTPUTS.instanceProfileName, {
      description: 'Instance profile to attach to the Aspera EC2 instance in Other Account',
      value: access.instanceProfile.name,
    });
  }
  new TerraformOutput(stack, TRANSFER_HOST_OUTPUTS.docroots, {
    description: 'S3 docroot per Aspera transfer user, as installed in aspera.conf',
    value: Object.fromEntries(
      config.grants.map((grant) => [
        grant.transferUser,
        generatesExternalId(config) ? docrootWithPlanTimeExternalId(config, grant, externalId) : grantDocroot(config, grant),
      ]),
    ),
    sensitive: true,
  });
  new TerraformOutput(stack, TRANSFER_HOST_OUTPUTS.externalId, {
    description: 'External ID the transfer host presents when it assumes a grant role (send it to the bucket owner)',
    value: externalId,
    // Not an AWS secret, but it is the confused-deputy guard: keep it out of logs and plan output.
    sensitive: true,
  });
  new TerraformOutput(stack, TRANSFER_HOST_OUTPUTS.grantRolePath, {
    description: 'IAM path under which this half expects the grant roles ("/" unless "hostPolicy" is "role-path"); the bucket owner\'s half must use the same',
    value: grantRolePathOf(config),
  });
  return { access, externalId };
}
