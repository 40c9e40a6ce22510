/**
 * Other Account (the transfer host's owner): the role the Aspera instance runs with may assume
 * this stack's grant roles. Either this stack creates that role (EC2 service role plus instance
 * profile), or it attaches the policy to the role the instance already uses. Names, descriptions
 * and policies are decided by src/iam/roles.ts; this construct wires them into resources.
 */
import { DataAwsIamRole } from '@cdktf/provider-aws/lib/data-aws-iam-role';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import type { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Construct } from 'constructs';
import type { HostRoleAccess } from '../iam/roles';

/** Terraform name of the host role, its instance profile and its policy: aws_iam_role.transfer_host. */
export const TRANSFER_HOST_RESOURCE_NAME = 'transfer_host';

export interface TransferHostAccessProps {
  /** The aws.other_account provider. */
  readonly provider: AwsProvider;
  /** The host role and its policy, as src/iam/roles.ts decides them. */
  readonly access: HostRoleAccess;
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
    const { provider, access } = props;
    const { hostRole } = access;
    const name = TRANSFER_HOST_RESOURCE_NAME;
    let roleReference: string;

    if (hostRole.kind === 'created') {
      this.role = new IamRole(this, 'role', {
        provider,
        name: hostRole.roleName,
        ...(hostRole.rolePath !== undefined ? { path: hostRole.rolePath } : {}),
        description: hostRole.description,
        assumeRolePolicy: hostRole.trustPolicy,
      });
      this.role.overrideLogicalId(name);
      // Same name as the role, as the console does: one thing to look for when launching the instance.
      this.instanceProfile = new IamInstanceProfile(this, 'instance_profile', { provider, name: hostRole.roleName, role: this.role.name });
      this.instanceProfile.overrideLogicalId(name);
      roleReference = this.role.name;
    } else {
      // Checked at plan time: the grant roles trust exactly the expected ARN.
      const existing = new DataAwsIamRole(this, 'existing_role', {
        provider,
        name: hostRole.roleName,
        lifecycle: { postcondition: [{ condition: `\${self.arn == "${hostRole.expectedArn}"}`, errorMessage: hostRole.mismatchMessage }] },
      });
      existing.overrideLogicalId(name);
      roleReference = hostRole.roleName;
    }

    this.assumeGrantRolesPolicy = new IamRolePolicy(this, 'assume_grant_roles', {
      provider,
      name: access.policyName,
      role: roleReference,
      policy: access.policy,
    });
    this.assumeGrantRolesPolicy.overrideLogicalId(name);
  }
}
