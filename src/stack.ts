/**
 * The whole cross-account setup as one Terraform stack. This file only composes: every decision
 * (policies, names, docroots, scripts) is made by the pure functions the constructs call.
 */
import { TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import type { Config } from './config/schema';
import { awsProviderFor, MY_ACCOUNT_ALIAS, OTHER_ACCOUNT_ALIAS } from './providers';
import { configureStateBackend } from './state-backend';

export class AsperaCrossAccountStack extends TerraformStack {
  constructor(scope: Construct, id: string, config: Config) {
    super(scope, id);
    configureStateBackend(this, config.state);
    awsProviderFor(this, MY_ACCOUNT_ALIAS, config.myAccount, config.stackName);
    awsProviderFor(this, OTHER_ACCOUNT_ALIAS, config.otherAccount, config.stackName);
    // TODO(issue 2): bucket owner resources (buckets, grant roles), transfer host role, outputs.
    // TODO(issue 3): Aspera host configuration (null_resource per host).
  }
}
