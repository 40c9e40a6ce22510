/**
 * The synthesized host resources as a Terraform configuration that runs on a machine where no
 * provider can be downloaded: each host's two null_resources become the built-in terraform_data
 * with the same provisioners, connection blocks and scripts (`triggers` -> `triggers_replace`, and
 * `self.triggers.*` -> `self.triggers_replace.*` where the connection reads them back). The AWS
 * resources and providers go; what the host resources depended on among them becomes one
 * terraform_data standing in for "the roles", which logs its creation and destruction, so the
 * order Terraform keeps between it and the hosts can be seen. And a runner for the real
 * `terraform` binary in such a directory.
 *
 * A stack with a plan-time value spliced into the install script (Node API access keys: the
 * secret seed random_bytes.access_key_secret_seed, sensitive; a generated External ID,
 * random_id.external_id) has more that must be carried over; each conversion is in
 * HOST_CONVERSIONS below, with why it is faithful. Anything else still throws: a new shape gets a
 * decision here instead of a silent pass.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCRIPTS_DIR } from '../../src/constructs/aspera-hosts';
import { applyRenames, CONVERSIONS, RANDOM_STAND_INS, randomStandIn, type RandomType, type Rename } from './real-provider';
import { mapStrings, type SynthOutput, type TerraformJson } from './synth';

/**
 * The conversions beyond null_resource -> terraform_data, and why each keeps what Terraform does.
 */
export const HOST_CONVERSIONS = {
  randomId:
    `${CONVERSIONS.randomId} (The real-provider suite's conversion, helpers/real-provider.ts: the same function, randomStandIn, makes both, ` +
    'and the test checks that both give the same block.) Only byte_length is carried (1 to 16 bytes); keepers, prefix, ' +
    'depends_on or lifecycle on a random_id throw. uuid() holds 122 random bits where random_id holds 128: the host script and the precondition ' +
    'see the same form (lowercase hex of the same length), which is all they check. Not carried: random_id\'s other attributes ' +
    '(b64_std, b64_url, dec) and its id, which is the value itself in base64url and which Terraform prints in every "Refreshing state... [id=...]" ' +
    'and "Creation complete [id=...]" line; terraform_data\'s id is an unrelated UUID, so a test of what Terraform prints cannot see that.',
  randomBytes:
    `${CONVERSIONS.randomBytes} (The real-provider suite's conversion, made by the same function; the test checks that both give the same block.) ` +
    'Only length is carried (1 to 16 bytes); keepers, depends_on or lifecycle on a random_bytes throw. uuid() holds 122 random bits where random_bytes ' +
    'holds 128: the host script and the precondition see the same form (lowercase hex of the same length). What Terraform prints of the value is ' +
    'faithful but for the stand-in\'s own block in a destroy plan (its output attribute, in clear): every expression of the stack reads it as sensitive, as ' +
    'the real one, so the plans hide what the stack derives from it unless the stack itself calls nonsensitive().',
  precondition:
    'lifecycle.precondition of the install resource is carried as it is (a meta-argument: Terraform core evaluates it the same for every resource ' +
    'type, when planning, or at apply before the resource is created when a value it reads is unknown then, as the seed is on a first apply), ' +
    'with the random_id or random_bytes reference renamed as above, in the condition and in the prose of its error_message. Its condition must be ' +
    'the splice check the stack writes: can(regex("^[0-9a-f]{N}$", random_id.<name>.hex)), or the same with random_bytes.<name>.hex. Any other ' +
    'lifecycle argument, another condition, or a lifecycle on the revocation resource throws.',
  splicedExpressions:
    'Besides self.triggers.*, a host resource may hold exactly the expressions a splice writes (src/constructs/aspera-hosts.ts), each with its ' +
    'reference renamed as above. For a random_id (not sensitive): the trigger sha256(random_id.<name>.hex), and the spliced value random_id.<name>.hex. ' +
    'For a random_bytes (sensitive): the trigger nonsensitive(sha256(random_bytes.<name>.hex)), and the spliced value nonsensitive(random_bytes.<name>.hex), ' +
    'which keeps the provisioner\'s output shown (Terraform suppresses all of it when its configuration holds a sensitive value); each type in its own ' +
    'form only (a random_bytes without nonsensitive(), or a random_id with it, throws). The install provisioner\'s inline = ' +
    '[replace(file("aspera-host-scripts/..."), "<MARKER>", <spliced value>)] is nested once per splice (the External ID\'s, then the seed\'s). ' +
    'file(), replace(), sha256(), nonsensitive(), sensitive(), can() and regex() are Terraform\'s own functions, evaluated the same whatever the resource; ' +
    'the script file is copied next to main.tf.json at the same relative path, as for `script`. Any other expression throws.',
  outputs:
    'Outputs computed from a converted random_id or random_bytes are carried over with the reference renamed, their sensitive flag and description kept ' +
    '(e.g. access_key_secrets = { <id> = sha256("${random_bytes.<seed>.hex}:<id>") }); the only forms accepted are sha256("${...hex}:<literal>"), ' +
    'sha256(...hex) and "${...hex}" interpolated into literal text. Outputs that refer to no converted resource are left out, like the AWS ' +
    'resources (those that refer to an AWS resource among them); an output referring to both throws.',
} as const;

/** The stand-in for the grant roles, their policies and the buckets the hosts depend on. */
export const ROLES = 'terraform_data.roles';
/** What the stand-in appends to the events log. */
export const ROLES_CREATED = 'roles created';
export const ROLES_DESTROYED = 'roles destroyed';

export interface HostTerraform {
  /** The configuration, as main.tf.json. */
  readonly json: { resource: { terraform_data: Record<string, Record<string, unknown>> }; output?: Record<string, Record<string, unknown>> };
  /** Addresses of the host's install and revocation resources, e.g. terraform_data.aspera_hosts_..._docroots_<hash>. */
  readonly docroots: string;
  readonly revocation: string;
  /** The connection timeouts as synthesized (undefined: the block sets none). */
  readonly installTimeout?: string;
  readonly destroyTimeout?: string;
  /** Each converted random_id and random_bytes: its address in cdk.tf.json ("random_bytes.x") -> its stand-in's ("terraform_data.x"). */
  readonly randoms: Readonly<Record<string, string>>;
  /** The outputs carried over (HOST_CONVERSIONS.outputs), by name. */
  readonly outputs: readonly string[];
}

type Provisioner = Record<string, { connection?: Record<string, unknown>; [key: string]: unknown }>;

const HOST_KEYS = new Set(['//', 'depends_on', 'provisioner', 'triggers']);
/** The expressions a host resource may hold: a trigger, or the key file a trigger names. */
const SELF_TRIGGERS = /^\$\{(self\.triggers\.[a-z_]+|file\(pathexpand\(self\.triggers\.[a-z_]+\)\))\}$/;

// HOST_CONVERSIONS.splicedExpressions, .precondition, .outputs: the only forms that may name a
// random_id or random_bytes, each a whole string.
const NAME = String.raw`[A-Za-z_][\w-]*`;
const RANDOM_HEX = String.raw`(?:random_id|random_bytes)\.${NAME}\.hex`;
/** The value a splice puts in, per type (HOST_CONVERSIONS.splicedExpressions). */
const SPLICE_VALUE = String.raw`(?:random_id\.${NAME}\.hex|nonsensitive\(random_bytes\.${NAME}\.hex\))`;
const SPLICE_TRIGGER = new RegExp(String.raw`^\$\{(?:sha256\(random_id\.${NAME}\.hex\)|nonsensitive\(sha256\(random_bytes\.${NAME}\.hex\)\))\}$`);
const SPLICE_CHECK = new RegExp(String.raw`^\$\{can\(regex\("\^\[0-9a-f\]\{[1-9][0-9]*\}\$", ${RANDOM_HEX}\)\)\}$`);
const SPLICED_SCRIPT = new RegExp(String.raw`^\$\{(replace\()+file\("${SCRIPTS_DIR}/[A-Za-z0-9_./-]+"\)(, "[A-Z]+", ${SPLICE_VALUE}\))+\}$`);
const DERIVED_OUTPUT = new RegExp(String.raw`^\$\{sha256\("\$\{${RANDOM_HEX}\}:[A-Za-z0-9_.@-]*"\)\}$`);
const HASHED_OUTPUT = new RegExp(String.raw`^\$\{sha256\(${RANDOM_HEX}\)\}$`);
const PLAIN_HEX = new RegExp(String.raw`^\$\{${RANDOM_HEX}\}$`);
/** Whether a string mentions a random resource at all (any attribute, or none). */
const MENTIONS_RANDOM = /(?<![\w.])random_(id|bytes)\./;
const PRECONDITION_KEYS = new Set(['condition', 'error_message']);
const RANDOM_TYPES = Object.keys(RANDOM_STAND_INS) as RandomType[];

/** Every "${...}" in a value. */
function expressions(value: unknown): string[] {
  if (typeof value === 'string') return value.match(/\$\{[^}]*\}/g) ?? [];
  if (Array.isArray(value)) return value.flatMap(expressions);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(expressions);
  return [];
}

const rename = <T>(value: T, from: string, to: string): T => JSON.parse(JSON.stringify(value).split(from).join(to)) as T;

/** Every string in a value (cdktf's "//" comments left out). */
const stringsIn = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : Array.isArray(value)
      ? value.flatMap(stringsIn)
      : value !== null && typeof value === 'object'
        ? Object.entries(value).flatMap(([k, v]) => (k === '//' ? [] : stringsIn(v)))
        : [];

/** The random resources (their addresses, "random_bytes.x") whose hex a string reads. */
const randomsIn = (s: string): string[] => [...s.matchAll(new RegExp(String.raw`(?<![\w.])(random_id|random_bytes)\.(${NAME})\.hex`, 'g'))].map((m) => `${m[1]}.${m[2]}`);

/** Whether `s` may be carried over where `forms` are allowed: no template, self.triggers only, or one of `forms` naming converted random resources only. */
function carried(s: string, randoms: ReadonlySet<string>, forms: readonly RegExp[]): boolean {
  if (!s.includes('${') && !s.includes('%{')) return true;
  if (!s.includes('%{') && !MENTIONS_RANDOM.test(s) && expressions(s).every((e) => SELF_TRIGGERS.test(e))) return true;
  return forms.some((form) => form.test(s)) && randomsIn(s).every((address) => randoms.has(address));
}

/**
 * HOST_CONVERSIONS.randomId, .randomBytes: the stand-in for each random_id and random_bytes,
 * exactly as real-provider.ts builds it (without cdktf's "//" comment), and the renames their
 * references need.
 */
function randomsAsTerraformData(resources: Record<string, Record<string, Record<string, any>>>): {
  bodies: Record<string, Record<string, unknown>>;
  renames: Rename[];
  addresses: Record<string, string>;
} {
  const bodies: Record<string, Record<string, unknown>> = {};
  const renames: Rename[] = [];
  const addresses: Record<string, string> = {};
  for (const type of RANDOM_TYPES) {
    const size = RANDOM_STAND_INS[type].size;
    for (const [name, body] of Object.entries(resources[type] ?? {})) {
      const unknown = Object.keys(body).filter((k) => k !== '//' && k !== size);
      if (unknown.length > 0) throw new Error(`${type}.${name}: no conversion for ${unknown.join(', ')}`);
      if (bodies[name] !== undefined) throw new Error(`${type}.${name}: terraform_data.${name} stands in for another random resource already`);
      const { input, renames: own } = randomStandIn(type, name, body[size]);
      bodies[name] = { input, lifecycle: { ignore_changes: ['input'] } };
      renames.push(...own);
      addresses[`${type}.${name}`] = `terraform_data.${name}`;
    }
  }
  return { bodies, renames, addresses };
}

/** HOST_CONVERSIONS.precondition: a host resource's lifecycle, checked (renamed later with the rest). */
function hostLifecycle(name: string, lifecycle: unknown, randoms: ReadonlySet<string>): Record<string, unknown> {
  if (lifecycle === null || typeof lifecycle !== 'object' || Array.isArray(lifecycle)) throw new Error(`null_resource.${name}: lifecycle is not a block`);
  const other = Object.keys(lifecycle).filter((k) => k !== 'precondition');
  if (other.length > 0) throw new Error(`null_resource.${name}: no conversion for lifecycle.${other.join(', lifecycle.')}`);
  const preconditions = (lifecycle as { precondition?: unknown }).precondition;
  if (!Array.isArray(preconditions) || preconditions.length === 0) throw new Error(`null_resource.${name}: lifecycle.precondition is not a list of blocks`);
  for (const p of preconditions as Array<Record<string, unknown>>) {
    const keys = Object.keys(p ?? {}).filter((k) => !PRECONDITION_KEYS.has(k));
    if (keys.length > 0) throw new Error(`null_resource.${name}: no conversion for precondition.${keys.join(', precondition.')}`);
    if (typeof p.condition !== 'string' || !SPLICE_CHECK.test(p.condition) || !randomsIn(p.condition).every((a) => randoms.has(a))) {
      throw new Error(`null_resource.${name}: no conversion for the precondition ${JSON.stringify(p.condition)}`);
    }
    if (typeof p.error_message !== 'string' || p.error_message.includes('${') || p.error_message.includes('%{')) {
      throw new Error(`null_resource.${name}: no conversion for the precondition's error_message ${JSON.stringify(p.error_message)}`);
    }
  }
  return { precondition: preconditions };
}

/** HOST_CONVERSIONS.outputs: those computed from a converted random_id or random_bytes. */
function outputsFromRandoms(tf: TerraformJson, randoms: ReadonlySet<string>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, output] of Object.entries(tf.output ?? {})) {
    const strings = stringsIn(output.value);
    const fromRandom = strings.some((s) => MENTIONS_RANDOM.test(s));
    if (!fromRandom) continue;
    const keys = Object.keys(output).filter((k) => !['value', 'sensitive', 'description'].includes(k));
    if (keys.length > 0) throw new Error(`output.${name}: no conversion for ${keys.join(', ')}`);
    for (const s of strings) {
      const plainHex = s.includes('${') && !s.includes('%{') && expressions(s).every((e) => PLAIN_HEX.test(e)) && randomsIn(s).every((a) => randoms.has(a));
      if (!plainHex && !carried(s, randoms, [DERIVED_OUTPUT, HASHED_OUTPUT])) throw new Error(`output.${name}: no conversion for ${JSON.stringify(s)}`);
      if (!MENTIONS_RANDOM.test(s) && s.includes('${')) throw new Error(`output.${name} refers to ${expressions(s).join(', ')} besides a random resource`);
    }
    out[name] = { value: output.value, ...(output.sensitive !== undefined ? { sensitive: output.sensitive } : {}), ...(output.description !== undefined ? { description: output.description } : {}) };
  }
  return out;
}

/**
 * Converts one synthesized stack with exactly one Aspera host. `eventsLog` is the file the roles'
 * stand-in appends ROLES_CREATED and ROLES_DESTROYED to. Throws on anything it does not know how
 * to carry over faithfully (another resource type, a reference to a resource, a lifecycle block),
 * but for what HOST_CONVERSIONS carries: random_id and random_bytes, the splices' expressions and
 * the install resource's precondition, and the outputs computed from a random resource.
 */
export function hostResourcesAsTerraformData(tf: TerraformJson, eventsLog: string): HostTerraform {
  const nulls = tf.resource?.null_resource ?? {};
  const others = Object.keys(tf.resource ?? {}).filter((type) => type !== 'null_resource' && !(RANDOM_TYPES as string[]).includes(type) && !type.startsWith('aws_'));
  if (others.length > 0) throw new Error(`cannot stand in for ${others.join(', ')}`);
  const randoms = randomsAsTerraformData(tf.resource ?? {});
  const randomAddresses = new Set(Object.keys(randoms.addresses));
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
    const unknown = Object.keys(body).filter((k) => !HOST_KEYS.has(k) && !(k === 'lifecycle' && name === docroots));
    if (unknown.length > 0) throw new Error(`null_resource.${name}: no conversion for ${unknown.join(', ')}`);
    const lifecycle = body.lifecycle === undefined ? undefined : hostLifecycle(name, body.lifecycle, randomAddresses);
    // Only self.triggers may be read, and a converted random resource in the forms a splice
    // writes: anything else would need a resource this file does not have.
    const checked = (where: string, value: unknown, forms: readonly RegExp[]) => {
      const foreign = stringsIn(value).filter((s) => !carried(s, randomAddresses, forms));
      if (foreign.length > 0) throw new Error(`null_resource.${name} refers to ${foreign.flatMap((s) => (MENTIONS_RANDOM.test(s) ? [s] : expressions(s).filter((e) => !SELF_TRIGGERS.test(e)))).join(', ')} (${where})`);
    };
    checked('triggers', body.triggers, [SPLICE_TRIGGER]);
    checked('provisioner', (body.provisioner as Provisioner[] | undefined)?.map((p) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, { ...v, inline: undefined }]))), []);
    for (const p of (body.provisioner as Provisioner[] | undefined) ?? []) {
      for (const [type, block] of Object.entries(p)) if (block.inline !== undefined) checked(`${type}.inline`, block.inline, [SPLICED_SCRIPT]);
    }
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
    converted[name] = { triggers_replace: body.triggers, provisioner, ...(dependsOn.length > 0 ? { depends_on: dependsOn } : {}), ...(lifecycle !== undefined ? { lifecycle } : {}) };
  }
  const roleDependents = Object.values(converted).filter((c) => (c.depends_on as string[] | undefined)?.includes(ROLES));
  if (roleDependents.length !== 2) throw new Error('both host resources should depend on the roles');
  for (const [address, standIn] of Object.entries(randoms.addresses)) {
    const name = standIn.slice('terraform_data.'.length);
    if (converted[name] !== undefined || name === 'roles') throw new Error(`${address}: terraform_data.${name} exists already`);
    converted[name] = randoms.bodies[name];
  }
  const outputs = outputsFromRandoms(tf, randomAddresses);
  // The renames go over the host resources' expressions and the outputs (the stand-ins' own
  // bodies name none); every random_id and random_bytes reference must be gone afterwards.
  const renamed = (value: unknown) => mapStrings(value, (text) => applyRenames(text, randoms.renames));
  for (const name of Object.keys(converted)) converted[name] = renamed(converted[name]);
  const convertedOutputs = renamed(outputs) as Record<string, Record<string, unknown>>;
  const left = JSON.stringify([converted, convertedOutputs]).match(/(?<![\w.])random_(id|bytes)\.[\w-]+/g);
  if (left !== null) throw new Error(`references left after the conversion: ${[...new Set(left)].join(', ')}`);

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
    json: { resource: { terraform_data: converted }, ...(Object.keys(convertedOutputs).length > 0 ? { output: convertedOutputs } : {}) },
    docroots: `terraform_data.${docroots}`,
    revocation: `terraform_data.${revocation}`,
    installTimeout: timeoutOf(docroots),
    destroyTimeout: timeoutOf(revocation),
    randoms: randoms.addresses,
    outputs: Object.keys(convertedOutputs),
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
