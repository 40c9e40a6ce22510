/**
 * The synthesized host resources as a Terraform configuration that runs on a machine where no
 * provider can be downloaded: each host's two null_resources become the built-in terraform_data
 * with the same provisioners, connection blocks and scripts (`triggers` -> `triggers_replace`, and
 * `self.triggers.*` -> `self.triggers_replace.*` where the connection reads them back). The AWS
 * resources and providers go; what the host resources depended on among them becomes one
 * terraform_data standing in for "the roles", which logs its creation and destruction, so the
 * order Terraform keeps between it and the hosts can be seen. And a runner for the real
 * `terraform` binary in such a directory.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCRIPTS_DIR } from '../../src/constructs/aspera-hosts';
import type { SynthOutput, TerraformJson } from './synth';

/** The stand-in for the grant roles, their policies and the buckets the hosts depend on. */
export const ROLES = 'terraform_data.roles';
/** What the stand-in appends to the events log. */
export const ROLES_CREATED = 'roles created';
export const ROLES_DESTROYED = 'roles destroyed';

export interface HostTerraform {
  /** The configuration, as main.tf.json. */
  readonly json: { resource: { terraform_data: Record<string, Record<string, unknown>> } };
  /** Addresses of the host's install and revocation resources, e.g. terraform_data.aspera_hosts_..._docroots_<hash>. */
  readonly docroots: string;
  readonly revocation: string;
  /** The connection timeouts as synthesized (undefined: the block sets none). */
  readonly installTimeout?: string;
  readonly destroyTimeout?: string;
}

type Provisioner = Record<string, { connection?: Record<string, unknown>; [key: string]: unknown }>;

const HOST_KEYS = new Set(['//', 'depends_on', 'provisioner', 'triggers']);
/** The expressions a host resource may hold: a trigger, or the key file a trigger names. */
const SELF_TRIGGERS = /^\$\{(self\.triggers\.[a-z_]+|file\(pathexpand\(self\.triggers\.[a-z_]+\)\))\}$/;

/** Every "${...}" in a value. */
function expressions(value: unknown): string[] {
  if (typeof value === 'string') return value.match(/\$\{[^}]*\}/g) ?? [];
  if (Array.isArray(value)) return value.flatMap(expressions);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(expressions);
  return [];
}

const rename = <T>(value: T, from: string, to: string): T => JSON.parse(JSON.stringify(value).split(from).join(to)) as T;

/**
 * Converts one synthesized stack with exactly one Aspera host. `eventsLog` is the file the roles'
 * stand-in appends ROLES_CREATED and ROLES_DESTROYED to. Throws on anything it does not know how
 * to carry over faithfully (another resource type, a reference to a resource, a lifecycle block).
 */
export function hostResourcesAsTerraformData(tf: TerraformJson, eventsLog: string): HostTerraform {
  const nulls = tf.resource?.null_resource ?? {};
  const others = Object.keys(tf.resource ?? {}).filter((type) => type !== 'null_resource' && !type.startsWith('aws_'));
  if (others.length > 0) throw new Error(`cannot stand in for ${others.join(', ')}`);
  const named = (role: string) => {
    const names = Object.keys(nulls).filter((name) => new RegExp(`_${role}_[0-9A-F]{8}$`).test(name));
    if (names.length !== 1) throw new Error(`expected one ${role} null_resource, found ${names.join(', ') || 'none'}`);
    return names[0];
  };
  const docroots = named('docroots');
  const revocation = named('revocation');
  if (Object.keys(nulls).length !== 2) throw new Error(`expected the two resources of one host, found ${Object.keys(nulls).join(', ')}`);

  const converted: Record<string, Record<string, unknown>> = {};
  for (const [name, body] of Object.entries(nulls)) {
    const unknown = Object.keys(body).filter((k) => !HOST_KEYS.has(k));
    if (unknown.length > 0) throw new Error(`null_resource.${name}: no conversion for ${unknown.join(', ')}`);
    // Only self.triggers may be read: anything else would need a resource this file does not have.
    const foreign = expressions(body).filter((e) => !SELF_TRIGGERS.test(e));
    if (foreign.length > 0) throw new Error(`null_resource.${name} refers to ${foreign.join(', ')}`);
    const dependsOn = [
      ...new Set(
        (body.depends_on ?? []).map((d: string) => {
          if (d.startsWith('null_resource.')) return `terraform_data.${d.slice('null_resource.'.length)}`;
          if (d.startsWith('aws_')) return ROLES;
          throw new Error(`null_resource.${name} depends on ${d}`);
        }),
      ),
    ];
    const provisioner = rename(body.provisioner as Provisioner[], 'self.triggers.', 'self.triggers_replace.');
    // The same blocks, byte for byte, but for the attribute name they read the connection from.
    if (JSON.stringify(rename(provisioner, 'self.triggers_replace.', 'self.triggers.')) !== JSON.stringify(body.provisioner)) {
      throw new Error(`null_resource.${name}: the provisioners already mention triggers_replace`);
    }
    converted[name] = { triggers_replace: body.triggers, provisioner, ...(dependsOn.length > 0 ? { depends_on: dependsOn } : {}) };
  }
  const roleDependents = Object.values(converted).filter((c) => (c.depends_on as string[] | undefined)?.includes(ROLES));
  if (roleDependents.length !== 2) throw new Error('both host resources should depend on the roles');

  // The stand-in logs through its environment: no path is ever parsed as a shell word.
  const log = (what: string, when?: 'destroy') => ({
    'local-exec': { ...(when ? { when } : {}), command: `printf '%s\\n' '${what}' >> "$EVENTS"`, environment: { EVENTS: '${self.input}' } },
  });
  converted.roles = { input: eventsLog, provisioner: [log(ROLES_CREATED), log(ROLES_DESTROYED, 'destroy')] };

  const timeoutOf = (name: string): string | undefined => {
    const blocks = (nulls[name].provisioner as Provisioner[]).map((p) => p['remote-exec']?.connection);
    if (blocks.length !== 1 || blocks[0] === undefined) throw new Error(`null_resource.${name}: expected one remote-exec`);
    return blocks[0].timeout as string | undefined;
  };
  return {
    json: { resource: { terraform_data: converted } },
    docroots: `terraform_data.${docroots}`,
    revocation: `terraform_data.${revocation}`,
    installTimeout: timeoutOf(docroots),
    destroyTimeout: timeoutOf(revocation),
  };
}

/** A retired host's configuration: its one retirement resource, and the roles' stand-in. */
export interface RetiredHostTerraform {
  readonly json: { resource: { terraform_data: Record<string, Record<string, unknown>> } };
  /** Address of the resource whose creation runs the uninstall. */
  readonly retirement: string;
}

/**
 * Converts a synthesized stack whose one Aspera host is retired: its single null_resource, named
 * <host>_retirement, becomes a terraform_data with the same provisioner (see above). The roles'
 * stand-in stays, so that it is not destroyed between the steps of a test.
 */
export function retiredHostAsTerraformData(tf: TerraformJson, eventsLog: string): RetiredHostTerraform {
  const nulls = tf.resource?.null_resource ?? {};
  const names = Object.keys(nulls);
  if (names.length !== 1 || !/_retirement_[0-9A-F]{8}$/.test(names[0])) throw new Error(`expected the one retirement null_resource of a retired host, found ${names.join(', ') || 'none'}`);
  const body = nulls[names[0]];
  const unknown = Object.keys(body).filter((k) => !HOST_KEYS.has(k) || k === 'depends_on');
  if (unknown.length > 0) throw new Error(`null_resource.${names[0]}: no conversion for ${unknown.join(', ')}`);
  const foreign = expressions(body).filter((e) => !SELF_TRIGGERS.test(e));
  if (foreign.length > 0) throw new Error(`null_resource.${names[0]} refers to ${foreign.join(', ')}`);
  const provisioner = rename(body.provisioner as Provisioner[], 'self.triggers.', 'self.triggers_replace.');
  const log = (what: string, when?: 'destroy') => ({
    'local-exec': { ...(when ? { when } : {}), command: `printf '%s\\n' '${what}' >> "$EVENTS"`, environment: { EVENTS: '${self.input}' } },
  });
  return {
    json: {
      resource: {
        terraform_data: {
          [names[0]]: { triggers_replace: body.triggers, provisioner },
          roles: { input: eventsLog, provisioner: [log(ROLES_CREATED), log(ROLES_DESTROYED, 'destroy')] },
        },
      },
    },
    retirement: `terraform_data.${names[0]}`,
  };
}

/** A Terraform duration ("2m", "30s", "1h5m") in milliseconds. */
export function durationMs(duration: string): number {
  const parts = [...duration.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== duration) throw new Error(`not a duration: ${duration}`);
  const unit = { ms: 1, s: 1000, m: 60000, h: 3600000 } as const;
  return parts.reduce((sum, [, n, u]) => sum + Number(n) * unit[u as keyof typeof unit], 0);
}

/** Terraform's documented wait for a connection without `timeout`. */
export const DEFAULT_CONNECTION_TIMEOUT = '5m';

export interface TerraformRun {
  readonly status: number | null;
  readonly output: string;
}

export interface TerraformDir {
  readonly dir: string;
  /**
   * Writes main.tf.json for `synth` (its host scripts next to it, where `script` finds them,
   * replacing any from an earlier step) and returns the conversion.
   */
  write(synth: SynthOutput): HostTerraform;
  /** write() for a stack whose one host is retired. */
  writeRetired(synth: SynthOutput): RetiredHostTerraform;
  /** Runs terraform with `args` in the directory; never rejects on a non-zero exit. */
  run(args: string[], timeoutMs?: number): Promise<TerraformRun>;
  /** Like run, but throws with Terraform's output on failure. */
  ok(args: string[], timeoutMs?: number): Promise<string>;
  /** Plans into a file and returns, per resource address, its actions ("create", "delete,create", ...). */
  plan(): Promise<Record<string, string>>;
  /** Addresses in the state. */
  state(): Promise<string[]>;
}

/**
 * A working directory for `terraform`. Its environment is built here, not inherited: no CLI config
 * or plugin cache of the machine, no version check (CHECKPOINT_DISABLE), no prompts.
 */
export function terraformDir(dir: string, eventsLog: string): TerraformDir {
  mkdirSync(dir, { recursive: true });
  const env = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    CHECKPOINT_DISABLE: '1',
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    NO_COLOR: '1',
  };
  const run = (args: string[], timeoutMs = 60000): Promise<TerraformRun> =>
    new Promise((resolve, reject) => {
      execFile('terraform', [...args], { cwd: dir, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error !== null && typeof error.code === 'string') {
          reject(error);
          return;
        }
        resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : null, output: `${stdout}${stderr}` });
      });
    });
  const ok = async (args: string[], timeoutMs?: number): Promise<string> => {
    const r = await run(args, timeoutMs);
    if (r.status !== 0) throw new Error(`terraform ${args.join(' ')} failed (${r.status}):\n${r.output}`);
    return r.output;
  };
  const writeConverted = <T extends { json: unknown }>(synth: SynthOutput, converted: T): T => {
    const scripts = join(dir, SCRIPTS_DIR);
    rmSync(scripts, { recursive: true, force: true });
    if (!existsSync(join(synth.stackDir, SCRIPTS_DIR))) throw new Error(`no ${SCRIPTS_DIR} in ${synth.stackDir}`);
    cpSync(join(synth.stackDir, SCRIPTS_DIR), scripts, { recursive: true });
    writeFileSync(join(dir, 'main.tf.json'), `${JSON.stringify(converted.json, null, 2)}\n`);
    return converted;
  };
  return {
    dir,
    write: (synth) => writeConverted(synth, hostResourcesAsTerraformData(synth.tf, eventsLog)),
    writeRetired: (synth) => writeConverted(synth, retiredHostAsTerraformData(synth.tf, eventsLog)),
    run,
    ok,
    async plan() {
      await ok(['plan', '-input=false', '-no-color', '-out=step.tfplan']);
      const shown = JSON.parse(await ok(['show', '-json', '-no-color', 'step.tfplan'])) as { resource_changes?: Array<{ address: string; change: { actions: string[] } }> };
      return Object.fromEntries((shown.resource_changes ?? []).map((c) => [c.address, c.change.actions.join(',')]));
    },
    async state() {
      if (!existsSync(join(dir, 'terraform.tfstate'))) return [];
      const state = JSON.parse(readFileSync(join(dir, 'terraform.tfstate'), 'utf8')) as { resources?: Array<{ type: string; name: string }> };
      return (state.resources ?? []).map((r) => `${r.type}.${r.name}`).sort();
    },
  };
}
