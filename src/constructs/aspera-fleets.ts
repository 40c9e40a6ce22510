/**
 * Aspera fleets: the instances of an Auto Scaling group, or those carrying given tags, in Other
 * Account, configured by AWS Systems Manager State Manager instead of SSH. Per fleet:
 *
 *  - aws_ssm_document <fleet>: a Command document whose one aws:runShellScript step is the host
 *    script, byte for byte the one the SSH path uploads (src/aspera/ssm-document.ts): the install
 *    script while the fleet's "docroots" is "installed", the uninstall script when "removed". Its
 *    name ends with the document's sha256 (8 hex digits), so a changed script is a new document
 *    and a new association: State Manager runs an association when it is created, and Terraform
 *    waits for that run (below). The content is read with file() from the stack directory, as
 *    the SSH path reads its script, and the install document is wrapped in sensitive(): it holds
 *    the docroots, which carry the External ID, and the plan then shows no value.
 *  - aws_ssm_association <fleet>: applies the document to every instance matching the fleet's
 *    targets, those launched later included (State Manager applies an association to new managed
 *    nodes that match it). Compliance severity and the optional S3 output location come from the
 *    config; wait_for_success_timeout_seconds makes `apply` wait until the association's status is
 *    Success, and fail when a run failed or none succeeded in time.
 *
 * Destroy: deleting an association runs nothing on the instances. The docroots are removed by
 * setting the fleet's "docroots" to "removed" and applying: the plan shows the install document
 * and association replaced by the uninstall ones, and that apply waits for the uninstall to
 * succeed. Only then is the fleet removed from the config (or the stack destroyed). A stack
 * destroyed with a fleet still "installed" leaves the docroots on the instances; they stop
 * working when the grant roles go.
 *
 * IAM: SSM Agent needs AmazonSSMManagedInstanceCore on the instance role. It is attached to the
 * host role when this stack creates it; an existing role must have it already (the review report
 * says so). With an S3 output location the instance role may also write the output there.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import type { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { SsmAssociation } from '@cdktf/provider-aws/lib/ssm-association';
import { SsmDocument } from '@cdktf/provider-aws/lib/ssm-document';
import { App, type ITerraformDependable, Manifest, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { EXTERNAL_ID_MARKER, type HostScripts, sha256Hex } from '../aspera/host-scripts';
import { renderSsmDocument, ssmShellDocument } from '../aspera/ssm-document';
import { fleetAction, fleetTargets } from '../aspera/fleets';
import type { AsperaFleet } from '../config/schema';
import { hclString } from '../exchange/hcl';
import { type PolicyDocument, renderPolicy } from '../iam/policy-document';
import type { PlanTimeExternalId } from '../modes/external-id';
import { externalIdPrecondition, SCRIPTS_DIR } from './aspera-hosts';

/** Terraform output: per fleet, its association, document and what the document does. */
export const FLEETS_OUTPUT = 'aspera_fleets';

/** Construct id of the fleets (also their directory under aspera-host-scripts/). */
export const FLEETS_CONSTRUCT_ID = 'aspera_fleets';

/** The document name: stack, fleet, action and the document's hash, so a new script is a new document. */
export const fleetDocumentName = (stackName: string, fleet: AsperaFleet, documentText: string): string =>
  `${stackName}-${fleet.name}-${fleetAction(fleet)}-${sha256Hex(documentText).slice(0, 8)}`;

/** The rendered document of a fleet, around its host script (with EXTERNAL_ID_MARKER in place of a plan-time External ID). */
export function fleetDocumentText(stackName: string, fleet: AsperaFleet, scripts: HostScripts): string {
  const action = fleetAction(fleet);
  const what = action === 'install' ? 'installs the S3 docroots of' : 'removes the S3 docroots of';
  return renderSsmDocument(ssmShellDocument(scripts[action], action, `aspera-cross-account: ${what} stack ${stackName} in aspera.conf (fleet ${fleet.name})`));
}

export interface AsperaFleetConfigurationProps {
  /** Names the documents and associations (config.stackName). */
  readonly stackName: string;
  /** config.asperaFleets. */
  readonly fleets: readonly AsperaFleet[];
  /** Other Account's region: where an S3 output bucket is unless the fleet names another. */
  readonly region: string;
  /** The host scripts of a fleet, as written at synth time (see AsperaHostConfigurationProps.scriptsFor). */
  readonly scriptsFor: (fleet: AsperaFleet) => HostScripts;
  /** ARN of AmazonSSMManagedInstanceCore in Other Account's partition (src/iam/fleet-policy.ts). */
  readonly ssmCorePolicyArn: string;
  /** The instance role's policy for the fleets' S3 output locations, if any fleet has one (src/iam/fleet-policy.ts). */
  readonly commandOutputPolicy?: PolicyDocument;
  /** The aws.other_account provider. */
  readonly provider: AwsProvider;
  /** The host role's name when this stack creates it (the SSM policy is attached to it), else undefined. */
  readonly createdHostRoleName?: string;
  /** The host role's name (created or existing): the S3 output policy goes on it. */
  readonly hostRoleName: string;
  /** Resources that must exist before an instance is configured (grant roles, host role policy). */
  readonly dependsOn: ITerraformDependable[];
  /** Set when the External ID is generated by Terraform (see aspera-hosts.ts). */
  readonly planTimeExternalId?: PlanTimeExternalId;
}

export interface FleetResources {
  readonly document: SsmDocument;
  readonly association: SsmAssociation;
}

export class AsperaFleetConfiguration extends Construct {
  readonly fleets: FleetResources[] = [];
  readonly ssmCoreAttachment?: IamRolePolicyAttachment;
  readonly commandOutputPolicy?: IamRolePolicy;

  constructor(scope: Construct, id: string, props: AsperaFleetConfigurationProps) {
    super(scope, id);
    const { stackName, fleets, provider, planTimeExternalId } = props;
    const stack = TerraformStack.of(this);
    const stackDir = join(App.of(this).outdir, Manifest.stacksFolder, stack.node.id);
    const ownDir = posix.join(SCRIPTS_DIR, this.node.id);
    rmSync(join(stackDir, ownDir), { recursive: true, force: true });
    if (fleets.length === 0) return;

    const instanceRoleReady: ITerraformDependable[] = [];
    if (props.createdHostRoleName !== undefined) {
      this.ssmCoreAttachment = new IamRolePolicyAttachment(this, 'ssm_core', { provider, role: props.createdHostRoleName, policyArn: props.ssmCorePolicyArn });
      this.ssmCoreAttachment.overrideLogicalId('transfer_host_ssm_core');
      instanceRoleReady.push(this.ssmCoreAttachment);
    }
    const outputPolicy = props.commandOutputPolicy;
    if (outputPolicy !== undefined) {
      this.commandOutputPolicy = new IamRolePolicy(this, 'command_output', {
        provider,
        name: `${stackName}-ssm-command-output`,
        // The created role by reference (so it exists first), else the existing role by name.
        role: props.createdHostRoleName ?? props.hostRoleName,
        policy: renderPolicy(outputPolicy),
      });
      this.commandOutputPolicy.overrideLogicalId('transfer_host_ssm_command_output');
      instanceRoleReady.push(this.commandOutputPolicy);
    }

    const summary: Record<string, Record<string, string>> = {};
    for (const fleet of fleets) {
      const action = fleetAction(fleet);
      const text = fleetDocumentText(stackName, fleet, props.scriptsFor(fleet));
      mkdirSync(join(stackDir, ownDir, fleet.name), { recursive: true });
      const relative = posix.join(ownDir, fleet.name, `${action}.ssm-document.json`);
      writeFileSync(join(stackDir, relative), text, { mode: 0o644 });
      const resourceName = `fleet_${fleet.name.replace(/-/g, '_')}`;

      let content = `\${file(${hclString(relative)})}`;
      if (action === 'install') {
        // The install document carries the docroots (and so the External ID): not in the plan.
        const read = planTimeExternalId === undefined ? `file(${hclString(relative)})` : `replace(file(${hclString(relative)}), ${hclString(EXTERNAL_ID_MARKER)}, ${planTimeExternalId.reference})`;
        content = `\${sensitive(${read})}`;
      }
      const generatedId = planTimeExternalId !== undefined && action === 'install';
      const document = new SsmDocument(this, `${fleet.name}_document`, {
        provider,
        name: fleetDocumentName(stackName, fleet, text),
        documentType: 'Command',
        documentFormat: 'JSON',
        targetType: '/AWS::EC2::Instance',
        content,
        ...(generatedId ? { lifecycle: { precondition: [externalIdPrecondition(planTimeExternalId)] } } : {}),
      });
      document.overrideLogicalId(resourceName);
      // A new generated External ID changes the content, not the name: replace the document (and
      // so the association) anyway, so that the new docroots are installed and waited for.
      if (generatedId) document.addOverride('lifecycle.replace_triggered_by', [planTimeExternalId.reference.split('.').slice(0, 2).join('.')]);

      const association = new SsmAssociation(this, `${fleet.name}_association`, {
        provider,
        name: document.name,
        associationName: `${stackName}-${fleet.name}`,
        targets: fleetTargets(fleet),
        complianceSeverity: fleet.complianceSeverity,
        waitForSuccessTimeoutSeconds: fleet.waitForSuccessSeconds,
        ...(fleet.outputS3 === undefined
          ? {}
          : {
              outputLocation: {
                s3BucketName: fleet.outputS3.bucket,
                ...(fleet.outputS3.keyPrefix === undefined ? {} : { s3KeyPrefix: fleet.outputS3.keyPrefix }),
                s3Region: fleet.outputS3.region ?? props.region,
              },
            }),
        dependsOn: [...props.dependsOn, ...instanceRoleReady],
      });
      association.overrideLogicalId(resourceName);
      // Any change of the document (a new version in place included) makes a new association,
      // which State Manager runs at once, and whose first run apply waits for.
      association.addOverride('lifecycle.replace_triggered_by', [`aws_ssm_document.${resourceName}`]);
      this.fleets.push({ document, association });
      summary[fleet.name] = { association_id: association.associationId, document_name: document.name, runs: action };
    }

    const output = new TerraformOutput(this, 'output', {
      description: 'Per Aspera fleet: its State Manager association, the SSM document it runs, and whether that installs or removes the docroots',
      value: summary,
    });
    output.overrideLogicalId(FLEETS_OUTPUT);
  }
}
