/**
 * The review report: what a pull request reviewer needs to approve or reject an access change,
 * as Markdown for a PR comment. Pure: config(s) in, text out. Every fact comes from the access
 * model (model.ts), which reads the stack's own policy and ARN functions. In modes "bucket-owner"
 * and "transfer-host" the report describes that half: the other party's parts are marked as
 * theirs (model.ownership), and destroy is explained for this half and for what is left to them.
 */
import { ACCESS_KEY_SEED_ID, installsDocroot } from '../aspera/access-key';
import type { Config } from '../config/schema';
import { roleQuotaNotice } from '../iam/limits';
import { diffAccess, where, type AccessChange, type ChangeKind } from './diff';
import { trustChainDiagram } from './mermaid';
import { accessModel, type AccessModel, type GrantAccess } from './model';
import { codeWithExternalId, externalIdDescription, HALF_OF_MODE, MANAGED_BY_OTHER_PARTY, modeParagraph } from './half-wording';
import { cell, code, list, table } from './text';
import { s3Uri } from '../aws/arns';

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
  undetermined: 'Not known until plan',
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
  const undetermined = attention.filter((c) => c.kind === 'undetermined');
  if (undetermined.length > 0) summary.push(`**${n(undetermined.length, 'change', 'changes')} cannot be compared until \`cdktf plan\`**`);
  const review = attention.length - widening.length - principal.length - undetermined.length;
  if (review > 0) summary.push(`**${n(review, 'other change needs', 'other changes need')} a careful look**`);
  if (narrowing.length > 0) summary.push(`${n(narrowing.length, 'change narrows or revokes', 'changes narrow or revoke')} access (${list(usersOf(narrowing).map(code))})`);
  if (other.length > 0) summary.push(n(other.length, 'other change', 'other changes'));
  if (accessChanges === 0) out.push(NO_ACCESS_CHANGES, '');
  out.push(`Summary: ${summary.join('; ')}.`, '');

  if (attention.length > 0) {
    out.push('> [!WARNING]', '> **This change widens access or changes who holds it.** Approve only if each line below is intended.');
    if (undetermined.length > 0) out.push('> Lines marked "Not known until plan" depend on a value read from the other half\'s state when you plan: check them in the plan.');
    out.push('');
    out.push(...changeLines(attention, '⚠️ '), '');
  }
  if (narrowing.length > 0) out.push('### Narrowed or revoked', '', ...changeLines(narrowing, ''), '');
  if (other.length > 0) out.push('### Other changes', '', ...changeLines(other, ''), '');
  return out.join('\n').trimEnd();
}

function hostRoleDescription(model: AccessModel): string {
  const arn = code(model.hostRole.arn);
  if (model.hostRole.managed === 'created') return `${arn} (created by this stack, with an instance profile of the same name)`;
  if (model.hostRole.managed === 'existing') return `${arn} (existing role; this stack only adds a policy to it)`;
  return `${MANAGED_BY_OTHER_PARTY} ${arn}: the operator's role, which this config trusts (the grant roles trust exactly this ARN)`;
}

/** Which host-policy form is in force, and what it lets the host role try. */
function hostPolicyDescription(model: AccessModel): string {
  const { form, grantRolePath, assumable } = model.hostPolicy;
  const owner = model.ownership.transferHostHalf ? '' : `${MANAGED_BY_OTHER_PARTY} The operator's config must set the same form. `;
  if (form === 'exact-roles') {
    return `${owner}${code('exact-roles')}: ${code('sts:AssumeRole')} on exactly the ${assumable.length === 1 ? 'grant role' : `${assumable.length} grant roles`} below, listed by ARN (grant roles at the IAM path ${code(grantRolePath)})`;
  }
  return (
    `${owner}${code('role-path')}: ${code('sts:AssumeRole')} on every role under ${code(assumable[0])}, the IAM path ${code(grantRolePath)} that this stack's grant roles live under. ` +
    'The host may try any role there but gets only those whose trust policy names it with the External ID: the grant roles below. ' +
    `The path is this stack's: create no other role under it.`
  );
}

/** The fleets (SSM State Manager) and what their instance role needs, for the accounts table. */
function fleetRows(model: AccessModel): [string, string][] {
  if (model.fleets.length === 0) return [];
  const fleets = model.fleets
    .map((f) => {
      const output = f.outputLocation === undefined ? 'output in SSM only (first 2,500 characters)' : `full output in ${code(f.outputLocation)}`;
      const runs = f.runs === 'install' ? `installs ${hostInstalls(model, f.nodeApiUrl)}` : 'runs the uninstall (docroots "removed": it removes the docroots and deletes the access keys this stack created)';
      return `${code(f.name)} through AWS Systems Manager State Manager (no SSH): every managed instance with ${f.targets.map(code).join(' and ')}, those launched later included; ${runs}; ${code(f.asperaConfPath)}; compliance severity ${code(f.complianceSeverity)}; apply waits up to ${f.waitForSuccessSeconds} s for success; ${output}`;
    })
    .join('<br>');
  const policy = model.ssmCorePolicy;
  const ssm =
    policy === undefined
      ? ''
      : policy.attachedByThisStack
        ? `${code(policy.arn)} attached to the host role by this stack (SSM Agent needs it: it may read this account's SSM documents and parameters and report status)`
        : `the existing role ${code(model.hostRole.arn)} must have ${code(policy.arn)} (or equivalent) attached: this stack does not attach policies to a role it does not create, and without it SSM Agent never receives the association`;
  return [
    ['Aspera fleets', fleets],
    ['SSM permissions of the instance role', ssm],
  ];
}

/** What a host (or every instance of a fleet) gets: which transfer users get docroots, which access keys. */
function hostInstalls(model: AccessModel, nodeApiUrl: string | undefined, nodeApiTls?: string): string {
  const docroots = model.grants.filter((g) => installsDocroot(g)).map((g) => code(g.transferUser));
  const keys = model.grants.filter((g) => g.accessKey !== undefined).map((g) => code(g.transferUser));
  return [
    docroots.length > 0 ? `docroots in aspera.conf for ${list(docroots)}` : 'no docroot',
    keys.length > 0 ? `Node API access keys for ${list(keys)} (created through ${code(nodeApiUrl ?? '')}${nodeApiTls === undefined ? '' : `, ${nodeApiTls}`})` : undefined,
  ]
    .filter((part) => part !== undefined)
    .join('; ');
}

function accountsSection(model: AccessModel): string {
  const hosts = !model.ownership.transferHostHalf
    ? `${MANAGED_BY_OTHER_PARTY} The operator installs the docroots on their Aspera hosts from their own config.`
    : model.hosts.length === 0
      ? 'none configured: no docroot is installed by this stack'
      : model.hosts
          .map((h) => `${code(h.id)} as ${code(h.user)}, ${code(h.asperaConfPath)}, over SSH${h.retired ? ': retired, the next apply runs the uninstall there and installs nothing' : `: ${hostInstalls(model, h.nodeApiUrl, h.nodeApiTls)}`}`)
          .join('<br>');
  return [
    '## Accounts and principals',
    '',
    table(
      ['Field', 'Value'],
      [
        ['Mode', `${code(model.mode)}: this stack applies ${HALF_OF_MODE[model.mode]}`],
        ['My Account (bucket owner)', `${code(model.myAccount.accountId)} in ${code(model.myAccount.region)}`],
        ['Other Account (transfer host owner)', `${code(model.otherAccount.accountId)} in ${code(model.otherAccount.region)}`],
        ['Transfer host role', hostRoleDescription(model)],
        ['Transfer host role policy', hostPolicyDescription(model)],
        ['External ID', externalIdDescription(model)],
        ['Aspera hosts', hosts],
        ...fleetRows(model),
        ...(model.otherHalfState === undefined
          ? []
          : ([['Other half\'s state (read at plan time, never written)', code(s3Uri(model.otherHalfState.bucket, model.otherHalfState.key))]] as [string, string][])),
      ],
    ),
  ].join('\n');
}

/** The guards every grant role's policy carries (src/iam/s3-access.ts), in words. */
function guardsDescription(model: AccessModel, grant: GrantAccess): string {
  const theirs = model.ownership.bucketOwnerHalf ? '' : `${MANAGED_BY_OTHER_PARTY} This config expects: `;
  return (
    `${theirs}every request on ${code(s3Uri(grant.bucket))} without TLS is denied (${code('aws:SecureTransport')} ${code('false')}), whatever the bucket policy says; ` +
    `every action is allowed only while the bucket belongs to My Account ${code(model.myAccount.accountId)} (${code('s3:ResourceAccount')}), so a bucket of the same name in another account is never read or written` +
    (grant.access === 'read-only' ? '; read-only: no upload, delete or multipart action' : '')
  );
}

/** The bucket's KMS key: whose it is, what the role may do with it, and what a key of another account must allow. */
function kmsKeyDescription(model: AccessModel, grant: GrantAccess): string {
  const key = grant.kmsKey!;
  const actions = list(key.actions.map(code));
  const use = `the role may ${actions} on it only through S3 in ${code(model.myAccount.region)} (${code('kms:ViaService')}) and only for this bucket (${code('kms:EncryptionContext:aws:s3:arn')})`;
  if (key.owner === 'created') {
    const who = key.keyPolicyNamesRolePath
      ? `the roles under this stack's IAM path ${code(model.hostPolicy.grantRolePath)} use it (the list of the grant roles on this bucket would not fit in the 32,768 bytes KMS allows): the stack's grant roles on other buckets pass the key policy too, and only their own policies keep them to their own bucket's key`
      : 'only the grant roles on this bucket use it; nobody else, however wide their IAM policies';
    return `${key.arn} (SSE-KMS with an S3 Bucket Key, automatic rotation on): ${use}. Its key policy lets My Account administer it and ${who}.`;
  }
  if (key.owner === 'my-account') {
    return `${code(key.arn)}, an existing key of My Account: ${use}. Its key policy is not this stack's: it must let IAM policies of My Account grant its use (the default key policy does) or name this role.`;
  }
  return (
    `${code(key.arn)}, owned by account ${code(key.arn.split(':')[4])}: ${use}. Its key policy is its owner's, not this stack's: **it must allow ${actions} to ${code(grant.roleArn)} ` +
    `(or to My Account ${code(model.myAccount.accountId)}), else every transfer fails with AccessDenied** after a green apply.`
  );
}

function grantSection(model: AccessModel, grant: GrantAccess): string {
  const { bucketOwnerHalf, transferHostHalf } = model.ownership;
  const trust = [
    `${list(grant.trust.principals.map(code))}`,
    ...(grant.trust.conditions.length > 0 ? [`only if ${grant.trust.conditions.map((c) => codeWithExternalId(c, model.externalId)).join(' and ')}`] : []),
  ].join(' ');
  const flags = grant.confPermissions;
  const bucketNote = !bucketOwnerHalf ? "the bucket owner's bucket" : grant.bucketCreated ? 'bucket created by this stack' : 'existing bucket';
  const expects = `${MANAGED_BY_OTHER_PARTY} This config expects:`;

  // Rows in the order of the trust chain. Each part is either this half's (shown as created) or
  // the other party's (marked, with what this config expects of it where it has an expectation).
  const rows: [string, string][] = [
    ['Transfer user', code(grant.transferUser)],
    ['Bucket and prefix', `${where(grant)}, ${bucketNote}${bucketOwnerHalf ? '' : ' (*managed by the other party*)'}`],
    ['Access level', grant.access],
  ];
  if (bucketOwnerHalf) rows.push(['Role ARN', code(grant.roleArn)], ['Trusted principal', trust]);
  else rows.push(['Role ARN', `${MANAGED_BY_OTHER_PARTY} The bucket owner's role: ${code(grant.roleArn)}`], ['Trusted principal', `${expects} ${trust}`]);

  if (transferHostHalf) rows.push(['Transfer host role may assume it', grant.hostMayAssume ? 'yes' : '**no**: the host role policy does not list this role']);
  else rows.push(['Transfer host role may assume it', `${MANAGED_BY_OTHER_PARTY} The operator's host policy must allow ${code('sts:AssumeRole')} on this role.`]);

  if (bucketOwnerHalf) {
    for (const p of grant.permissions) {
      const service = p.actions.every((a) => a.startsWith('kms:')) ? 'KMS' : 'S3';
      rows.push([`${service} actions on ${list(p.resources.map(code))}${p.conditions.length > 0 ? ` when ${p.conditions.map(code).join(' and ')}` : ''}`, list(p.actions.map(code))]);
    }
    for (const g of grant.guards) {
      rows.push([`Denied on ${list(g.resources.map(code))}${g.conditions.length > 0 ? ` when ${g.conditions.map(code).join(' and ')}` : ''}`, list(g.actions.map(code))]);
    }
    rows.push(['All allowed actions', list(grant.actions.map(code))]);
  } else {
    rows.push(["Actions (the role's policy)", `${expects} ${list(grant.actions.map(code))}`]);
  }
  rows.push(['Guards', guardsDescription(model, grant)]);
  if (grant.kmsKey !== undefined) rows.push(['KMS key', kmsKeyDescription(model, grant)]);

  if (transferHostHalf) {
    const docroot = installsDocroot(grant);
    const key = grant.accessKey;
    rows.push(
      ['Installed as', [docroot ? 'a docroot in aspera.conf (for ascp transfer users)' : undefined, key !== undefined ? 'a Node API access key (for Faspex 5, Aspera on Cloud, Shares)' : undefined].filter((x) => x !== undefined).join(' and ')],
      ...(docroot
        ? ([
            ['Docroot (goes into aspera.conf)', codeWithExternalId(grant.docroot, model.externalId)],
            ['aspera.conf permissions', `read_allowed=${flags.readAllowed}, write_allowed=${flags.writeAllowed}, dir_allowed=${flags.dirAllowed}`],
          ] as [string, string][])
        : []),
      ...(key !== undefined
        ? ([
            [
              'Node API access key',
              `id ${code(key.id)}: storage ${code('aws_s3')} ${code(grant.bucket)} path ${code(key.path)}, credentials ${code('assume-role')} of ${code(grant.roleArn)} with the External ID, session name ${code(key.sessionName)}. ` +
                (grant.access === 'read-only'
                  ? 'An access key carries no read/write flag: the role allows no upload or delete, so those fail at S3 whatever Faspex or AoC offers.'
                  : 'An access key carries no read/write flag: what the role allows is what the key allows.'),
            ],
            ['Access key secret', `derived from ${code(`random_bytes.${ACCESS_KEY_SEED_ID}`)} (in state); read it with ${code('terraform output -json access_key_secrets')} (sensitive, never shown here)`],
          ] as [string, string][])
        : []),
      ['Installed on', grant.hosts.length === 0 ? 'no host configured' : list(grant.hosts.map(code))],
      ...(model.fleets.length === 0 ? [] : ([['Installed on fleets (SSM)', grant.fleets.length === 0 ? 'none' : list(grant.fleets.map(code))]] as [string, string][])),
    );
  } else {
    rows.push(['Docroot', `${MANAGED_BY_OTHER_PARTY} The operator installs it on their Aspera hosts; it must name this role ARN and ${model.nextExternalId === undefined ? 'the External ID' : 'an External ID the trust accepts (the new one once the operator switches)'}.`]);
  }
  return [`### ${code(grant.transferUser)}: ${grant.access} on ${where(grant)}`, '', table(['Field', 'Value'], rows)].join('\n');
}

function stateDescription(model: AccessModel): string {
  const state = model.state;
  if (state.backend === 's3') return `the Terraform state in ${code(s3Uri(state.bucket, state.key))} (the state bucket is not managed by this stack)`;
  return `the local Terraform state file ${code(state.path ?? `terraform.${model.stackName}.tfstate`)} (keep it: destroy needs it)`;
}

/** What destroy removes in My Account: the grant roles (the revocation) and the created buckets. */
function bucketOwnerRemovals(model: AccessModel): string[] {
  const created = model.buckets.filter((b) => b.created).map((b) => code(b.name));
  const keys = model.buckets.filter((b) => b.keyCreated).map((b) => code(b.name));
  return [
    `- In My Account ${code(model.myAccount.accountId)}: the grant roles ${list(model.grants.map((g) => code(g.roleArn)))} and their S3 policies. This is the revocation: from then on the transfer host cannot assume them, whatever is left on the host${model.mode === 'bucket-owner' ? ' and whatever the operator does' : ''}.`,
    ...(created.length > 0
      ? [
          `- The buckets this stack created: ${list(created)}, with their public access block, TLS-only policy, encryption and ownership settings. S3 deletes a bucket only when it is empty: a bucket that still holds objects makes destroy report an error and stays, without those settings.`,
        ]
      : []),
    ...(keys.length > 0
      ? [
          `- The KMS keys this stack created for ${list(keys)}: each is scheduled for deletion (after 30 days; ${code('aws kms cancel-key-deletion')} stops it in that time) only once its bucket is deleted, so a bucket that still holds objects keeps its key.`,
        ]
      : []),
  ];
}

const hasKeys = (model: AccessModel): boolean => model.grants.some((g) => g.accessKey !== undefined);

/** What the uninstall removes from a host: the docroots and the Node API access keys this stack installed. */
function destroyedOnHosts(model: AccessModel): string {
  const docroots = model.grants.filter((g) => installsDocroot(g)).map((g) => code(g.transferUser));
  const keys = model.grants.filter((g) => g.accessKey !== undefined).map((g) => code(g.accessKey!.id));
  return [
    docroots.length > 0 ? `the docroots this stack installed, for ${list(docroots)}, removed from aspera.conf` : undefined,
    keys.length > 0 ? `the Node API access keys it created, ${list(keys)}, deleted` : undefined,
  ]
    .filter((x) => x !== undefined)
    .join(', and ');
}

/** What destroy removes in Other Account and on the hosts. */
function transferHostRemovals(model: AccessModel): string[] {
  // The host configuration depends on what it uses, so Terraform removes it first.
  const before = model.mode === 'both' ? ' before the roles go' : ' before the host policy goes';
  return [
    model.hostRole.managed === 'created'
      ? `- In Other Account ${code(model.otherAccount.accountId)}: the transfer host role ${code(model.hostRole.arn)}, its instance profile and its assume-role policy.`
      : `- In Other Account ${code(model.otherAccount.accountId)}: the assume-role policy this stack put on the existing role ${code(model.hostRole.arn)} (the role itself stays).`,
    model.hosts.filter((h) => !h.retired).length === 0
      ? '- On the Aspera hosts: nothing (no host is configured).'
      : `- On each Aspera host (${list(model.hosts.filter((h) => !h.retired).map((h) => code(h.id)))}): ${destroyedOnHosts(model)} over SSH${before}. If a host cannot be reached, destroy gives up on it after a connection timeout and ${model.mode === 'both' ? 'still removes the roles' : 'still removes the host policy'}; the stale docroot stays in that host's aspera.conf${hasKeys(model) ? ' (and the access keys on its node; the uninstall removes the docroots even when only the Node API fails, and says which keys remain)' : ''} but no longer works (${model.mode === 'both' ? 'its role is gone' : 'the host role may no longer assume its role'}).`,
    ...model.fleets.map((f) =>
      f.runs === 'install'
        ? `- Fleet ${code(f.name)}: its SSM association and document. Deleting an association runs nothing on the instances: the docroots stay in their aspera.conf${hasKeys(model) ? ' and the access keys on their nodes' : ''} (they stop working once the grant roles are gone). To remove them, set the fleet's "docroots" to "removed" and apply before destroying.`
        : `- Fleet ${code(f.name)}: its SSM association and the uninstall document it ran; the instances' aspera.conf keeps what that uninstall restored.`,
    ),
    ...(model.externalId.kind === 'generated'
      ? [
          model.nextExternalId === undefined
            ? `- The generated External ID (output ${code(model.externalId.output)}). A later apply generates a new one, which the bucket owner must then require (with "otherHalfState" they pick it up at their next apply).`
            : `- The generated External ID, kept in state while the hosts present ${code('nextExternalId')}.`,
        ]
      : []),
  ];
}

function destroySection(model: AccessModel): string {
  const existing = model.buckets.filter((b) => !b.created).map((b) => code(b.name));
  const heading = ['## What `npx cdktf destroy` does', ''];
  const state = `- ${stateDescription(model).replace(/^the /, 'The ')}.`;
  const existingRole = model.hostRole.managed === 'existing' ? [`- The existing transfer host role ${code(model.hostRole.name)}.`] : [];

  if (model.mode === 'both') {
    const [grantRoles, ...buckets] = bucketOwnerRemovals(model);
    const [hostRole, ...hosts] = transferHostRemovals(model);
    const removes = [grantRoles, hostRole, ...buckets, ...hosts];
    const keeps = [
      ...(existing.length > 0 ? [`- The existing buckets ${list(existing)} (create: false): this stack never owned them.`] : []),
      '- Every object in every bucket: this stack never deletes data.',
      ...existingRole,
      state,
    ];
    return [...heading, 'This stack holds both halves: its destroy revokes everything it granted.', '', 'Removes:', '', ...removes, '', 'Keeps:', '', ...keeps].join('\n');
  }

  if (model.mode === 'bucket-owner') {
    const keeps = [
      ...(existing.length > 0 ? [`- The existing buckets ${list(existing)} (create: false): this stack never owned them.`] : []),
      '- Every object in every bucket: this stack never deletes data.',
      state,
      `- The other party's half, which this stack does not manage: the host role ${code(model.hostRole.arn)}, its policy naming the deleted roles, and the docroots on the operator's Aspera hosts. They stay, but no longer work.`,
    ];
    const other = [
      "This half's destroy revokes the access on its own: the operator need not do anything for it to end.",
      "For a clean end, the operator destroys the transfer-host half, which removes the docroots and the host policy. If the operator's config reads this half's state (\"otherHalfState\"), their next plan fails once this half's outputs are gone, until they destroy their half or remove \"otherHalfState\".",
    ];
    return [...heading, 'Removes:', '', ...bucketOwnerRemovals(model), '', 'Keeps:', '', ...keeps, '', 'The other party:', '', ...other.map((l) => `- ${l}`)].join('\n');
  }

  const keeps = [
    `- The grant roles ${list(model.grants.map((g) => code(g.roleArn)))}, their trust and S3 policies, and the buckets: they are the bucket owner's half, which this stack does not manage.`,
    ...existingRole,
    state,
  ];
  const other = [
    `This half's destroy ends the transfers through this host: the host role may no longer assume the grant roles${model.hosts.length > 0 ? ', and the docroots are gone' : ''}. It does not revoke the grant roles.`,
    `The grant roles keep trusting ${code(model.hostRole.arn)} with the External ID: a role of that name in Other Account ${code(model.otherAccount.accountId)} that is allowed ${code('sts:AssumeRole')} on them (the host role again, or one created with its name) can use them. To fully revoke, the bucket owner destroys the bucket-owner half (or removes the grants from their config and applies).`,
  ];
  return [...heading, 'Removes:', '', ...transferHostRemovals(model), '', 'Keeps:', '', ...keeps, '', 'The other party:', '', ...other.map((l) => `- ${l}`)].join('\n');
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
    ...(model.ownership.bucketOwnerHalf ? [] : ["The grant roles and their policies are the bucket owner's (*managed by the other party*); the table shows what this config expects.", '']),
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
    modeParagraph(model),
  ];
  const quota = roleQuotaNotice(input.config);
  if (quota !== undefined) head.push(['## Account quota needed before apply', '', `**${quota}**`].join('\n'));
  if (input.base !== undefined) {
    const baseModel = input.base.config === undefined ? undefined : accessModel(input.base.config);
    head.push(renderAccessDiff(diffAccess(baseModel, model), input.base.label, input.base.config === undefined));
  }
  const diagram = ['## Trust chain', '', '```mermaid', trustChainDiagram(model).trimEnd(), '```'].join('\n');
  const grants = [`## Grants (${model.grants.length})`, '', ...model.grants.map((g) => grantSection(model, g)).join('\n\n').split('\n')].join('\n');
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
