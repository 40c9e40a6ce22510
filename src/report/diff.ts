/**
 * The access diff between two configs, per transfer user, in the words a reviewer decides on:
 * who gains access, who loses it, who may now assume the roles. Pure: two access models in,
 * a list of classified changes out. Rendering is in markdown.ts.
 *
 * Both models are computed by the same code (this branch's), so a change in the policy code itself
 * does not show here: it shows in the code diff and in the Terraform plan.
 *
 * The External ID is compared as two facts (src/modes/external-id.ts): which IDs the trust accepts
 * and which one the hosts present. A rotation's start (the trust accepts the next one too, the
 * docroots move to it) and its promotion (the trust drops the old one, the docroots stay) are
 * worded from those facts, and so is a direct change that cuts the hosts off.
 */
import { ExternalIds } from '../modes/external-id';
import type { ExternalIdSource } from '../modes/half-ownership';
import { externalIdStandInText } from './half-wording';
import { installsDocroot } from '../aspera/access-key';
import type { AccessModel, GrantAccess, TrustSummary } from './model';
import { code, list } from './text';
import { s3Uri } from '../aws/arns';

export type ChangeKind =
  /** A transfer user who had no grant gets one. */
  | 'added'
  /** A transfer user loses their grant (and role, and docroot). */
  | 'removed'
  /** More actions, a broader prefix, another host. */
  | 'widened'
  /** Fewer actions, a narrower prefix, one host less. */
  | 'narrowed'
  /** A grant points at another bucket, or at a prefix that neither contains nor is contained by the old one. */
  | 'moved'
  /** Who may assume the grant roles changes: trusted account, host role, External ID, conditions. */
  | 'principal'
  /** Anything else that changes what apply does (role replaced, bucket no longer managed, state moved, mode). */
  | 'changed'
  /** A change that depends on a value read at plan time (the other half's state): it cannot be compared at synth time. */
  | 'undetermined';

export interface AccessChange {
  readonly kind: ChangeKind;
  /** The transfer users concerned; empty for stack-level changes. */
  readonly transferUsers: readonly string[];
  /** True when a reviewer must look before approving: access grows, or who holds it changes. */
  readonly attention: boolean;
  /** One Markdown line. */
  readonly summary: string;
  /** Further Markdown lines (exact actions, ARNs). */
  readonly details: readonly string[];
}

/** How the prefix "to" relates to "from": "a/b" -> "a" is broader, "a" -> "a/b" narrower, "a" -> "b" disjoint. */
export function prefixRelation(from: string, to: string): 'same' | 'broader' | 'narrower' | 'disjoint' {
  // S3 object ARNs end in "prefix/*", so "a" covers "a/b" but not "ab".
  const covers = (outer: string, inner: string) => outer === '' || inner === outer || inner.startsWith(`${outer}/`);
  if (from === to) return 'same';
  if (covers(to, from)) return 'broader';
  if (covers(from, to)) return 'narrower';
  return 'disjoint';
}

/** "`s3://bucket/` (whole bucket)" or "`s3://bucket/prefix/`". */
export const where = (grant: GrantAccess): string => `${code(grant.location)}${grant.prefix === '' ? ' (whole bucket)' : ''}`;

const user = (name: string) => `**${name}**`;
const minus = <T>(a: readonly T[], b: readonly T[]): T[] => a.filter((x) => !b.includes(x));

function change(kind: ChangeKind, transferUsers: string[], summary: string, details: string[] = []): AccessChange {
  const attention = kind === 'added' || kind === 'widened' || kind === 'moved' || kind === 'principal' || kind === 'undetermined';
  return { kind, transferUsers, attention, summary, details };
}

/** Trust differences as user-independent sentences, so identical changes can be grouped. */
function trustDifferences(from: TrustSummary, to: TrustSummary): { principal: string[]; details: string[] } {
  const principal: string[] = [];
  const details: string[] = [];
  const addedPrincipals = minus(to.principals, from.principals);
  const removedPrincipals = minus(from.principals, to.principals);
  if (addedPrincipals.length > 0 || removedPrincipals.length > 0) {
    principal.push(`the grant roles now trust ${list(to.principals.map(code))} (was ${list(from.principals.map(code))})`);
  }
  if (from.principalArn !== to.principalArn) {
    principal.push(`the host role allowed to assume them changes from ${code(from.principalArn ?? 'any')} to ${code(to.principalArn ?? 'any')}`);
  }
  // The External ID is compared on its own (externalIdChanges), from the configs.
  const known = (c: string) => c.startsWith('sts:ExternalId ') || c.startsWith('aws:PrincipalArn ');
  const lostConditions = minus(from.conditions, to.conditions).filter((c) => !known(c));
  const newConditions = minus(to.conditions, from.conditions).filter((c) => !known(c));
  if (lostConditions.length > 0) principal.push(`the trust policy loses the condition(s) ${list(lostConditions.map(code))}`);
  if (newConditions.length > 0) details.push(`New trust condition(s): ${list(newConditions.map(code))}`);
  return { principal, details };
}

/**
 * What both models describe as this stack's own, so that a difference in it is a change this
 * stack makes. Across modes, a part one side applies and the other leaves to the other party is
 * not compared value by value: the mode change (modeChanges) says what moves where.
 */
function bothApply(from: AccessModel, to: AccessModel) {
  return {
    bucketOwnerHalf: from.ownership.bucketOwnerHalf && to.ownership.bucketOwnerHalf,
    transferHostHalf: from.ownership.transferHostHalf && to.ownership.transferHostHalf,
  };
}

/** The same source of an External ID that is not in the config: the same state object, or both generated. */
function sameSource(from: ExternalIdSource, to: ExternalIdSource): boolean {
  if (from.kind === 'other-half-state' && to.kind === 'other-half-state') {
    return from.state.bucket === to.state.bucket && from.state.key === to.state.key && from.output === to.output;
  }
  return from.kind === to.kind && from.kind !== 'config';
}

/**
 * The same External ID on both sides: the same value in the configs, or the same source of one
 * that is not (whatever its value, it is the same one). A generated one always differs from a
 * configured one.
 */
const sameExternalId = (a: ExternalIdSource, b: ExternalIdSource): boolean =>
  a.kind === 'config' && b.kind === 'config' ? a.value === b.value : sameSource(a, b);

/** A model's External IDs: what the trust accepts and what the hosts present. */
const externalIdsOf = (model: AccessModel): ExternalIds => ExternalIds.from(model.externalId, model.nextExternalId);

function grantChanges(fromModel: AccessModel, toModel: AccessModel, from: GrantAccess, to: GrantAccess): AccessChange[] {
  const u = to.transferUser;
  const out: AccessChange[] = [];
  const applied = bothApply(fromModel, toModel);
  const relation = from.bucket === to.bucket ? prefixRelation(from.prefix, to.prefix) : 'disjoint';
  const level = from.access === to.access ? '' : ` (${from.access} → ${to.access})`;
  // In the operator's half the S3 actions are the bucket owner's to grant: what changes here is aspera.conf.
  const whose = toModel.ownership.bucketOwnerHalf ? '' : ": in this half's docroot and aspera.conf; the S3 policy is the bucket owner's (managed by the other party)";

  if (relation === 'disjoint') {
    out.push(
      change('moved', [u], `${user(u)} moves from ${where(from)} to ${where(to)}: gains ${to.access} access to ${where(to)} and loses access to ${where(from)}${whose}`, [
        `Actions on the new location: ${list(to.actions.map(code))}`,
      ]),
    );
  } else if (relation === 'broader') {
    out.push(change('widened', [u], `${user(u)} gets a broader location: ${where(from)} → ${where(to)} (${to.access})${whose}`));
  } else if (relation === 'narrower') {
    out.push(change('narrowed', [u], `${user(u)} gets a narrower location: ${where(from)} → ${where(to)}${whose}`));
  }

  const gained = minus(to.actions, from.actions);
  const lost = minus(from.actions, to.actions);
  // KMS actions are on the bucket's key (through S3 only), not on the bucket: said apart.
  const isKms = (action: string) => action.startsWith('kms:');
  const keyOf = (grant: GrantAccess) => (grant.kmsKey === undefined ? 'its KMS key' : grant.kmsKey.owner === 'created' ? grant.kmsKey.arn : `the KMS key ${code(grant.kmsKey.arn)}`);
  if (relation !== 'disjoint') {
    const [gainedS3, gainedKms] = [gained.filter((a) => !isKms(a)), gained.filter(isKms)];
    const [lostS3, lostKms] = [lost.filter((a) => !isKms(a)), lost.filter(isKms)];
    if (gainedS3.length > 0) out.push(change('widened', [u], `${user(u)} gains ${list(gainedS3.map(code))} on ${where(to)}${level}${whose}`));
    if (gainedKms.length > 0) out.push(change('widened', [u], `${user(u)} gains ${list(gainedKms.map(code))} on ${keyOf(to)}, through S3 only, for ${where(to)}${level}${whose}`));
    if (lostS3.length > 0) out.push(change('narrowed', [u], `${user(u)} loses ${list(lostS3.map(code))} on ${where(to)}${level}${whose}`));
    if (lostKms.length > 0) out.push(change('narrowed', [u], `${user(u)} loses ${list(lostKms.map(code))} on ${keyOf(from)}${level}${whose}`));
    if (from.kmsKey !== undefined && to.kmsKey !== undefined && from.kmsKey.arn !== to.kmsKey.arn) {
      out.push({ ...change('changed', [u], `${user(u)}: the KMS key of ${where(to)} changes from ${keyOf(from)} to ${keyOf(to)}${whose}`), attention: true });
    }
    const samePolicyShape = relation === 'same' && gained.length === 0 && lost.length === 0 && from.kmsKey?.arn === to.kmsKey?.arn;
    if (samePolicyShape && JSON.stringify(from.permissions) !== JSON.stringify(to.permissions)) {
      out.push({
        ...change('changed', [u], `${user(u)}: the role's S3 policy changes (same actions, bucket and prefix; other resources or conditions): read the plan`),
        attention: true,
      });
    }
  }

  if (from.roleArn !== to.roleArn) {
    const replaced = applied.bucketOwnerHalf ? ' (Terraform deletes the old role and creates the new one)' : '';
    out.push({
      ...change('changed', [u], `${user(u)}: the grant role changes from ${code(from.roleArn)} to ${code(to.roleArn)}${replaced}`),
      attention: true,
    });
  }

  // The docroots and the host policy are compared only where both configs apply them.
  if (applied.transferHostHalf) {
    const newHosts = minus(to.hosts, from.hosts);
    const goneHosts = minus(from.hosts, to.hosts);
    // What the hosts get for this grant: its docroot, its access key, or both.
    const installed = (g: GrantAccess) =>
      installsDocroot(g) && g.accessKey !== undefined ? 'the docroot and the access key are' : g.accessKey !== undefined ? 'the access key is' : 'the docroot is';
    if (newHosts.length > 0) out.push(change('widened', [u], `${user(u)}: ${installed(to)} also installed on ${list(newHosts.map(code))}`));
    if (goneHosts.length > 0) out.push(change('narrowed', [u], `${user(u)}: ${installed(from)} removed from ${list(goneHosts.map(code))}`));
    const newFleets = minus(to.fleets, from.fleets);
    const goneFleets = minus(from.fleets, to.fleets);
    if (newFleets.length > 0) out.push(change('widened', [u], `${user(u)}: the docroot is also installed on the instances of fleet ${list(newFleets.map(code))} (SSM)`));
    if (goneFleets.length > 0) out.push(change('narrowed', [u], `${user(u)}: the docroot is no longer installed by fleet ${list(goneFleets.map(code))} (SSM)`));

    // What the hosts get for the grant ("installAs"): a Node API access key opens the same S3 access to Faspex, AoC and Shares users.
    if (from.accessKey === undefined && to.accessKey !== undefined) {
      out.push(change('widened', [u], `${user(u)}: a Node API access key ${code(to.accessKey.id)} is created on the hosts, with the same S3 access (Faspex 5, Aspera on Cloud and Shares reach it through the key)`));
    }
    if (from.accessKey !== undefined && to.accessKey === undefined) out.push(change('narrowed', [u], `${user(u)}: the Node API access key ${code(from.accessKey.id)} is deleted from the hosts`));
    const hadDocroot = installsDocroot(from);
    const hasDocroot = installsDocroot(to);
    if (!hadDocroot && hasDocroot) out.push(change('widened', [u], `${user(u)}: the docroot is installed in aspera.conf (ascp transfers as this user)`));
    if (hadDocroot && !hasDocroot) out.push(change('narrowed', [u], `${user(u)}: the docroot is removed from aspera.conf`));

    if (!from.hostMayAssume && to.hostMayAssume) out.push(change('widened', [u], `${user(u)}: the transfer host role may now assume ${code(to.roleArn)}`));
    if (from.hostMayAssume && !to.hostMayAssume) out.push(change('narrowed', [u], `${user(u)}: the transfer host role may no longer assume ${code(to.roleArn)}`));

    // A docroot that changes only because the hosts present another External ID is in externalIdChanges.
    const externalIdExplains = !sameExternalId(externalIdsOf(fromModel).presented.source, externalIdsOf(toModel).presented.source);
    const explained = out.length > 0 || externalIdExplains;
    if (!explained && from.docroot !== to.docroot) {
      out.push(change('changed', [u], `${user(u)}: the docroot changes`, [`Before: ${code(from.docroot)}`, `After: ${code(to.docroot)}`]));
    }
  }
  return out;
}

const hostRoleCreated = (model: AccessModel) => model.hostRole.managed === 'created';

function stackChanges(from: AccessModel, to: AccessModel): AccessChange[] {
  const out: AccessChange[] = [];
  const applied = bothApply(from, to);
  if (applied.transferHostHalf && from.hostRole.name === to.hostRole.name && hostRoleCreated(from) !== hostRoleCreated(to)) {
    out.push(
      hostRoleCreated(to)
        ? change('changed', [], `The transfer host role ${code(to.hostRole.name)} is now created by this stack (apply fails if a role with that name already exists)`)
        : { ...change('changed', [], `The transfer host role ${code(from.hostRole.name)} is no longer created by this stack: apply deletes it and its instance profile`), attention: true },
    );
  }
  if (from.hostPolicy.form !== to.hostPolicy.form) {
    const roles = applied.bucketOwnerHalf
      ? `every grant role moves from the IAM path ${code(from.hostPolicy.grantRolePath)} to ${code(to.hostPolicy.grantRolePath)}: IAM cannot move a role, so Terraform deletes and recreates each one (same name, new ARN) and transfers fail until the docroots name the new ARNs`
      : `the grant roles must be under ${code(to.hostPolicy.grantRolePath)}: the bucket owner's half must switch too`;
    out.push(
      to.hostPolicy.form === 'role-path'
        ? change('widened', [], `The transfer host role's policy changes to ${code('role-path')}: it may try every role under ${code(to.hostPolicy.assumable[0])} instead of the listed grant roles; ${roles}`)
        : { ...change('narrowed', [], `The transfer host role's policy changes to ${code('exact-roles')}: it lists each grant role instead of a path; ${roles}`), attention: true },
    );
  }
  const created = (m: AccessModel) => new Set(m.buckets.filter((b) => b.created).map((b) => b.name));
  const before = applied.bucketOwnerHalf ? created(from) : new Set<string>();
  const after = applied.bucketOwnerHalf ? created(to) : new Set<string>();
  for (const name of before) {
    if (!after.has(name)) {
      out.push({
        ...change('changed', [], `Bucket ${code(name)} is no longer created by this stack: apply deletes it if it is empty, and fails on it if it holds objects`),
        attention: true,
      });
    }
  }
  for (const name of after) {
    if (!before.has(name)) out.push(change('changed', [], `Bucket ${code(name)} is created and hardened by this stack (apply fails if it already exists)`));
  }
  if (from.myAccount.region !== to.myAccount.region && after.size > 0) {
    out.push({
      ...change('changed', [], `My Account region changes from ${code(from.myAccount.region)} to ${code(to.myAccount.region)}: the buckets this stack creates live there`),
      attention: true,
    });
  }
  if (JSON.stringify(from.state) !== JSON.stringify(to.state)) {
    out.push({
      ...change('changed', [], `The Terraform state moves from ${code(JSON.stringify(from.state))} to ${code(JSON.stringify(to.state))}: migrate it first, or apply plans every resource anew`),
      attention: true,
    });
  }
  const baseHosts = new Map(from.hosts.map((h) => [h.id, h]));
  if (applied.transferHostHalf) {
    const kept = new Set(to.hosts.map((h) => h.id));
    for (const host of from.hosts) {
      if (!kept.has(host.id) && !host.retired) {
        out.push({
          ...change('changed', [], `Host ${code(host.id)} leaves the config without being retired: Terraform runs no uninstall there and its docroots stay; retire it first ("retired": true, apply)`),
          attention: true,
        });
      }
    }
    for (const host of to.hosts) {
      const old = baseHosts.get(host.id);
      if (old !== undefined && host.nodeApiUrl !== undefined && (old.nodeApiUrl !== host.nodeApiUrl || old.nodeApiTls !== host.nodeApiTls)) {
        out.push({
          ...change('changed', [], `Host ${code(host.id)}: the access keys are managed through ${code(host.nodeApiUrl)} (${host.nodeApiTls}), before ${old.nodeApiUrl === undefined ? 'none' : `${code(old.nodeApiUrl)} (${old.nodeApiTls})`}`),
          attention: true,
        });
      }
      if (host.retired && baseHosts.get(host.id)?.retired !== true) {
        out.push(change('changed', [], `Host ${code(host.id)} is retired: this apply runs the uninstall there over SSH, and nothing is installed on it any more`));
      }
    }
    const baseFleets = new Map(from.fleets.map((f) => [f.name, f]));
    for (const fleet of to.fleets) {
      const old = baseFleets.get(fleet.name);
      if (fleet.runs === 'uninstall' && old?.runs !== 'uninstall') {
        out.push(change('changed', [], `Fleet ${code(fleet.name)}: its association now runs the uninstall on every matching instance (docroots "removed")`));
      }
      if (old !== undefined && JSON.stringify(old.targets) !== JSON.stringify(fleet.targets)) {
        out.push({ ...change('changed', [], `Fleet ${code(fleet.name)}: its targets change to ${list(fleet.targets.map(code))}: instances that no longer match keep their docroots`), attention: true });
      }
    }
    const keptFleets = new Set(to.fleets.map((f) => f.name));
    for (const fleet of from.fleets) {
      if (!keptFleets.has(fleet.name) && fleet.runs === 'install') {
        out.push({
          ...change('changed', [], `Fleet ${code(fleet.name)} leaves the config while installed: deleting its association runs nothing on the instances and their docroots stay; set its "docroots" to "removed" and apply first`),
          attention: true,
        });
      }
    }
  }
  for (const host of to.hosts) {
    const old = baseHosts.get(host.id);
    if (old === undefined) continue;
    if (old.user !== host.user) out.push(change('changed', [], `Host ${code(host.id)}: SSH user changes from ${code(old.user)} to ${code(host.user)}`));
    if (old.asperaConfPath !== host.asperaConfPath) {
      out.push(change('changed', [], `Host ${code(host.id)}: aspera.conf path changes from ${code(old.asperaConfPath)} to ${code(host.asperaConfPath)}`));
    }
  }
  return out;
}

/**
 * A change of mode: which half this stack stops or starts applying. The access itself is
 * compared grant by grant as usual; this says what moves between this stack and the other party.
 */
function modeChanges(from: AccessModel, to: AccessModel): AccessChange[] {
  if (from.mode === to.mode) return [];
  const out: AccessChange[] = [];
  const header = `The mode changes from ${code(from.mode)} to ${code(to.mode)}`;
  const roles = list(to.grants.map((g) => code(g.roleArn)));
  const created = list(from.buckets.filter((b) => b.created).map((b) => code(b.name)));
  if (from.ownership.bucketOwnerHalf && !to.ownership.bucketOwnerHalf) {
    out.push({
      ...change('changed', [], `${header}: this stack stops applying the bucket owner's half, which becomes the other party's`, [
        `The state the base config applied holds the grant roles and their policies${created === '(none)' ? '' : ` and the buckets ${created}`}; this mode configures no provider for My Account, so this stack can no longer change or delete them. Before applying, remove them from that state (\`terraform state rm\`) and have the bucket owner's half take them over (\`terraform import\`).`,
      ]),
      attention: true,
    });
  }
  if (!from.ownership.bucketOwnerHalf && to.ownership.bucketOwnerHalf) {
    out.push({
      ...change('changed', [], `${header}: this stack starts applying the bucket owner's half`, [
        `It creates the grant roles ${roles}${to.ownership.createdBuckets.length > 0 ? ` and the buckets ${list(to.ownership.createdBuckets.map(code))}` : ''}; apply fails on any that already exist (import them first).`,
      ]),
      attention: true,
    });
  }
  if (from.ownership.transferHostHalf && !to.ownership.transferHostHalf) {
    out.push({
      ...change('changed', [], `${header}: this stack stops applying the transfer host's half, which becomes the other party's`, [
        `The state the base config applied holds the host role's access (${code(from.hostRole.arn)})${from.hosts.length > 0 ? ` and the docroots on ${list(from.hosts.map((h) => code(h.id)))}` : ''}; this mode configures no provider for Other Account, so this stack can no longer change or delete them. Before applying, remove them from that state (\`terraform state rm\`) and have the operator's half take them over.`,
      ]),
      attention: true,
    });
  }
  if (!from.ownership.transferHostHalf && to.ownership.transferHostHalf) {
    out.push({
      ...change('changed', [], `${header}: this stack starts applying the transfer host's half`, [
        `It ${hostRoleCreated(to) ? 'creates the host role' : 'puts the assume-role policy on the existing role'} ${code(to.hostRole.arn)}${to.hosts.length > 0 ? ` and installs the docroots on ${list(to.hosts.map((h) => code(h.id)))}` : ''}; apply fails on a role that already exists (import it first).`,
      ]),
      attention: true,
    });
  }
  return out;
}

/** "`x` in the config", "read from the operator's state `s3://...` at plan time", "generated at first apply". */
function externalIdOrigin(source: ExternalIdSource): string {
  if (source.kind === 'config') return `${code(source.value)} (in the config)`;
  if (source.kind === 'other-half-state') return `${externalIdStandInText(source)} (${code(s3Uri(source.state.bucket, source.state.key))})`;
  return externalIdStandInText(source);
}

/**
 * A direct change of the one External ID (no rotation on either side) whose values are not both in
 * the configs: one change for every grant in both. Whether a value read at plan time differs
 * cannot be told here; a generated one always differs from a configured one.
 */
function externalIdSourceChange(from: AccessModel, to: AccessModel, users: string[]): AccessChange[] {
  const who = list(users.map(user));
  const what = `the External ID was ${externalIdOrigin(from.externalId)} and is now ${externalIdOrigin(to.externalId)}`;
  if (from.externalId.kind === 'other-half-state' || to.externalId.kind === 'other-half-state') {
    return [
      change(
        'undetermined',
        users,
        `Who may assume the role of ${who} may change: ${what}. A value read from the other half's state cannot be compared at synth time: compare the ${code('sts:ExternalId')} of the trust policies in \`cdktf plan\``,
      ),
    ];
  }
  return [change('principal', users, `Who may assume the role of ${who} changes: ${what}: every docroot changes with it, and the bucket owner must require the new value`)];
}

/** One External ID in a rotation's words: its value (with its field when `of` is given), or where it comes from. */
function externalIdWords(id: ExternalIdSource, of?: ExternalIds): string {
  if (id.kind !== 'config') return externalIdOrigin(id);
  if (of === undefined) return code(id.value);
  const field = of.next !== undefined && sameExternalId(of.next.source, id) ? 'nextExternalId' : 'externalId';
  return `${code(id.value)} (${code(field)})`;
}

/**
 * The External ID from one config to the other, for every grant in both: which IDs the trust
 * accepts and which one the hosts present. A rotation's start and its promotion are worded from
 * those two facts, so that a promotion (the docroots stay) never reads as a change of every docroot.
 */
function externalIdChanges(from: AccessModel, to: AccessModel, users: string[]): AccessChange[] {
  if (users.length === 0) return [];
  const before = externalIdsOf(from);
  const after = externalIdsOf(to);
  const rotation = before.rotating || after.rotating;
  const bothInConfigs = from.externalId.kind === 'config' && to.externalId.kind === 'config';
  if (!sameExternalId(from.externalId, to.externalId)) {
    // A current External ID read from the other half's state that may have changed, or another source outside a rotation.
    const planTime = from.externalId.kind === 'other-half-state' || to.externalId.kind === 'other-half-state';
    if (planTime || (!rotation && !bothInConfigs)) return externalIdSourceChange(from, to, users);
  }

  const accepts = (ids: ExternalIds) => ids.accepted.map((id) => id.source);
  const gained = accepts(after).filter((a) => !accepts(before).some((b) => sameExternalId(a, b)));
  const lost = accepts(before).filter((b) => !accepts(after).some((a) => sameExternalId(a, b)));
  const hostsMove = !sameExternalId(before.presented.source, after.presented.source);
  if (gained.length === 0 && lost.length === 0 && !hostsMove) return [];

  const who = list(users.map(user));
  const plain = (ids: readonly ExternalIdSource[]) => ids.map((id) => externalIdWords(id)).join(' and ');
  const named = (ids: readonly ExternalIdSource[], of: ExternalIds) => ids.map((id) => externalIdWords(id, of)).join(' and ');
  const trustIsOurs = to.ownership.bucketOwnerHalf;
  const docrootsAreOurs = from.ownership.transferHostHalf && to.ownership.transferHostHalf;
  const fromState = to.externalId.kind === 'other-half-state';
  const presentedBefore = before.presented.source;
  const presentedAfter = plain([after.presented.source]);
  const trust = trustIsOurs ? "the grant roles' trust" : "the bucket owner's trust (managed by the other party)";
  const sentences: string[] = [];

  if (!rotation) {
    // One External ID in the configs replaced by another: the hosts lose access between the two updates.
    sentences.push(
      `the External ID changes from ${plain([from.externalId])} to ${plain([to.externalId])}: every docroot changes with it`,
      'hosts are cut off from the moment the trust stops accepting the old value until they present the new one (and any host configured outside this stack until it is updated); ' +
        `to rotate without an outage, add the new value as ${code('nextExternalId')} first and promote it once every host presents it`,
    );
  } else if (gained.length > 0 && lost.length === 0) {
    sentences.push(
      trustIsOurs
        ? `an External ID rotation starts: ${trust} accepts ${named(gained, after)} as well as ${named(accepts(before), before)}`
        : `an External ID rotation starts: ${trust} must accept ${named(gained, after)} as well before this is applied (they add it as ${code('nextExternalId')} and apply first)`,
    );
    if (docrootsAreOurs) sentences.push(`every docroot changes to present ${presentedAfter}`);
    else if (!to.ownership.transferHostHalf) sentences.push(`the operator then moves their hosts to ${presentedAfter}`);
    if (trustIsOurs) sentences.push(`nothing is cut off: hosts that still present ${plain(accepts(before))} keep working until the promotion`);
  } else if (gained.length === 0 && lost.length > 0 && fromState) {
    // The current one is the operator's published value: what it is now shows only in the plan.
    sentences.push(
      `${trust} no longer accepts ${named(lost, before)} besides ${plain([to.externalId])}: this promotes the rotation if the operator's state publishes the new value by now ` +
        '(`cdktf plan` shows it in each trust policy), and abandons it otherwise',
    );
  } else {
    const promoted = gained.length === 0 && !hostsMove;
    const abandoned = gained.length === 0 && hostsMove;
    const what = promoted ? 'the External ID rotation is promoted: ' : abandoned ? 'the External ID rotation is abandoned: ' : '';
    sentences.push(
      gained.length === 0
        ? `${what}${trust} ${trustIsOurs ? 'no longer accepts' : 'need no longer accept'} ${named(lost, before)}, only ${named(accepts(after), after)}`
        : `${trust} accepts ${named(accepts(after), after)} instead of ${named(accepts(before), before)}`,
    );
    if (docrootsAreOurs) sentences.push(hostsMove ? `every docroot changes to present ${presentedAfter}` : `the docroots do not change (they present ${presentedAfter} already)`);
    if (trustIsOurs && lost.length > 0) {
      // Who loses access: hosts still presenting an External ID the trust no longer accepts.
      const outside = docrootsAreOurs ? 'one configured outside this stack' : 'one the operator configured outside their stack';
      sentences.push(
        hostsMove && lost.some((id) => sameExternalId(id, presentedBefore))
          ? `hosts that still present ${plain([presentedBefore])} are cut off until they present ${presentedAfter}`
          : `a host that still presents ${plain(lost)} (${outside} from the ${code('docroots')} output, say) is cut off: approve once every host presents ${presentedAfter}`,
      );
    }
  }
  if (gained.length === 0 && lost.length === 0) return [change('changed', users, `The docroots of ${who} change: ${sentences.join('; ')}`)];
  return [change('principal', users, `Who may assume the role of ${who} changes: ${sentences.join('; ')}`)];
}

/**
 * Every access change from `from` (undefined: nothing deployed yet) to `to`, per transfer user,
 * then stack-level changes. An empty list means: no access changes.
 */
export function diffAccess(from: AccessModel | undefined, to: AccessModel): AccessChange[] {
  const out: AccessChange[] = [];
  const baseGrants = new Map((from?.grants ?? []).map((g) => [g.transferUser, g]));
  const nextUsers = new Set(to.grants.map((g) => g.transferUser));
  const trustGroups = new Map<string, { users: string[]; principal: string[]; details: string[] }>();
  const kept: string[] = [];

  for (const grant of to.grants) {
    const old = baseGrants.get(grant.transferUser);
    if (old === undefined || from === undefined) {
      out.push(
        change('added', [grant.transferUser], `${user(grant.transferUser)} gets **${grant.access}** access to ${where(grant)}`, [
          `Role ${code(grant.roleArn)}${to.ownership.bucketOwnerHalf ? '' : " (the bucket owner's, managed by the other party)"}, actions ${list(grant.actions.map(code))}`,
          !to.ownership.transferHostHalf
            ? "The docroot is the operator's (managed by the other party)"
            : grant.hosts.length === 0
              ? 'No Aspera host is configured: no docroot is installed'
              : `Docroot installed on ${list(grant.hosts.map(code))}`,
        ]),
      );
      continue;
    }
    kept.push(grant.transferUser);
    out.push(...grantChanges(from, to, old, grant));
    const trust = trustDifferences(old.trust, grant.trust);
    if (trust.principal.length > 0 || trust.details.length > 0) {
      const key = JSON.stringify(trust);
      const group = trustGroups.get(key) ?? { users: [], ...trust };
      group.users.push(grant.transferUser);
      trustGroups.set(key, group);
    }
  }
  for (const group of trustGroups.values()) {
    const who = list(group.users.map(user));
    if (group.principal.length > 0) {
      out.push(change('principal', group.users, `Who may assume the role of ${who} changes: ${group.principal.join('; ')}`, group.details));
    } else {
      out.push(change('changed', group.users, `The trust policy of the role of ${who} changes`, group.details));
    }
  }
  if (from !== undefined) out.push(...externalIdChanges(from, to, kept));
  for (const old of from?.grants ?? []) {
    if (!nextUsers.has(old.transferUser)) {
      const deleted = from?.ownership.bucketOwnerHalf && to.ownership.bucketOwnerHalf;
      out.push(
        change(
          'removed',
          [old.transferUser],
          `${user(old.transferUser)} loses **${old.access}** access to ${where(old)}: ${deleted ? `role ${code(old.roleArn)} is deleted` : `this config no longer names role ${code(old.roleArn)}`}`,
          [
            !(from?.ownership.transferHostHalf && to.ownership.transferHostHalf)
              ? "The docroot is the operator's (managed by the other party)"
              : old.hosts.length === 0
                ? 'No docroot to remove (no Aspera host configured)'
                : `Docroot removed from ${list(old.hosts.map(code))}`,
          ],
        ),
      );
    }
  }
  if (from !== undefined) out.push(...modeChanges(from, to), ...stackChanges(from, to));
  return out;
}
