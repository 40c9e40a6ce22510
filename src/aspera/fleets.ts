/**
 * Which instances a fleet's association targets, and what it runs on them. Pure: config in, data out.
 */
import type { AsperaFleet } from '../config/schema';

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

