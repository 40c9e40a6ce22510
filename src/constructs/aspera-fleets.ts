/**
 * Aspera fleets: the instances of an Auto Scaling group, or those carrying given tags, in Other
 * Account, configured by AWS Systems Manager State Manager instead of SSH. Per fleet:
 *
 *  - aws_s3_object <fleet>: the host script, byte for byte the one the SSH path uploads (the
 *    install script while the fleet's "docroots" is "installed", the uninstall script when
 *    "removed"), in the fleet's scriptS3 bucket under <keyPrefix>/<stackName>/<My Account>/<fleet>/
 *    (src/aspera/fleets.ts). Its key ends with the script's sha256, so a changed script is a new
 *    object. Terraform uploads it from the stack directory (`source`: the content is in neither
 *    the plan nor the state); with a generated External ID, the install script's content is
 *    spliced at plan time and wrapped in sensitive().
 *  - aws_ssm_document <fleet>: a Command document that downloads that object (aws:downloadContent,
 *    with the instance's credentials) and runs it (aws:runShellScript), src/aspera/ssm-document.ts.
 *    An SSM document holds at most 64 KB, which the script does not fit in. The document names
 *    the object, so its name (ending with the document's sha256, 8 hex digits) changes with the
 *    script: a new document and a new association, which State Manager runs when it is created,
 *    and Terraform waits for that run (below). It carries no docroot and no External ID.
 *  - aws_ssm_association <fleet>: applies the document to every instance matching the fleet's
 *    targets, those launched later included (State Manager applies an association to new managed
 *    nodes that match it). Compliance severity and the optional S3 output location come from the
 *    config; wait_for_success_timeout_seconds makes `apply` wait until the association's status is
 *    Success, and fail when a run failed or none succeeded in time.
 *
 * Destroy: deleting an association runs nothing on the instances. The docroots are removed by
 * setting the fleet's "docroots" to "removed" and applying: the plan shows the install script,
 * document and association replaced by the uninstall ones, and that apply waits for the uninstall
 * to succeed. Only then is the fleet removed from the config (or the stack destroyed). A stack
 * destroyed with a fleet still "installed" leaves the docroots on the instances; they stop
 * working when the grant roles go.
 *
 * IAM: SSM Agent needs AmazonSSMManagedInstanceCore on the instance role. It is attached to the
 * host role when this stack creates it; an existing role must have it already (the review report
 * says so). The instance role may read the fleets' script paths (src/iam/fleet-policy.ts), and
 * with an S3 output location also write the output there.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import type { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { SsmAssociation } from '@cdktf/provider-aws/lib/ssm-association';
import { S3Object } from '@cdktf/provider-aws/lib/s3-object';
import { SsmDocument } from '@cdktf/provider-aws/lib/ssm-document';
import { App, type ITerraformDependable, Manifest, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { type HostScripts, sha256Hex } from '../aspera/host-scripts';
import { fleetAction, fleetScript, fleetTargets } from '../aspera/fleets';
import type { AsperaFleet } from '../config/schema';
import { hclString } from '../exchange/hcl';
import { type PolicyDocument, renderPolicy } from '../iam/policy-document';
import type { PlanTimeExternalId } from '../modes/external-id';
import { SCRIPTS_DIR, splicedScriptExpression, splicePrecondition, splicesFor } from './aspera-hosts';

/** Terraform output: per fleet, its association, document and what the document does. */
export const FLEETS_OUTPUT = 'aspera_fleets';

/** Construct id of the fleets (also their directory under aspera-host-scripts/). */
export const FLEETS_CONSTRUCT_ID = 'aspera_fleets';

/** The document name: stack, fleet, action and the document's hash, so a new script is a new document. */
export const fleetDocumentName = (stackName: string, fleet: AsperaFleet, documentText: string): string =>
  `${stackName}-${fleet.name}-${fleetAction(fleet)}-${sha256Hex(documentText).slice(0, 8)}`;

export interface AsperaFleetConfigurationProps {
  /** Names the documents and associations (config.stackName). */
  readonly stackName: string;
  /** My Account's ID: with the stack name, keeps this stack's scripts apart in a shared bucket. */
  readonly myAccountId: string;
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
  /** The instance role's policy for reading the fleets' scripts (src/iam/fleet-policy.ts); given when there are fleets. */
  readonly scriptsPolicy?: PolicyDocument;
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
  /** Set when a grant is installed as a Node API access key: the seed of their secrets (see aspera-hosts.ts). */
  readonly accessKeySeed?: PlanTimeExternalId;
}

export interface FleetResources {
  readonly script: S3Object;
  readonly document: SsmDocument;
  readonly association: SsmAssociation;
}

export class AsperaFleetConfiguration extends Construct {
  readonly fleets: FleetResources[] = [];
  readonly ssmCoreAttachment?: IamRolePolicyAttachment;
  readonly commandOutputPolicy?: IamRolePolicy;
  readonly scriptsPolicy?: IamRolePolicy;

  constructor(scope: Construct, id: string, props: AsperaFleetConfigurationProps) {
    super(scope, id);
    const { stackName, fleets, provider, planTimeExternalId, accessKeySeed } = props;
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

    if (props.scriptsPolicy !== undefined) {
      this.scriptsPolicy = new IamRolePolicy(this, 'fleet_scripts', {
        provider,
        name: `${stackName}-fleet-scripts`,
        role: props.createdHostRoleName ?? props.hostRoleName,
        policy: renderPolicy(props.scriptsPolicy),
      });
      this.scriptsPolicy.overrideLogicalId('transfer_host_fleet_scripts');
      instanceRoleReady.push(this.scriptsPolicy);
    }

    const summary: Record<string, Record<string, string>> = {};
    for (const fleet of fleets) {
      const planned = fleetScript(stackName, props.myAccountId, props.region, fleet, props.scriptsFor(fleet));
      const { action } = planned;
      mkdirSync(join(stackDir, ownDir, fleet.name), { recursive: true });
      const scriptPath = posix.join(ownDir, fleet.name, `${action}.sh`);
      writeFileSync(join(stackDir, scriptPath), planned.script, { mode: 0o644 });
      const documentPath = posix.join(ownDir, fleet.name, `${action}.ssm-document.json`);
      writeFileSync(join(stackDir, documentPath), planned.document, { mode: 0o644 });
      const resourceName = `fleet_${fleet.name.replace(/-/g, '_')}`;

      // Values known at plan time only (a generated External ID, the access key secret seed) are
      // spliced into the install script, which is then sensitive() content.
      const splices = action === 'install' ? splicesFor(planned.script, planTimeExternalId, accessKeySeed) : [];
      const script = new S3Object(this, `${fleet.name}_script`, {
        provider,
        bucket: planned.bucket,
        key: planned.key,
        contentType: 'text/x-shellscript',
        // The install script holds the docroots (and so the External ID): uploaded from the file
        // (in neither plan nor state), or, with a spliced value, as sensitive() content.
        ...(splices.length > 0
          ? { content: `\${sensitive(${splicedScriptExpression(scriptPath, splices)})}` }
          : { source: scriptPath, sourceHash: `\${filesha256(${hclString(scriptPath)})}` }),
        ...(splices.length > 0 ? { lifecycle: { precondition: splices.map(splicePrecondition) } } : {}),
      });
      script.overrideLogicalId(resourceName);

      const document = new SsmDocument(this, `${fleet.name}_document`, {
        provider,
        name: fleetDocumentName(stackName, fleet, planned.document),
        documentType: 'Command',
        documentFormat: 'JSON',
        targetType: '/AWS::EC2::Instance',
        content: `\${file(${hclString(documentPath)})}`,
        // The script is in place before a document that downloads it exists.
        dependsOn: [script],
      });
      document.overrideLogicalId(resourceName);
      // A new generated External ID changes the script's content, not its key (nor the document):
      // replace the document (and so the association) anyway, so that the new docroots are
      // installed and waited for.
      if (splices.length > 0) document.addOverride('lifecycle.replace_triggered_by', splices.map((splice) => splice.reference.split('.').slice(0, 2).join('.')));

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
      this.fleets.push({ script, document, association });
      summary[fleet.name] = { association_id: association.associationId, document_name: document.name, runs: action };
    }

    const output = new TerraformOutput(this, 'output', {
      description: 'Per Aspera fleet: its State Manager association, the SSM document it runs, and whether that installs or removes the docroots',
      value: summary,
    });
    output.overrideLogicalId(FLEETS_OUTPUT);
  }
}
