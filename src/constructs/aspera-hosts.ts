/**
 * Aspera host configuration: one null_resource per host. On create it runs the rendered install
 * script over SSH (one session, every grant); on destroy it runs the rendered uninstall script.
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
 *  - Revocation must not depend on the host: the destroy provisioner is on_failure = "continue".
 *    The null_resource depends on the grant roles, so Terraform destroys it first; were its
 *    failure fatal, a dead host would keep every role (and the access) alive. With "continue" the
 *    roles are destroyed regardless and a stale docroot may stay on an unreachable host (it no
 *    longer works: its role is gone). The uninstall script can be run by hand later.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { NullProvider } from '@cdktf/provider-null/lib/provider';
import { Resource as NullResource } from '@cdktf/provider-null/lib/resource';
import { App, type ITerraformDependable, Manifest, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { renderHostScripts, sha256Hex } from '../aspera/host-scripts';
import type { AsperaHost, Config } from '../config/schema';

export interface AsperaHostConfigurationProps {
  readonly config: Config;
  /** Resources that must exist before a host is configured (grant roles, host role policy). */
  readonly dependsOn: ITerraformDependable[];
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
  readonly timeout?: string;
}

/** A remote-exec provisioner as Terraform JSON spells it (cdktf's type lacks when/on_failure). */
export interface RemoteExecBlock {
  readonly 'remote-exec': {
    readonly when?: 'destroy';
    readonly on_failure: 'fail' | 'continue';
    readonly script: string;
    readonly connection: SshConnectionBlock;
  };
}

/** Where the scripts go, relative to the stack's working directory (where Terraform runs). */
export const SCRIPTS_DIR = 'aspera-host-scripts';

/** How long a destroy waits for an unreachable host before giving up (and moving on). */
export const DESTROY_CONNECTION_TIMEOUT = '2m';

/** The null_resource triggers for one host: everything the provisioners read, plus script hashes. */
export function hostTriggers(host: AsperaHost, scripts: { install: string; uninstall: string }): Record<string, string> {
  const triggers: Record<string, string> = {
    host: host.host,
    port: String(host.port),
    user: host.user,
    // "" means: authenticate with the SSH agent.
    private_key_path: host.privateKeyPath ?? '',
    aspera_conf_path: host.asperaConfPath,
    install_script_sha256: sha256Hex(scripts.install),
    uninstall_script_sha256: sha256Hex(scripts.uninstall),
  };
  if (host.hostKey !== undefined) triggers.host_key = host.hostKey;
  for (const [key, value] of Object.entries(triggers)) {
    // The schema forbids "$" and "%" in these fields; a value that still carried Terraform
    // template syntax would be evaluated, so refuse it outright.
    if (/[$%]\{/.test(value)) throw new Error(`asperaHosts: ${key} ${JSON.stringify(value)} contains Terraform template syntax`);
  }
  return triggers;
}

/** The connection, built only from self.triggers (the one thing a destroy provisioner may read). */
export function hostConnection(host: AsperaHost, timeout?: string): SshConnectionBlock {
  return {
    type: 'ssh',
    host: '${self.triggers.host}',
    port: '${self.triggers.port}',
    user: '${self.triggers.user}',
    ...(host.privateKeyPath !== undefined ? { private_key: '${file(pathexpand(self.triggers.private_key_path))}', agent: false } : { agent: true }),
    // Without host_key, Terraform accepts whatever key the server presents.
    ...(host.hostKey !== undefined ? { host_key: '${self.triggers.host_key}' } : {}),
    ...(timeout !== undefined ? { timeout } : {}),
  };
}

export function hostProvisioners(host: AsperaHost, installScriptPath: string, uninstallScriptPath: string): RemoteExecBlock[] {
  return [
    { 'remote-exec': { on_failure: 'fail', script: installScriptPath, connection: hostConnection(host) } },
    {
      'remote-exec': {
        when: 'destroy',
        on_failure: 'continue',
        script: uninstallScriptPath,
        connection: hostConnection(host, DESTROY_CONNECTION_TIMEOUT),
      },
    },
  ];
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

export class AsperaHostConfiguration extends Construct {
  /** One null_resource per configured host, in config order. */
  readonly hostResources: NullResource[] = [];

  constructor(scope: Construct, id: string, props: AsperaHostConfigurationProps) {
    super(scope, id);
    const { config } = props;
    const stack = TerraformStack.of(this);

    // The scripts are rendered now, so they are written now, straight into the directory the
    // stack synthesizes to (no temporary copies to clean up). Stale ones from an earlier synth,
    // e.g. of a host since removed, go first.
    const stackDir = join(App.of(this).outdir, Manifest.stacksFolder, stack.node.id);
    const ownDir = posix.join(SCRIPTS_DIR, this.node.id);
    rmSync(join(stackDir, ownDir), { recursive: true, force: true });
    if (config.asperaHosts.length === 0) return;

    if (!stack.node.findAll().some((c) => c instanceof NullProvider)) new NullProvider(stack, 'null');

    const ids = hostIds(config.asperaHosts);
    config.asperaHosts.forEach((host, i) => {
      const scripts = renderHostScripts(config, host);
      mkdirSync(join(stackDir, ownDir, ids[i]), { recursive: true });
      const write = (name: 'install' | 'uninstall'): string => {
        const relative = posix.join(ownDir, ids[i], `${name}.sh`);
        writeFileSync(join(stackDir, relative), scripts[name], { mode: 0o755 });
        return relative;
      };
      const install = write('install');
      const uninstall = write('uninstall');
      const resource = new NullResource(this, ids[i], {
        triggers: hostTriggers(host, scripts),
        dependsOn: props.dependsOn,
      });
      resource.addOverride('provisioner', hostProvisioners(host, install, uninstall));
      this.hostResources.push(resource);
    });
  }
}
