/**
 * Other Account (the transfer host's owner): the role the Aspera instance runs with may assume
 * exactly this stack's grant roles. Either this stack creates that role (EC2 service role plus
 * instance profile), or it attaches the policy to the role the instance already uses.
 */
import { DataAwsIamRole } from '@cdktf/provider-aws/lib/data-aws-iam-role';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import type { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Construct } from 'constructs';
import type { Config } from '../config/schema';
import { hostRoleArn, hostRoleName, hostRolePath } from '../iam/arns';
import { hostAssumeGrantRolesPolicy } from '../iam/host-policy';
import { renderPolicy } from '../iam/policy-document';
import { hostRoleTrustPolicy } from '../iam/trust-policy';

/** Terraform name of the host role, its instance profile and its policy: aws_iam_role.transfer_host. */
export const TRANSFER_HOST_RESOURCE_NAME = 'transfer_host';

/** Inline policy name on the host role; carries the stack name so two stacks can share one host. */
export const hostPolicyName = (config: Config): string => `${config.stackName}-assume-grant-roles`;

export interface TransferHostAccessProps {
  readonly config: Config;
  /** The aws.other_account provider. */
  readonly provider: AwsProvider;
}

export class TransferHostAccess extends Construct {
  /** Set when this stack creates the host role. */
  readonly role?: IamRole;
  /** Set when this stack creates the host role; attach it to the Aspera EC2 instance. */
  readonly instanceProfile?: IamInstanceProfile;
  /** The sts:AssumeRole permission on the grant roles, on the created or existing role. */
  readonly assumeGrantRolesPolicy: IamRolePolicy;

  constructor(scope: Construct, id: string, props: TransferHostAccessProps) {
    super(scope, id);
    const { config, provider } = props;
    const name = TRANSFER_HOST_RESOURCE_NAME;
    const roleName = hostRoleName(config);
    let roleReference: string;

    if ('name' in config.hostRole) {
      this.role = new IamRole(this, 'role', {
        provider,
        name: roleName,
        ...('path' in config.hostRole ? { path: config.hostRole.path } : {}),
        description: `Aspera transfer host: may assume the ${config.stackName} grant roles in account ${config.myAccount.accountId}`,
        assumeRolePolicy: renderPolicy(hostRoleTrustPolicy()),
      });
      this.role.overrideLogicalId(name);
      // Same name as the role, as the console does: one thing to look for when launching the instance.
      this.instanceProfile = new IamInstanceProfile(this, 'instance_profile', { provider, name: roleName, role: this.role.name });
      this.instanceProfile.overrideLogicalId(name);
      roleReference = this.role.name;
    } else {
      // The grant roles' trust policies name the host role by its derived ARN, with the path the
      // config gives (hostRole.path, "/" by default). Check that at plan time: a role under another
      // path (or a typo) would otherwise be created fine and then silently denied on every AssumeRole.
      const existing = new DataAwsIamRole(this, 'existing_role', {
        provider,
        name: roleName,
        lifecycle: {
          postcondition: [
            {
              condition: `\${self.arn == "${hostRoleArn(config)}"}`,
              errorMessage: `hostRole.existingRoleName: the role "${roleName}" must have the ARN ${hostRoleArn(config)} (path "${hostRolePath(config)}"${'path' in config.hostRole ? '' : ': set hostRole.path to the role\'s path'}); the grant roles trust exactly that ARN.`,
            },
          ],
        },
      });
      existing.overrideLogicalId(name);
      roleReference = roleName;
    }

    this.assumeGrantRolesPolicy = new IamRolePolicy(this, 'assume_grant_roles', {
      provider,
      name: hostPolicyName(config),
      role: roleReference,
      policy: renderPolicy(hostAssumeGrantRolesPolicy(config)),
    });
    this.assumeGrantRolesPolicy.overrideLogicalId(name);
  }
}
