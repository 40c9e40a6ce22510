/**
 * The review report: what a pull request reviewer needs to approve or reject an access change,
 * as Markdown for a PR comment. Pure: config(s) in, text out. Every fact comes from the access
 * model (model.ts), which reads the stack's own policy and ARN functions.
 */
import type { Config } from '../config/schema';
import { diffAccess, where, type AccessChange, type ChangeKind } from './diff';
import { trustChainDiagram } from './mermaid';
import { accessModel, type AccessModel, type GrantAccess } from './model';
import { cell, code, list, table } from './text';

/** First line of every report, so a bot (or a person) can find the comment it maintains. */
export const REPORT_MARKER = '<!-- aspera-access-review -->';

export const NO_ACCESS_CHANGES = 'No access changes.';

export interface ReviewBase {
  /** The base config; undefined when the base has no config file (nothing deployed from it). */
  readonly config: Config | undefined;
  /** How to name the base, e.g. "origin/main:aspera.config.json". */
  readonly label: string;
}

export interface ReviewInput {
  readonly config: Config;
  /** How to name the reviewed config, e.g. its path. */
  readonly source: string;
  readonly base?: ReviewBase;
}

const KIND_LABEL: Record<ChangeKind, string> = {
  added: 'Added',
  removed: 'Removed',
  widened: 'Widened',
  narrowed: 'Narrowed',
  moved: 'Moved',
  principal: 'Principal change',
  changed: 'Changed',
};

function changeLines(changes: readonly AccessChange[], mark: string): string[] {
  return changes.flatMap((c) => [`- ${mark}**${KIND_LABEL[c.kind]}:** ${c.summary}`, ...c.details.map((d) => `  - ${d}`)]);
}

const usersOf = (changes: readonly AccessChange[]) => [...new Set(changes.flatMap((c) => c.transferUsers))];

/** The access diff section: widening first and prominent, then narrowing, then the rest. */
export function renderAccessDiff(changes: readonly AccessChange[], baseLabel: string, baseMissing: boolean): string {
  const out: string[] = [`## Access changes compared with ${code(baseLabel)}`, ''];
  if (baseMissing) out.push(`The base has no config file: every grant below is new.`, '');
  if (changes.length === 0) {
    out.push(NO_ACCESS_CHANGES);
    return out.join('\n');
  }
  const attention = changes.filter((c) => c.attention);
  const narrowing = changes.filter((c) => !c.attention && (c.kind === 'removed' || c.kind === 'narrowed'));
  const other = changes.filter((c) => !c.attention && c.kind !== 'removed' && c.kind !== 'narrowed');
  const accessChanges = attention.length + narrowing.length;

  const widening = attention.filter((c) => c.kind === 'added' || c.kind === 'widened' || c.kind === 'moved');
  const n = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;
  const summary: string[] = [];
  if (widening.length > 0) summary.push(`**${n(widening.length, 'change widens', 'changes widen')} access** (${list(usersOf(widening).map(code))})`);
  const principal = attention.filter((c) => c.kind === 'principal');
  if (principal.length > 0) summary.push(`**${n(principal.length, 'change alters', 'changes alter')} who may assume the roles**`);
  const review = attention.length - widening.length - principal.length;
  if (review > 0) summary.push(`**${n(review, 'other change needs', 'other changes need')} a careful look**`);
  if (narrowing.length > 0) summary.push(`${n(narrowing.length, 'change narrows or revokes', 'changes narrow or revoke')} access (${list(usersOf(narrowing).map(code))})`);
  if (other.length > 0) summary.push(n(other.length, 'other change', 'other changes'));
  if (accessChanges === 0) out.push(NO_ACCESS_CHANGES, '');
  out.push(`Summary: ${summary.join('; ')}.`, '');

  if (attention.length > 0) {
    out.push('> [!WARNING]', '> **This change widens access or changes who holds it.** Approve only if each line below is intended.', '');
    out.push(...changeLines(attention, '⚠️ '), '');
  }
  if (narrowing.length > 0) out.push('### Narrowed or revoked', '', ...changeLines(narrowing, ''), '');
  if (other.length > 0) out.push('### Other changes', '', ...changeLines(other, ''), '');
  return out.join('\n').trimEnd();
}

function accountsSection(model: AccessModel): string {
  const hosts =
    model.hosts.length === 0
      ? 'none configured: no docroot is installed by this stack'
      : model.hosts.map((h) => `${code(h.id)} as ${code(h.user)}, ${code(h.asperaConfPath)}`).join('<br>');
  return [
    '## Accounts and principals',
    '',
    table(
      ['Field', 'Value'],
      [
        ['My Account (bucket owner)', `${code(model.myAccount.accountId)} in ${code(model.myAccount.region)}`],
        ['Other Account (transfer host owner)', `${code(model.otherAccount.accountId)} in ${code(model.otherAccount.region)}`],
        ['Transfer host role', `${code(model.hostRole.arn)} (${model.hostRole.created ? 'created by this stack, with an instance profile of the same name' : 'existing role; this stack only adds a policy to it'})`],
        ['External ID', code(model.externalId)],
        ['Aspera hosts', hosts],
      ],
    ),
  ].join('\n');
}

function grantSection(grant: GrantAccess): string {
  const trust = [
    `${list(grant.trust.principals.map(code))}`,
    ...(grant.trust.conditions.length > 0 ? [`only if ${grant.trust.conditions.map(code).join(' and ')}`] : []),
  ].join(' ');
  const s3Rows: [string, string][] = grant.permissions.map((p) => [
    `S3 actions on ${list(p.resources.map(code))}${p.conditions.length > 0 ? ` when ${p.conditions.map(code).join(' and ')}` : ''}`,
    list(p.actions.map(code)),
  ]);
  const flags = grant.confPermissions;
  return [
    `### ${code(grant.transferUser)}: ${grant.access} on ${where(grant)}`,
    '',
    table(
      ['Field', 'Value'],
      [
        ['Transfer user', code(grant.transferUser)],
        ['Bucket and prefix', `${where(grant)}, ${grant.bucketCreated ? 'bucket created by this stack' : 'existing bucket'}`],
        ['Access level', grant.access],
        ['Role ARN', code(grant.roleArn)],
        ['Trusted principal', trust],
        ['Transfer host role may assume it', grant.hostMayAssume ? 'yes' : '**no**: the host role policy does not list this role'],
        ...s3Rows,
        ['All S3 actions', list(grant.actions.map(code))],
        ['Docroot (goes into aspera.conf)', code(grant.docroot)],
        ['aspera.conf permissions', `read_allowed=${flags.readAllowed}, write_allowed=${flags.writeAllowed}, dir_allowed=${flags.dirAllowed}`],
        ['Installed on', grant.hosts.length === 0 ? 'no host configured' : list(grant.hosts.map(code))],
      ],
    ),
  ].join('\n');
}

function stateDescription(model: AccessModel): string {
  const state = model.state;
  if (state.backend === 's3') return `the Terraform state in ${code(`s3://${state.bucket}/${state.key}`)} (the state bucket is not managed by this stack)`;
  return `the local Terraform state file ${code(state.path ?? `terraform.${model.stackName}.tfstate`)} (keep it: destroy needs it)`;
}

function destroySection(model: AccessModel): string {
  const created = model.buckets.filter((b) => b.created).map((b) => code(b.name));
  const existing = model.buckets.filter((b) => !b.created).map((b) => code(b.name));
  const removes = [
    `- In My Account ${code(model.myAccount.accountId)}: the grant roles ${list(model.grants.map((g) => code(g.roleArn)))} and their S3 policies. This is the revocation: from then on the transfer host cannot assume them, whatever is left on the host.`,
    model.hostRole.created
      ? `- In Other Account ${code(model.otherAccount.accountId)}: the transfer host role ${code(model.hostRole.arn)}, its instance profile and its assume-role policy.`
      : `- In Other Account ${code(model.otherAccount.accountId)}: the assume-role policy this stack put on the existing role ${code(model.hostRole.arn)} (the role itself stays).`,
    ...(created.length > 0
      ? [
          `- The buckets this stack created: ${list(created)}, with their public access block, TLS-only policy, encryption and ownership settings. S3 deletes a bucket only when it is empty: a bucket that still holds objects makes destroy report an error and stays, without those settings.`,
        ]
      : []),
    model.hosts.length === 0
      ? '- On the Aspera hosts: nothing (no host is configured).'
      : `- On each Aspera host (${list(model.hosts.map((h) => code(h.id)))}): the docroots this stack installed, for ${list(model.grants.map((g) => code(g.transferUser)))}, removed from aspera.conf over SSH before the roles go. If a host cannot be reached, destroy gives up on it after a connection timeout and still removes the roles; the stale docroot stays in that host's aspera.conf but no longer works (its role is gone).`,
  ];
  const keeps = [
    ...(existing.length > 0 ? [`- The existing buckets ${list(existing)} (create: false): this stack never owned them.`] : []),
    '- Every object in every bucket: this stack never deletes data.',
    ...(model.hostRole.created ? [] : [`- The existing transfer host role ${code(model.hostRole.name)}.`]),
    `- ${stateDescription(model).replace(/^the /, 'The ')}.`,
  ];
  return ['## What `npx cdktf destroy` does', '', 'Removes:', '', ...removes, '', 'Keeps:', '', ...keeps].join('\n');
}

function compactGrantsSection(model: AccessModel): string {
  const levels = [...new Set(model.grants.map((g) => g.access))].map((access) => {
    const actions = [...new Set(model.grants.filter((g) => g.access === access).flatMap((g) => g.actions))];
    return `- ${access}: ${list(actions.map(code))}`;
  });
  return [
    `## Grants (${model.grants.length})`,
    '',
    'Per-grant policies and docroots are left out to fit a pull request comment; `npm run review` prints them.',
    '',
    '| Transfer user | Bucket and prefix | Access | Role ARN |',
    '| --- | --- | --- | --- |',
    ...model.grants.map((g) => `| ${[code(g.transferUser), where(g), g.access, code(g.roleArn)].map(cell).join(' | ')} |`),
    '',
    'S3 actions per access level:',
    '',
    ...levels,
  ].join('\n');
}

/** "2 grants: `xfer1` read-write on `s3://b/`, ...", naming at most a few: the grants section has them all. */
function grantsInBrief(model: AccessModel, shown = 5): string {
  const named = model.grants.slice(0, shown).map((g) => `${code(g.transferUser)} ${g.access} on ${code(g.location)}`);
  const more = model.grants.length - named.length;
  return `${model.grants.length} grant${model.grants.length === 1 ? '' : 's'}: ${list(named)}${more > 0 ? ` and ${more} more` : ''}`;
}

export interface ReportOptions {
  /**
   * The longest report wanted, in characters (a GitHub comment holds 65,536). Past it, the grants
   * become one table row each, then the diagram and grants go, then the text is cut. The access
   * diff comes first, so it is the last thing to lose.
   */
  readonly maxChars?: number;
}

/** The whole report. With `base`, the access diff comes first: it is what the reviewer decides on. */
export function reviewReport(input: ReviewInput, options: ReportOptions = {}): string {
  const model = accessModel(input.config);
  const head: string[] = [
    REPORT_MARKER,
    `# Aspera access review: ${code(model.stackName)}`,
    `Config: ${code(input.source)}. ${grantsInBrief(model)}.`,
  ];
  if (input.base !== undefined) {
    const baseModel = input.base.config === undefined ? undefined : accessModel(input.base.config);
    head.push(renderAccessDiff(diffAccess(baseModel, model), input.base.label, input.base.config === undefined));
  }
  const diagram = ['## Trust chain', '', '```mermaid', trustChainDiagram(model).trimEnd(), '```'].join('\n');
  const grants = [`## Grants (${model.grants.length})`, '', ...model.grants.map(grantSection).join('\n\n').split('\n')].join('\n');
  const render = (sections: string[]) => `${sections.join('\n\n')}\n`;
  const variants = [
    () => render([...head, diagram, accountsSection(model), grants, destroySection(model)]),
    () => render([...head, diagram, accountsSection(model), compactGrantsSection(model), destroySection(model)]),
    () => render([...head, accountsSection(model), destroySection(model), '_Diagram and grants left out to fit a pull request comment: `npm run review` prints them._']),
  ];
  const max = options.maxChars ?? Number.POSITIVE_INFINITY;
  for (const variant of variants) {
    const report = variant();
    if (report.length <= max) return report;
  }
  const note = `\n\n_Cut at ${max} characters: \`npm run review\` prints the whole report._\n`;
  return `${variants[variants.length - 1]().slice(0, Math.max(0, max - note.length))}${note}`;
}
