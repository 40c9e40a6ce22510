/**
 * The cross-account setup as one Terraform stack. This file only composes: every decision
 * (policies, names, docroots, scripts) is made by the pure functions the constructs call.
 *
 * config.mode picks which halves this stack applies, and src/modes/compose.ts says what each mode
 * creates: "both" (the default) is the union of the two halves, with both accounts' providers;
 * "bucket-owner" and "transfer-host" are the halves that two organizations apply separately, each
 * with its own account's provider only. The host configuration is wired here, once, for whichever
 * halves apply.
 */
import { type ITerraformDependable, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import type { Config } from './config/schema';
import { AsperaFleetConfiguration, FLEETS_CONSTRUCT_ID } from './constructs/aspera-fleets';
import { AsperaHostConfiguration } from './constructs/aspera-hosts';
import { hostRoleName } from './iam/arns';
import { commandOutputPolicy, fleetScriptsPolicy, ssmCorePolicyArn } from './iam/fleet-policy';
import { composeHalves, publishOutputs } from './modes/compose';
import { configureStateBackend } from './state-backend';
import { hasOtherStacks } from './synth/cross-stack-preparation';

export class AsperaCrossAccountStack extends TerraformStack {
  /** What the Aspera host configuration waits for (kept for review and tests). */
  readonly asperaHostDependencies: ITerraformDependable[];

  constructor(scope: Construct, id: string, config: Config) {
    super(scope, id);
    configureStateBackend(this, config.state);
    const halves = composeHalves(this, config);
    // The hosts get the External ID they present: the next one during a rotation.
    const externalId = halves.externalIds.presented;
    this.asperaHostDependencies = halves.docrootsWaitFor;

    // Constructed in every mode, with or without hosts: it also removes the host scripts an
    // earlier synth (e.g. in another mode) left in the stack directory. The schema keeps
    // asperaHosts empty in mode "bucket-owner".
    const planTime = halves.transferHost !== undefined ? externalId.planTime : undefined;
    new AsperaHostConfiguration(this, 'aspera_hosts', {
      hosts: config.asperaHosts,
      scriptsFor: (host) => externalId.hostScripts(config, host),
      dependsOn: this.asperaHostDependencies,
      ...(planTime !== undefined ? { planTimeExternalId: planTime } : {}),
      ...(halves.accessKeySeed !== undefined ? { accessKeySeed: halves.accessKeySeed } : {}),
    });
    if (halves.transferHost !== undefined) {
      const { access, provider } = halves.transferHost;
      const outputPolicy = commandOutputPolicy(config);
      const scriptsPolicy = fleetScriptsPolicy(config);
      new AsperaFleetConfiguration(this, FLEETS_CONSTRUCT_ID, {
        stackName: config.stackName,
        myAccountId: config.myAccount.accountId,
        fleets: config.asperaFleets,
        region: config.otherAccount.region,
        scriptsFor: (fleet) => externalId.hostScripts(config, fleet),
        ssmCorePolicyArn: ssmCorePolicyArn(config),
        ...(outputPolicy !== undefined ? { commandOutputPolicy: outputPolicy } : {}),
        ...(scriptsPolicy !== undefined ? { scriptsPolicy } : {}),
        provider,
        ...(access.role !== undefined ? { createdHostRoleName: access.role.name } : {}),
        hostRoleName: hostRoleName(config),
        dependsOn: this.asperaHostDependencies,
        ...(planTime !== undefined ? { planTimeExternalId: planTime } : {}),
        ...(halves.accessKeySeed !== undefined ? { accessKeySeed: halves.accessKeySeed } : {}),
      });
    }

    publishOutputs(this, config, halves);
  }

  /** cdktf's preparation, without its cross-stack pass when this is the app's only stack (src/synth/cross-stack-preparation.ts). */
  override prepareStack(): void {
    if (hasOtherStacks(this)) super.prepareStack();
    else this.ensureBackendExists();
  }
}
