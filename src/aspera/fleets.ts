/**
 * Which instances a fleet's association targets, and what it runs on them: the host script, where it
 * goes in S3, and the SSM document that downloads and runs it. Pure: config in, data out.
 */
import { PARTITION_FACTS, partitionOf } from '../aws/partitions';
import type { AsperaFleet } from '../config/schema';
import { sha256Hex } from '../sha256';
import type { HostScripts } from './host-scripts';
import { renderSsmDocument, s3ObjectUrl, ssmShellDocument } from './ssm-document';

/** The tag Auto Scaling puts on every instance it launches, naming its group. */
export const AUTO_SCALING_GROUP_TAG = 'aws:autoscaling:groupName';

export type FleetAction = 'install' | 'uninstall';
export const fleetAction = (fleet: AsperaFleet): FleetAction => (fleet.docroots === 'installed' ? 'install' : 'uninstall');

/** The association's targets as CreateAssociation takes them: the Auto Scaling group first, then the tags in config order. */
export function fleetTargets(fleet: AsperaFleet): { key: string; values: string[] }[] {
  const targets: { key: string; values: string[] }[] = [];
  if (fleet.targets.autoScalingGroupName !== undefined) targets.push({ key: `tag:${AUTO_SCALING_GROUP_TAG}`, values: [fleet.targets.autoScalingGroupName] });
  for (const tag of fleet.targets.tags ?? []) targets.push({ key: `tag:${tag.key}`, values: [...tag.values] });
  for (const t of targets) {
    // Defence in depth (the schema allows none of these): the values are written into Terraform JSON as they are.
    if ([t.key, ...t.values].some((v) => /[$%]\{/.test(v))) throw new Error(`asperaFleets: target ${JSON.stringify(t)} contains Terraform template syntax`);
  }
  return targets;
}


/**
 * Where a fleet's host scripts go in its scriptS3 bucket: <keyPrefix>/<stackName>/<My Account>/<fleet>/.
 * The stack and My Account keep customers' stacks apart in one operator bucket (the same pair
 * that, with Other Account, names a stack on a host); the instances may read under this path only.
 */
export function fleetScriptPrefix(stackName: string, myAccountId: string, fleet: AsperaFleet): string {
  const head = fleet.scriptS3.keyPrefix === undefined ? '' : `${fleet.scriptS3.keyPrefix}/`;
  return `${head}${stackName}/${myAccountId}/${fleet.name}/`;
}

/** The object of one script: its action and 16 hex digits of its sha256, so a changed script is a new object (and document). */
export const fleetScriptKey = (prefix: string, action: FleetAction, scriptSha256: string): string => `${prefix}${action}-${scriptSha256.slice(0, 16)}.sh`;

/** Where a fleet's script goes and the document that runs it. */
export interface FleetScript {
  readonly action: 'install' | 'uninstall';
  /** The script, as written at synth time (with EXTERNAL_ID_MARKER in place of a plan-time External ID). */
  readonly script: string;
  readonly bucket: string;
  readonly key: string;
  /** The document's text. */
  readonly document: string;
}

/** The script a fleet runs, its S3 object and the document that runs it. */
export function fleetScript(stackName: string, myAccountId: string, region: string, fleet: AsperaFleet, scripts: HostScripts): FleetScript {
  const action = fleetAction(fleet);
  const script = scripts[action];
  const key = fleetScriptKey(fleetScriptPrefix(stackName, myAccountId, fleet), action, sha256Hex(script));
  const url = s3ObjectUrl(fleet.scriptS3.bucket, region, PARTITION_FACTS[partitionOf(region)].dnsSuffix, key);
  const what = action === 'install' ? 'installs the S3 docroots of' : 'removes the S3 docroots of';
  const document = renderSsmDocument(ssmShellDocument(url, action, `aspera-cross-account: ${what} stack ${stackName} in aspera.conf (fleet ${fleet.name})`));
  return { action, script, bucket: fleet.scriptS3.bucket, key, document };
}

