/**
 * The trust chain as a Mermaid flowchart, which GitHub renders in pull request comments:
 * Aspera host(s) -> transfer host role (Other Account) -> grant roles (My Account, External ID)
 * -> buckets and prefixes. Pure: access model in, Mermaid source out.
 *
 * Mermaid has no general escaping inside labels, so node ids are made only of [A-Za-z0-9_] with a
 * kind prefix and an index (unique even when two names sanitize alike, never a keyword such as
 * "end"), and every label is quoted with the characters that could end or re-interpret it written
 * as Mermaid entity codes (#quot; and friends).
 */
import type { AccessModel } from './model';

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

export function trustChainDiagram(model: AccessModel): string {
  const lines: string[] = ['flowchart LR'];
  const hostRoleId = 'hostrole';
  const bucketIds = new Map<string, string>();
  model.buckets.forEach((b, i) => bucketIds.set(b.name, mermaidId('bucket', i, b.name)));

  lines.push(`  subgraph otheraccount[${mermaidLabel(`Other Account ${model.otherAccount.accountId} (transfer host owner)`)}]`);
  lines.push('    direction TB');
  model.hosts.forEach((host, i) => {
    lines.push(`    ${mermaidId('host', i, host.id)}[${mermaidLabel(`Aspera host ${host.id}`, host.asperaConfPath)}]`);
  });
  lines.push(
    `    ${hostRoleId}[${mermaidLabel(
      `Transfer host role ${model.hostRole.name}`,
      model.hostRole.created ? '(created by this stack)' : '(existing role)',
      model.hostRole.arn,
    )}]`,
  );
  lines.push('  end');

  lines.push(`  subgraph myaccount[${mermaidLabel(`My Account ${model.myAccount.accountId} (bucket owner)`)}]`);
  lines.push('    direction TB');
  model.grants.forEach((grant, i) => {
    lines.push(`    ${mermaidId('grant', i, grant.transferUser)}[${mermaidLabel(`Grant role ${grant.roleName}`, `transfer user ${grant.transferUser}`, grant.roleArn)}]`);
  });
  model.buckets.forEach((bucket) => {
    const used = model.grants.some((g) => g.bucket === bucket.name);
    if (!used) return;
    lines.push(`    ${bucketIds.get(bucket.name)}[(${mermaidLabel(`Bucket ${bucket.name}`, bucket.created ? '(created by this stack)' : '(existing bucket)')})]`);
  });
  lines.push('  end');

  model.hosts.forEach((host, i) => {
    lines.push(`  ${mermaidId('host', i, host.id)} -->|${mermaidLabel('runs as')}| ${hostRoleId}`);
  });
  model.grants.forEach((grant, i) => {
    const grantId = mermaidId('grant', i, grant.transferUser);
    const trustLines = ['sts:AssumeRole'];
    if (grant.trust.externalId !== undefined) trustLines.push(`External ID ${grant.trust.externalId}`);
    if (!grant.hostMayAssume) trustLines.push('NOT allowed by the host role policy');
    lines.push(`  ${hostRoleId} -->|${mermaidLabel(...trustLines)}| ${grantId}`);
    lines.push(`  ${grantId} -->|${mermaidLabel(grant.access, grant.prefix === '' ? 'whole bucket' : `${grant.prefix}/*`)}| ${bucketIds.get(grant.bucket)}`);
  });
  return `${lines.join('\n')}\n`;
}
