/**
 * Aspera host configuration: two null_resources per host, so that a config change costs one SSH
 * session and at most one asperanoded restart on the host.
 *
 *  - <host>_docroots installs: its create-time remote-exec runs the rendered install script (one
 *    SSH session, every grant). It has no destroy-time provisioner. Its triggers are the
 *    connection values and the install script's sha256, so a changed grant, External ID, endpoint
 *    or template replaces this resource alone: destroying it runs nothing, creating it runs the
 *    install once, and the install converges aspera.conf to the grants (it also removes the
 *    docroots it installed before that are no longer granted).
 *  - <host>_revocation uninstalls: only a destroy-time remote-exec, which runs the rendered
 *    uninstall script. That script carries no grant and no External ID (it undoes what the host's
 *    state file records), so its triggers - the connection values, the aspera.conf path and its
 *    sha256 - do not change with the grants. The uninstall runs on `destroy`, and when the host's
 *    SSH user, key path, host key or aspera.conf path changes (that replaces both resources: two
 *    sessions then). Terraform runs no destroy-time provisioner of a resource whose block is gone
 *    from the config: removing a host, or changing its address or port (which name its
 *    resources), runs no uninstall there.
 *
 * A host with "retired": true has neither: one null_resource <host>_retirement whose create-time
 * remote-exec runs the uninstall script (on_failure "fail"), and nothing on destroy. Retiring a
 * host is one apply whose plan shows the two resources destroyed (running nothing: their blocks
 * are gone) and the retirement created (running the uninstall); the entry can then be removed,
 * which destroys the retirement and runs nothing.
 *
 * Order: the revocation depends on the grant roles and policies (so on destroy it runs before
 * they go), and the install depends on the revocation and on those same resources (so it runs
 * after everything it needs exists, and on destroy is removed first, which runs nothing).
 * Two resources, not one with both scripts: Terraform cannot update a null_resource in place, so
 * with both scripts on one resource every grant change ran the uninstall and then the install.
 *
 * The scripts are written into the synthesized stack directory
 * (cdktf.out/stacks/<stack>/aspera-host-scripts/<construct>/<host>/) so that reviewers read exactly
 * what runs; remote-exec's `script` uploads them (Terraform runs in that directory).
 *
 * Terraform rules that shape this construct:
 *  - A destroy-time provisioner and its connection may refer to nothing but `self`, so every
 *    connection value lives in the triggers and is read back as self.triggers.*.
 *  - The private key is read at apply time with file(pathexpand(...)): only its path is in the
 *    triggers, so the key never reaches cdk.tf.json or the state.
 *  - remote-exec uploads the script to the connection's script_path, runs `chmod 0777` on it, runs
 *    it, and (after a success) uploads an empty file over it. The default, /tmp/terraform_%RAND%.sh,
 *    would leave a file any local user can rewrite (and the script re-runs itself as root) in a
 *    world-writable directory, which may also be mounted noexec. SCRIPT_PATH puts it in the SSH
 *    user's home directory instead (private on most systems: 0700); the script refuses to run
 *    where someone else could have rewritten it (a home directory others may enter, say).
 *  - Both connections have the host's connectionTimeout (default 1m; Terraform's own default is
 *    5 minutes), the same for install and uninstall: either way the question is how long this
 *    host may take to answer SSH. It bounds the attempts to connect - a refused or silent port,
 *    a pinned host key that does not match (Terraform retries that too) - not the script once it
 *    runs. It is written into both connections as a literal, not read from self.triggers: a
 *    destroy-time provisioner may refer to nothing but self, but a literal refers to nothing.
 *    Terraform takes provisioner blocks from the configuration at the time they run and keeps
 *    them out of the state, so a changed timeout changes no resource (no reinstall, no
 *    uninstall): the plan shows no change, and the next install or uninstall uses the new value.
 *  - Revocation must not depend on the host: the destroy provisioner is on_failure = "continue".
 *    Were its failure fatal, a dead host would keep every role (and the access) alive. With
 *    "continue" the roles are destroyed regardless and a stale docroot may stay on an unreachable
 *    host (it no longer works: its role is gone). The uninstall script can be run by hand later.
 *
 * An External ID generated at apply time (mode "transfer-host" without "externalId", and not
 * rotating to a "nextExternalId", which the hosts then present) cannot be in a file written at
 * synth time. Then the install script is written with a marker in its place,
 * and the create-time provisioner runs `inline = [replace(file(<install script>), <marker>,
 * <reference>)]` instead of `script`: Terraform uploads that text as one script file and runs it,
 * just as it does with `script` (one SSH session, the script's own file as $0 for `sudo -n`).
 * A precondition lets only lowercase hex of the expected length be spliced in, a trigger of the
 * install resource carries its sha256 (a new value re-installs, the plan shows no value), and the
 * uninstall script needs no External ID at all, so the revocation resource is unchanged.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { NullProvider } from '@cdktf/provider-null/lib/provider';
import { Resource as NullResource } from '@cdktf/provider-null/lib/resource';
import { App, type ITerraformDependable, Manifest, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { ACCESS_KEY_SEED_MARKER } from '../aspera/access-key';
import { EXTERNAL_ID_MARKER, type HostScripts, SCRIPT_PATH, sha256Hex } from '../aspera/host-scripts';
import { type AsperaHost, CONNECTION_TIMEOUT } from '../config/schema';
import { hclString, refuseTemplateSyntax } from '../exchange/hcl';
import type { PlanTimeExternalId } from '../modes/external-id';

export type { PlanTimeExternalId } from '../modes/external-id';

export interface AsperaHostConfigurationProps {
  /** The SSH hosts (config.asperaHosts), retired ones included. */
  readonly hosts: readonly AsperaHost[];
  /**
   * The install and uninstall scripts of a host, as written at synth time: with the External ID,
   * or with EXTERNAL_ID_MARKER where planTimeExternalId goes (src/modes/external-id.ts).
   */
  readonly scriptsFor: (host: AsperaHost) => HostScripts;
  /** Resources that must exist before a host is configured (grant roles, host role policy). */
  readonly dependsOn: ITerraformDependable[];
  /** Set when the External ID is generated by Terraform: spliced into the install script at plan time. */
  readonly planTimeExternalId?: PlanTimeExternalId;
  /** Set when a grant is installed as a Node API access key: the seed of their secrets, spliced in the same way. */
  readonly accessKeySeed?: PlanTimeExternalId;
}

/** A value known at plan time that Terraform puts into the install script in place of its marker. */
export interface Splice extends PlanTimeExternalId {
  readonly marker: string;
  /**
   * A sensitive value (the seed): spliced and hashed through nonsensitive(). Terraform hides the
   * whole output of a provisioner whose configuration holds a sensitive value (the script's error
   * messages included), and never displays the script itself; the hash of 128 random bits tells nothing.
   */
  readonly sensitive?: true;
  /** What it is, for the precondition's message. */
  readonly what: string;
  /** The install resource's trigger that carries its sha256 (a new value re-installs; the plan shows no value). */
  readonly trigger: string;
}

export const externalIdSplice = (externalId: PlanTimeExternalId): Splice => ({ ...externalId, marker: EXTERNAL_ID_MARKER, what: 'The generated External ID', trigger: 'external_id_sha256' });
export const accessKeySeedSplice = (seed: PlanTimeExternalId): Splice => ({ ...seed, marker: ACCESS_KEY_SEED_MARKER, what: 'The access key secret seed', trigger: 'access_key_seed_sha256', sensitive: true });

/** The splice's value as replace() takes it. */
const spliceValue = (s: Splice): string => (s.sensitive ? `nonsensitive(${checkedReference(s)})` : checkedReference(s));

/** The install resource's trigger for a splice: the value's sha256. */
export const spliceTrigger = (s: Splice): string => (s.sensitive ? `\${nonsensitive(sha256(${checkedReference(s)}))}` : `\${sha256(${checkedReference(s)})}`);

/** The splices an install script needs: those whose marker it holds. */
export function splicesFor(installScript: string, planTimeExternalId?: PlanTimeExternalId, accessKeySeed?: PlanTimeExternalId): Splice[] {
  return [...(planTimeExternalId !== undefined ? [externalIdSplice(planTimeExternalId)] : []), ...(accessKeySeed !== undefined ? [accessKeySeedSplice(accessKeySeed)] : [])].filter((s) =>
    installScript.includes(s.marker),
  );
}

/** An SSH connection block as Terraform JSON spells it. */
export interface SshConnectionBlock {
  readonly type: 'ssh';
  readonly host: string;
  readonly port: string;
  readonly user: string;
  readonly private_key?: string;
  readonly agent: boolean;
  readonly host_key?: string;
  /** How long Terraform tries to connect (Terraform's default, without it: 5 minutes). */
  readonly timeout: string;
  readonly script_path: string;
}

/** A remote-exec provisioner as Terraform JSON spells it (cdktf's type lacks when/on_failure). */
export interface RemoteExecBlock {
  readonly 'remote-exec': {
    readonly when?: 'destroy';
    readonly on_failure: 'fail' | 'continue';
    /** Exactly one of script (a file uploaded as it is) and inline (the script's text). */
    readonly script?: string;
    readonly inline?: readonly string[];
    readonly connection: SshConnectionBlock;
  };
}

/** Where the scripts go, relative to the stack's working directory (where Terraform runs). */
export const SCRIPTS_DIR = 'aspera-host-scripts';

/** What every provisioner of a host connects with (read back as self.triggers.*). */
function connectionTriggers(host: AsperaHost): Record<string, string> {
  return {
    host: host.host,
    port: String(host.port),
    user: host.user,
    // "" means: authenticate with the SSH agent.
    private_key_path: host.privateKeyPath ?? '',
    ...(host.hostKey !== undefined ? { host_key: host.hostKey } : {}),
  };
}

function refuseTemplateSyntaxIn(triggers: Record<string, string>): Record<string, string> {
  // The schema forbids "$" and "%" in these fields; a value that still carried Terraform
  // template syntax would be evaluated, so refuse it outright.
  for (const [key, value] of Object.entries(triggers)) refuseTemplateSyntax(value, `asperaHosts: ${key}`);
  return triggers;
}

/**
 * The install resource's triggers: the connection and the install script's hash (which covers
 * the aspera.conf path, the grants and the External ID), so that any change re-installs.
 */
export function docrootsTriggers(host: AsperaHost, installScript: string): Record<string, string> {
  return refuseTemplateSyntaxIn({ ...connectionTriggers(host), install_script_sha256: sha256Hex(installScript) });
}

/**
 * The revocation resource's triggers: only what its destroy-time uninstall reads or runs. No grant
 * and no External ID reach the uninstall script, so a grant change leaves this resource alone.
 */
export function revocationTriggers(host: AsperaHost, uninstallScript: string): Record<string, string> {
  return refuseTemplateSyntaxIn({ ...connectionTriggers(host), aspera_conf_path: host.asperaConfPath, uninstall_script_sha256: sha256Hex(uninstallScript) });
}

/**
 * The connection, built only from self.triggers (the one thing a destroy provisioner may refer
 * to) and the host's connectionTimeout, written in as a literal (see the header).
 */
export function hostConnection(host: AsperaHost): SshConnectionBlock {
  // Defence in depth: the value is written into the Terraform JSON as it is.
  if (!CONNECTION_TIMEOUT.test(host.connectionTimeout)) throw new Error(`asperaHosts: connectionTimeout ${JSON.stringify(host.connectionTimeout)} is not a duration such as "90s" or "1m"`);
  return {
    type: 'ssh',
    host: '${self.triggers.host}',
    port: '${self.triggers.port}',
    user: '${self.triggers.user}',
    ...(host.privateKeyPath !== undefined ? { private_key: '${file(pathexpand(self.triggers.private_key_path))}', agent: false } : { agent: true }),
    // Without host_key, Terraform accepts whatever key the server presents.
    ...(host.hostKey !== undefined ? { host_key: '${self.triggers.host_key}' } : {}),
    timeout: host.connectionTimeout,
    script_path: SCRIPT_PATH,
  };
}

const TERRAFORM_REFERENCE = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)+$/;

function checkedReference(externalId: PlanTimeExternalId): string {
  if (!TERRAFORM_REFERENCE.test(externalId.reference)) throw new Error(`planTimeExternalId: ${JSON.stringify(externalId.reference)} is not a plain Terraform reference`);
  if (!Number.isInteger(externalId.hexDigits) || externalId.hexDigits < 2) throw new Error(`planTimeExternalId: ${externalId.hexDigits} is not a number of hex digits`);
  return externalId.reference;
}

/**
 * The install script's text with the plan-time External ID in place of every marker. The
 * docroots percent-encode the External ID (docroot.ts); for hex that encoding is the identity, so
 * the raw value goes in as it is (renderHostScriptsWithExternalIdMarker checks that equivalence).
 * replace() with a quoted substring is literal; file() returns the text as it is, so nothing in
 * the script (its "${...}" shell expansions included) is read as a Terraform template.
 */
/** The Terraform expression (without "${}") of the install script's text with every splice's value in place of its marker (one replace() each). */
export function splicedScriptExpression(installScriptPath: string, splices: readonly Splice[]): string {
  return splices.reduce((inner, s) => `replace(${inner}, ${hclString(s.marker)}, ${spliceValue(s)})`, `file(${hclString(installScriptPath)})`);
}

/** The install script's text with every splice's value in place of its marker, as a Terraform string. */
export const installScriptWithSplices = (installScriptPath: string, splices: readonly Splice[]): string => `\${${splicedScriptExpression(installScriptPath, splices)}}`;

/** Lets only lowercase hex of the expected length reach the script (before it runs). */
export function splicePrecondition(splice: Splice): { condition: string; errorMessage: string } {
  const reference = checkedReference(splice);
  return {
    condition: `\${can(regex("^[0-9a-f]{${splice.hexDigits}}$", ${reference}))}`,
    errorMessage: `${splice.what} (${reference}) must be ${splice.hexDigits} lowercase hex digits: it is put into the Aspera host script as it is.`,
  };
}

/**
 * The install: one create-time remote-exec (one SSH session); a failure fails the apply, a host
 * that cannot be reached within its connectionTimeout included.
 */
export function installProvisioner(host: AsperaHost, installScriptPath: string, splices: readonly Splice[] = []): RemoteExecBlock {
  const install = splices.length === 0 ? { script: installScriptPath } : { inline: [installScriptWithSplices(installScriptPath, splices)] };
  return { 'remote-exec': { on_failure: 'fail', ...install, connection: hostConnection(host) } };
}

/**
 * The revocation: a destroy-time remote-exec that never stops the destroy (see above): a host that
 * cannot be reached within its connectionTimeout is left as it is.
 */
export function revocationProvisioner(host: AsperaHost, uninstallScriptPath: string): RemoteExecBlock {
  return {
    'remote-exec': {
      when: 'destroy',
      on_failure: 'continue',
      script: uninstallScriptPath,
      connection: hostConnection(host),
    },
  };
}

/**
 * The retirement of a host: a create-time remote-exec that runs the uninstall script. Unlike the
 * revocation it fails the apply when the host cannot be reached or the uninstall fails: the
 * operator asked for this host to be cleaned now, and the plan said it would be.
 */
export function retirementProvisioner(host: AsperaHost, uninstallScriptPath: string): RemoteExecBlock {
  return { 'remote-exec': { on_failure: 'fail', script: uninstallScriptPath, connection: hostConnection(host) } };
}

/** A construct id per host that stays put when hosts are reordered in the config. */
export function hostIds(hosts: readonly AsperaHost[]): string[] {
  const used = new Set<string>();
  return hosts.map((h) => {
    let id = `host_${`${h.host}_${h.port}`.replace(/[^A-Za-z0-9]+/g, '_')}`;
    if (used.has(id)) id = `${id}_${sha256Hex(`${h.host}:${h.port}`).slice(0, 8)}`;
    used.add(id);
    return id;
  });
}

/** The two resources of one host. */
export interface HostResources {
  /** Installs the docroots on create (and runs nothing on destroy). */
  readonly docroots: NullResource;
  /** Runs the uninstall on destroy (and nothing on create). */
  readonly revocation: NullResource;
}

export class AsperaHostConfiguration extends Construct {
  /** Per configured host that is not retired, in config order. */
  readonly hosts: HostResources[] = [];
  /** Per retired host: the resource whose creation runs the uninstall there. */
  readonly retirements: NullResource[] = [];

  constructor(scope: Construct, id: string, props: AsperaHostConfigurationProps) {
    super(scope, id);
    const { hosts, planTimeExternalId, accessKeySeed } = props;
    const stack = TerraformStack.of(this);

    // The scripts are rendered now, so they are written now, straight into the directory the
    // stack synthesizes to (no temporary copies to clean up). Stale ones from an earlier synth,
    // e.g. of a host since removed, go first.
    const stackDir = join(App.of(this).outdir, Manifest.stacksFolder, stack.node.id);
    const ownDir = posix.join(SCRIPTS_DIR, this.node.id);
    rmSync(join(stackDir, ownDir), { recursive: true, force: true });
    if (hosts.length === 0) return;

    if (!stack.node.findAll().some((c) => c instanceof NullProvider)) new NullProvider(stack, 'null');

    const ids = hostIds(hosts);
    hosts.forEach((host, i) => {
      const scripts = props.scriptsFor(host);
      mkdirSync(join(stackDir, ownDir, ids[i]), { recursive: true });
      const write = (name: 'install' | 'uninstall'): string => {
        const relative = posix.join(ownDir, ids[i], `${name}.sh`);
        writeFileSync(join(stackDir, relative), scripts[name], { mode: 0o755 });
        return relative;
      };
      const uninstall = write('uninstall');
      if (host.retired) {
        // A retired host: its install and revocation resources leave the config (destroying them
        // runs nothing, their blocks being gone), and this resource runs the uninstall once, when
        // it is created. The plan shows it being created. It runs nothing on destroy: removing the
        // entry afterwards forgets the host.
        const retirement = new NullResource(this, `${ids[i]}_retirement`, { triggers: revocationTriggers(host, scripts.uninstall) });
        retirement.addOverride('provisioner', [retirementProvisioner(host, uninstall)]);
        this.retirements.push(retirement);
        return;
      }
      const install = write('install');

      const revocation = new NullResource(this, `${ids[i]}_revocation`, {
        triggers: revocationTriggers(host, scripts.uninstall),
        dependsOn: props.dependsOn,
      });
      revocation.addOverride('provisioner', [revocationProvisioner(host, uninstall)]);

      const triggers = docrootsTriggers(host, scripts.install);
      const splices = splicesFor(scripts.install, planTimeExternalId, accessKeySeed);
      // The hash, not the value: the External ID and the seed stay out of the plan; a new one re-installs.
      for (const splice of splices) triggers[splice.trigger] = spliceTrigger(splice);
      const docroots = new NullResource(this, `${ids[i]}_docroots`, {
        triggers,
        // The revocation first: every installed docroot then has an uninstall that runs on destroy.
        dependsOn: [...props.dependsOn, revocation],
        ...(splices.length > 0 ? { lifecycle: { precondition: splices.map(splicePrecondition) } } : {}),
      });
      docroots.addOverride('provisioner', [installProvisioner(host, install, splices)]);
      this.hosts.push({ docroots, revocation });
    });
  }
}
