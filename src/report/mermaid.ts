/**
 * The trust chain as a Mermaid flowchart, which GitHub renders in pull request comments:
 * Aspera host(s) (over SSH) and fleet(s) (SSM State Manager, by their targets) -> transfer host role (Other Account) -> grant roles (My Account, External ID)
 * -> buckets and prefixes. Pure: access model in, Mermaid source out. In modes "bucket-owner" and
 * "transfer-host" the other party's nodes stay in the chain, dashed and labelled as theirs.
 *
 * Mermaid has no general escaping inside labels, so node ids are made only of [A-Za-z0-9_] with a
 * kind prefix and an index (unique even when two names sanitize alike, never a keyword such as
 * "end"), and every label is quoted with the characters that could end or re-interpret it written
 * as Mermaid entity codes (#quot; and friends).
 */
import type { AccessModel, GrantAccess } from './model';

/** Text for a quoted Mermaid label: no character in it can close the quote or start markup. */
export function mermaidText(text: string): string {
  return text
    .replace(/#/g, '#35;') // first: the entity codes below start with "#"
    .replace(/"/g, '#quot;')
    .replace(/&/g, '#amp;')
    .replace(/</g, '#lt;')
    .replace(/>/g, '#gt;')
    .replace(/`/g, '#96;')
    .replace(/\r?\n/g, ' ');
}

/** A quoted label of one or more lines. */
export const mermaidLabel = (...lines: string[]): string => `"${lines.map(mermaidText).join('<br/>')}"`;

/** A node id: kind, index, then the name reduced to [A-Za-z0-9_] for readability of the source. */
export const mermaidId = (kind: string, index: number, name: string): string =>
  `${kind}${index}_${name.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40)}`;

/**
 * How the diagram names the External ID on an AssumeRole edge: the value the trust policy requires,
 * or, when it is not known at synth time, where it comes from; during a rotation, also the next one.
 */
export function externalIdEdgeText(model: AccessModel, grant: GrantAccess): string {
  const source = model.externalId;
  // During a rotation the trust accepts the current External ID or the next one.
  const next = model.nextExternalId === undefined ? '' : ` or ${model.nextExternalId} (next)`;
  if (source.kind === 'config') return next === '' ? `External ID ${grant.trust.externalId}` : `External ID ${source.value}${next}`;
  if (source.kind === 'other-half-state') return `External ID read from the operator's state at plan time${next}`;
  return `External ID generated at first apply${next}`;
}

/** The label line of a part this config's stack does not create. */
export const OTHER_PARTY = '(managed by the other party)';

export function trustChainDiagram(model: AccessModel): string {
  const lines: string[] = ['flowchart LR'];
  const hostRoleId = 'hostrole';
  const bucketIds = new Map<string, string>();
  model.buckets.forEach((b, i) => bucketIds.set(b.name, mermaidId('bucket', i, b.name)));
  const { bucketOwnerHalf, transferHostHalf } = model.ownership;
  // Nodes of the other party's half are drawn dashed, and say so in their label.
  const otherParty: string[] = [];
  const half = (applied: boolean) => (applied ? '' : `, ${OTHER_PARTY.slice(1, -1)}`);

  lines.push(`  subgraph otheraccount[${mermaidLabel(`Other Account ${model.otherAccount.accountId} (transfer host owner${half(transferHostHalf)})`)}]`);
  lines.push('    direction TB');
  model.hosts.forEach((host, i) => {
    const retired = host.retired ? ['retired: uninstall at next apply'] : [];
    lines.push(`    ${mermaidId('host', i, host.id)}[${mermaidLabel(`Aspera host ${host.id}`, host.asperaConfPath, 'over SSH', ...retired)}]`);
  });
  model.fleets.forEach((fleet, i) => {
    const runs = fleet.runs === 'install' ? 'installs the docroots' : 'runs the uninstall';
    lines.push(`    ${mermaidId('fleet', i, fleet.name)}[${mermaidLabel(`Aspera fleet ${fleet.name}`, 'via SSM State Manager (no SSH)', ...fleet.targets, fleet.asperaConfPath, runs)}]`);
  });
  const hostRoleNote = { created: '(created by this stack)', existing: '(existing role)', 'other-party': OTHER_PARTY }[model.hostRole.managed];
  lines.push(`    ${hostRoleId}[${mermaidLabel(`Transfer host role ${model.hostRole.name}`, hostRoleNote, model.hostRole.arn)}]`);
  if (model.hostRole.managed === 'other-party') otherParty.push(hostRoleId);
  lines.push('  end');

  lines.push(`  subgraph myaccount[${mermaidLabel(`My Account ${model.myAccount.accountId} (bucket owner${half(bucketOwnerHalf)})`)}]`);
  lines.push('    direction TB');
  model.grants.forEach((grant, i) => {
    const id = mermaidId('grant', i, grant.transferUser);
    const label = [`Grant role ${grant.roleName}`, `transfer user ${grant.transferUser}`, ...(bucketOwnerHalf ? [] : [OTHER_PARTY]), grant.roleArn];
    lines.push(`    ${id}[${mermaidLabel(...label)}]`);
    if (!bucketOwnerHalf) otherParty.push(id);
  });
  model.buckets.forEach((bucket) => {
    const used = model.grants.some((g) => g.bucket === bucket.name);
    if (!used) return;
    const id = bucketIds.get(bucket.name) as string;
    const note = !bucketOwnerHalf ? OTHER_PARTY : bucket.created ? '(created by this stack)' : '(existing bucket)';
    lines.push(`    ${id}[(${mermaidLabel(`Bucket ${bucket.name}`, note)})]`);
    if (!bucketOwnerHalf) otherParty.push(id);
  });
  lines.push('  end');

  model.hosts.forEach((host, i) => {
    if (!host.retired) lines.push(`  ${mermaidId('host', i, host.id)} -->|${mermaidLabel('runs as')}| ${hostRoleId}`);
  });
  model.fleets.forEach((fleet, i) => {
    if (fleet.runs === 'install') lines.push(`  ${mermaidId('fleet', i, fleet.name)} -->|${mermaidLabel('runs as')}| ${hostRoleId}`);
  });
  model.grants.forEach((grant, i) => {
    const grantId = mermaidId('grant', i, grant.transferUser);
    const trustLines = ['sts:AssumeRole'];
    if (grant.trust.externalId !== undefined) trustLines.push(externalIdEdgeText(model, grant));
    if (!grant.hostMayAssume) trustLines.push('NOT allowed by the host role policy');
    lines.push(`  ${hostRoleId} -->|${mermaidLabel(...trustLines)}| ${grantId}`);
    lines.push(`  ${grantId} -->|${mermaidLabel(grant.access, grant.prefix === '' ? 'whole bucket' : `${grant.prefix}/*`)}| ${bucketIds.get(grant.bucket)}`);
  });
  if (otherParty.length > 0) {
    lines.push('  classDef otherParty stroke-dasharray: 5 5');
    lines.push(`  class ${otherParty.join(',')} otherParty`);
  }
  return `${lines.join('\n')}\n`;
}
