/**
 * The cross-account setup as one Terraform stack. This file only composes: every decision
 * (policies, names, docroots, scripts) is made by the pure functions the constructs call.
 *
 * config.mode picks what this stack applies (src/modes/mode.ts): "both" (the default) is the whole
 * setup with both accounts' providers; "bucket-owner" and "transfer-host" are the two halves that
 * two organizations apply separately, each with its own account's provider only.
 */
import { type ITerraformDependable, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { grantDocroot } from './aspera/docroot';
import type { Config } from './config/schema';
import { AsperaFleetConfiguration, FLEETS_CONSTRUCT_ID } from './constructs/aspera-fleets';
import { AsperaHostConfiguration } from './constructs/aspera-hosts';
import { BucketOwnerAccess } from './constructs/bucket-owner-access';
import { TransferHostAccess } from './constructs/transfer-host-access';
import { grantRoleArn, hostRoleArn, hostRoleName } from './iam/arns';
import { composeBucketOwnerHalf } from './modes/bucket-owner-half';
import { composeTransferHostHalf } from './modes/transfer-host-half';
import { awsProviderFor, MY_ACCOUNT_ALIAS, OTHER_ACCOUNT_ALIAS } from './providers';
import { configureStateBackend } from './state-backend';

export class AsperaCrossAccountStack extends TerraformStack {
  /** What the Aspera host configuration waits for (kept for review and tests). */
  readonly asperaHostDependencies: ITerraformDependable[];

  constructor(scope: Construct, id: string, config: Config) {
    super(scope, id);
    configureStateBackend(this, config.state);
    if (config.mode === 'bucket-owner') {
      composeBucketOwnerHalf(this, config);
      this.asperaHostDependencies = [];
      return;
    }
    if (config.mode === 'transfer-host') {
      const half = composeTransferHostHalf(this, config);
      this.asperaHostDependencies = config.asperaHosts.length > 0 ? [half.access.assumeGrantRolesPolicy] : [];
      return;
    }

    const myAccount = awsProviderFor(this, MY_ACCOUNT_ALIAS, config.myAccount, config.stackName);
    const otherAccount = awsProviderFor(this, OTHER_ACCOUNT_ALIAS, config.otherAccount, config.stackName);

    const bucketOwner = new BucketOwnerAccess(this, 'bucket_owner', { config, provider: myAccount });
    const transferHost = new TransferHostAccess(this, 'transfer_host', { config, provider: otherAccount });

    // A docroot only works once its bucket is hardened, its role and policy exist and the host
    // may assume it; installing it earlier would hand the transfer users a failing docroot.
    this.asperaHostDependencies = [...bucketOwner.dependables, transferHost.assumeGrantRolesPolicy];
    new AsperaHostConfiguration(this, 'aspera_hosts', { config, dependsOn: this.asperaHostDependencies });
    new AsperaFleetConfiguration(this, FLEETS_CONSTRUCT_ID, {
      config,
      provider: otherAccount,
      ...(transferHost.role !== undefined ? { createdHostRoleName: transferHost.role.name } : {}),
      hostRoleName: hostRoleName(config),
      dependsOn: this.asperaHostDependencies,
    });

    const byTransferUser = (value: (grant: Config['grants'][number]) => string): Record<string, string> =>
      Object.fromEntries(config.grants.map((grant) => [grant.transferUser, value(grant)]));

    new TerraformOutput(this, 'grant_role_arns', {
      description: 'Role in My Account per Aspera transfer user (the role its docroot assumes)',
      value: byTransferUser((grant) => grantRoleArn(config, grant)),
    });
    new TerraformOutput(this, 'docroots', {
      description: 'S3 docroot per Aspera transfer user, as installed in aspera.conf',
      value: byTransferUser((grant) => grantDocroot(config, grant)),
      // The default docroot carries the External ID, so it is as sensitive as external_id below.
      sensitive: true,
    });
    new TerraformOutput(this, 'transfer_host_role_arn', {
      description: 'Role in Other Account that the Aspera instance runs with and that may assume the grant roles',
      value: hostRoleArn(config),
    });
    if (transferHost.instanceProfile !== undefined) {
      new TerraformOutput(this, 'instance_profile_name', {
        description: 'Instance profile to attach to the Aspera EC2 instance in Other Account',
        value: transferHost.instanceProfile.name,
      });
    }
    new TerraformOutput(this, 'external_id', {
      description: 'External ID the transfer host presents when it assumes a grant role',
      value: config.externalId,
      // Not an AWS secret, but it is the confused-deputy guard: keep it out of logs and plan output.
      sensitive: true,
    });
  }
}
