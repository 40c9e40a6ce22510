/**
 * The two AWS providers, one per account, always aliased so that no resource can land in an
 * account by default: every resource names aws.my_account or aws.other_account explicitly.
 */
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import type { Construct } from 'constructs';
import type { AwsAccount } from './config/schema';

export const MY_ACCOUNT_ALIAS = 'my_account';
export const OTHER_ACCOUNT_ALIAS = 'other_account';

export function awsProviderFor(scope: Construct, alias: string, account: AwsAccount, stackName: string): AwsProvider {
  return new AwsProvider(scope, alias, {
    alias,
    region: account.region,
    // Refuse to touch any account but the one the config names, whatever the credentials say.
    allowedAccountIds: [account.accountId],
    ...(account.profile === undefined ? {} : { profile: account.profile }),
    ...(account.assumeRoleArn === undefined ? {} : { assumeRole: [{ roleArn: account.assumeRoleArn, sessionName: stackName }] }),
    defaultTags: [{ tags: { ManagedBy: 'cdktf', Stack: stackName } }],
  });
}
