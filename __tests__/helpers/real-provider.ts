/**
 * The synthesized stack planned by real Terraform with the real hashicorp/aws provider, on a machine
 * that reaches no provider registry and no AWS endpoint (the real-provider suite,
 * __tests__/provider/, `npm run test:provider`; the host suite's fleet test uses the mirror too).
 *
 * The user's synthesized cdk.tf.json is never changed: asRealProviderStack() returns a converted
 * copy, and every conversion is made here, once, each with its reason (CONVERSIONS below). It
 * refuses whatever it has no conversion for (a provider setting, a resource or data source type, an
 * attribute of random_id or random_bytes), so that a new construct in the stack gets a decision here instead of a
 * silent pass.
 *
 * Also here: where the provider is found (awsProviderMirror), what the suite needs
 * (requireRealProviderTools), the state file that stands in for the other half's state
 * (otherHalfState), the IAM stand-in on 127.0.0.1 that answers the one AWS call a plan makes here
 * (startAwsStandIn), and a runner for init/validate/plan/show in a directory of its own
 * (realProviderDir).
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ConfigInput } from '../../src/config/schema';
import { hostRoleArn, hostRoleName } from '../../src/iam/arns';
import { mapStrings, resolveReference, type SynthOutput, type TerraformJson } from './synth';

// ---- Where the provider comes from --------------------------------------------------------------

/**
 * Where Terraform finds providers without a registry: its implied local mirror directories on Linux
 * (Terraform's CLI configuration docs, "Implied Local Mirror Directories"), then /opt/tf-plugins,
 * where this project's machines carry the AWS provider.
 */
export const AWS_PROVIDER_MIRRORS = [
  join(process.env.HOME ?? '/root', '.terraform.d/plugins'),
  join(process.env.HOME ?? '/root', '.local/share/terraform/plugins'),
  '/usr/local/share/terraform/plugins',
  '/usr/share/terraform/plugins',
  '/opt/tf-plugins',
];

/** How a machine gets what the real-provider suite needs (said by every "missing" message). */
export const HOW_TO_INSTALL =
  'CI (`bash .ci/run`) checks both before it runs the suite and fails naming what is missing. On a machine of your own: put Terraform >= 1.4 on PATH, and ' +
  'the hashicorp/aws provider for linux_amd64 in a filesystem mirror, e.g. from a machine with internet access `terraform providers mirror -platform=linux_amd64 ' +
  '/opt/tf-plugins` (in a directory whose configuration requires hashicorp/aws), then copy /opt/tf-plugins over';

/** The provider's versions in one mirror directory, unpacked (<version>/linux_amd64/) or packed (a zip per version). */
function versionsIn(mirror: string): string[] {
  const dir = join(mirror, 'registry.terraform.io/hashicorp/aws');
  if (!existsSync(dir)) return [];
  const versions = new Set<string>();
  for (const entry of readdirSync(dir)) {
    if (/^\d+\.\d+\.\d+$/.test(entry) && existsSync(join(dir, entry, 'linux_amd64'))) versions.add(entry);
    const packed = /^terraform-provider-aws_(\d+\.\d+\.\d+)_linux_amd64\.zip$/.exec(entry);
    if (packed !== null) versions.add(packed[1]);
  }
  return [...versions].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/**
 * A mirror holding hashicorp/aws for linux_amd64 (the first of AWS_PROVIDER_MIRRORS that has one),
 * and the version to use there: `preferred` (the stack's pin) when the mirror has it, else the
 * newest. Throws naming the directories looked in.
 */
export function awsProviderMirror(preferred?: string): { dir: string; version: string } {
  for (const dir of AWS_PROVIDER_MIRRORS) {
    const versions = versionsIn(dir);
    if (versions.length > 0) return { dir, version: preferred !== undefined && versions.includes(preferred) ? preferred : versions[versions.length - 1] };
  }
  throw new Error(
    `no hashicorp/aws provider for linux_amd64 in ${AWS_PROVIDER_MIRRORS.join(', ')} ` +
      '(registry.terraform.io/hashicorp/aws/<version>/linux_amd64/, or the packed terraform-provider-aws_<version>_linux_amd64.zip). ' +
      HOW_TO_INSTALL,
  );
}

/** Terraform's version on PATH, or why it cannot be used. */
function terraformVersion(): { version?: string; problem?: string } {
  const r = spawnSync('terraform', ['version', '-json'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', CHECKPOINT_DISABLE: '1' } });
  if (r.error !== undefined) return { problem: `terraform is not on PATH (${r.error.message})` };
  const version = /"terraform_version":\s*"(\d+\.\d+\.\d+)/.exec(r.stdout)?.[1];
  if (r.status !== 0 || version === undefined) return { problem: `\`terraform version -json\` failed (${r.status}): ${r.stderr.trim()}` };
  const [major, minor] = version.split('.').map(Number);
  if (major < 1 || (major === 1 && minor < 4)) return { version, problem: `terraform ${version} is too old (the suite needs >= 1.4: terraform_data)` };
  return { version };
}

/**
 * What the real-provider suite needs: Terraform >= 1.4 on PATH and the AWS provider in a mirror.
 * Throws naming everything missing and how CI installs it: a missing tool fails the suite, it is
 * never skipped.
 */
export function requireRealProviderTools(): { terraform: string; mirror: { dir: string; version: string } } {
  const problems: string[] = [];
  const tf = terraformVersion();
  if (tf.problem !== undefined) problems.push(tf.problem);
  let mirror: { dir: string; version: string } | undefined;
  try {
    mirror = awsProviderMirror();
  } catch (error) {
    problems.push((error as Error).message.split(`. ${HOW_TO_INSTALL}`)[0]);
  }
  if (problems.length > 0 || mirror === undefined || tf.version === undefined) {
    throw new Error(`the real-provider suite (npm run test:provider) cannot run: ${problems.join('; ')}. ${HOW_TO_INSTALL}.`);
  }
  return { terraform: tf.version, mirror };
}

// ---- The conversions ------------------------------------------------------------------------

/**
 * Every conversion asRealProviderStack makes, and why. The test suite prints them, and
 * docs/testing.md repeats them.
 */
export const CONVERSIONS = {
  providerVersion:
    'terraform.required_providers: hashicorp/aws at the mirror\'s version instead of the stack\'s pin (6.25.0 when written), which no registry can deliver here; ' +
    'the plan is therefore checked against that version\'s schemas. The null and random providers go: none exists here, and nothing is left that uses them.',
  backend:
    'terraform.backend: local, terraform.tfstate in the working directory. The S3 backend needs AWS; a synthesized local backend names the user\'s own state file, ' +
    'which a test must never read or write.',
  providerBlocks:
    'provider "aws": region, alias and default_tags kept (they decide what is planned: tags_all, regional values); allowed_account_ids, profile and assume_role removed ' +
    '(no credentials exist here, and allowed_account_ids needs the account ID that skip_requesting_account_id forbids asking for); static fake credentials, ' +
    'skip_credentials_validation, skip_requesting_account_id, skip_metadata_api_check and skip_region_validation, so that configuring the provider calls nothing; ' +
    'every endpoint of a service the stack uses (and STS) set to the stand-in on 127.0.0.1, path-style S3, so that no request can leave the machine.',
  nullResource:
    'null_resource -> the built-in terraform_data of the same name: the same provisioners, connection blocks, scripts, depends_on and lifecycle; triggers -> ' +
    'triggers_replace (the same replace-on-change semantics), self.triggers.* -> self.triggers_replace.*, and every reference null_resource.<name> -> terraform_data.<name>.',
  randomId:
    'random_id.<name> -> terraform_data.<name> with input = the hex digits of uuid() (cut to 2 x byte_length, at most 16 bytes) and lifecycle.ignore_changes = [input]: ' +
    'like random_id, its value is unknown when planning, lowercase hex of the same length once applied, and kept in state afterwards. ' +
    'random_id.<name>.hex -> terraform_data.<name>.output, random_id.<name> -> terraform_data.<name> (also in the prose of a message that names it); any other attribute is refused.',
  randomBytes:
    'random_bytes.<name> -> terraform_data.<name> as random_id is converted, the size from length (at most 16 bytes), and with its sensitivity: random_bytes ' +
    '(hashicorp/random 3.7.2) marks hex and base64 sensitive, but terraform_data marks its output sensitive neither by schema nor when its input is ' +
    '(Terraform 1.11: an output reading it plans without sensitive = true, and a destroy plan prints it). So input = sensitive(the hex digits of uuid()), ' +
    'and random_bytes.<name>.hex -> sensitive(terraform_data.<name>.output) in every expression: unknown when planning, 2 x length lowercase hex digits once applied, ' +
    'kept in state, and sensitive wherever the stack reads it, so that nonsensitive() is as valid and as needed as with the real resource, and a provisioner, ' +
    'output or precondition reading it gets Terraform\'s treatment of a sensitive value. In prose (a string that interpolates nothing, e.g. an error_message) ' +
    'random_bytes.<name>.hex -> terraform_data.<name>.output; random_bytes.<name> -> terraform_data.<name> (e.g. in replace_triggered_by). keepers and any other ' +
    'attribute (base64, id) are refused. Not carried: the real id is "none", the stand-in\'s an unrelated UUID; and a destroy plan shows the stand-in\'s ' +
    'output in clear (its input as sensitive), where the real resource shows hex and base64 as (sensitive value).',
  remoteState:
    'data "terraform_remote_state" with backend s3 -> backend local, path = a state file the test writes with the outputs the other half publishes ' +
    '(its synthesized outputs, evaluated as after its apply); defaults and the postconditions are kept as synthesized.',
  existingRole:
    'data "aws_iam_role" (an existing host role) is kept, and the provider really reads it: the IAM stand-in on 127.0.0.1 answers GetRole, in the documented ' +
    'XML shape, with the role the config describes, so the data source, its attributes and its postcondition are the provider\'s own. A local value in its place would test nothing.',
} as const;

/** What a converted stack's provider blocks use as credentials: not an AWS key format, so nothing could mistake it for one. */
const FAKE_CREDENTIALS = { access_key: 'real-provider-suite-not-a-key', secret_key: 'real-provider-suite-not-a-secret' };

/** The provider endpoint name of each resource type prefix the stack uses. A new prefix must be added here. */
const SERVICE_OF_PREFIX: ReadonlyArray<readonly [string, string]> = [
  ['aws_iam_', 'iam'],
  ['aws_s3_', 's3'],
  ['aws_kms_', 'kms'],
  ['aws_ssm_', 'ssm'],
];

/** Provider settings kept as synthesized, and those removed (see CONVERSIONS.providerBlocks). */
const PROVIDER_KEPT = new Set(['alias', 'region', 'default_tags']);
const PROVIDER_REMOVED = new Set(['allowed_account_ids', 'profile', 'assume_role']);
const NULL_RESOURCE_KEYS = new Set(['//', 'depends_on', 'provisioner', 'triggers', 'lifecycle']);
/** The random resources converted to terraform_data: the argument that gives their size in bytes, and whether their value is sensitive (CONVERSIONS.randomId, .randomBytes). */
export const RANDOM_STAND_INS = {
  random_id: { size: 'byte_length', sensitive: false },
  random_bytes: { size: 'length', sensitive: true },
} as const;
export type RandomType = keyof typeof RANDOM_STAND_INS;
const RANDOM_KEYS = (type: RandomType) => new Set(['//', RANDOM_STAND_INS[type].size, 'depends_on', 'lifecycle']);
const REMOTE_STATE_KEYS = new Set(['//', 'backend', 'config', 'defaults', 'lifecycle']);

export interface ConvertOptions {
  /** hashicorp/aws version in the mirror. */
  readonly awsVersion: string;
  /** Base URL of the AWS stand-in, e.g. http://127.0.0.1:41234. */
  readonly endpoint: string;
  /** The local state file (relative to the working directory) a terraform_remote_state named `id` reads. */
  readonly remoteStatePath?: (id: string) => string;
}

export interface RealProviderStack {
  /** The configuration Terraform plans (write it as main.tf.json). */
  readonly json: Record<string, any>;
  /** Every converted address whose name changed ("terraform_data.x") -> its address in cdk.tf.json ("null_resource.x"). */
  readonly originalAddress: Readonly<Record<string, string>>;
  /** The provider endpoints pointed at the stand-in (service names). */
  readonly services: readonly string[];
}

/** `value` without cdktf's "//" metadata comments. */
const withoutComments = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(withoutComments)
    : value !== null && typeof value === 'object'
      ? Object.fromEntries(Object.entries(value).filter(([k]) => k !== '//').map(([k, v]) => [k, withoutComments(v)]))
      : value;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether a Terraform string is a template that interpolates something (else it is literal text: prose). */
const interpolates = (s: string): boolean => /(^|[^$])\$\{/.test(s) || /(^|[^%])%\{/.test(s);

/** A rename of references: a pattern and what replaces each match (given the whole string it is in). */
export type Rename = readonly [RegExp, string | ((match: string, offset: number, whole: string) => string)];

/** `text` with every rename applied, in order. */
export const applyRenames = (text: string, renames: readonly Rename[]): string =>
  renames.reduce((t, [pattern, replacement]) => (typeof replacement === 'string' ? t.replace(pattern, replacement) : t.replace(pattern, replacement)), text);

/**
 * CONVERSIONS.randomId, CONVERSIONS.randomBytes: for one random_id or random_bytes `name` of
 * `bytes` bytes, the stand-in's input and the renames of its references. Throws for a size the
 * stand-in cannot give. The host suite (helpers/terraform-host.ts) uses it too.
 */
export function randomStandIn(type: RandomType, name: string, bytes: unknown): { input: string; renames: Rename[] } {
  const { size, sensitive } = RANDOM_STAND_INS[type];
  if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 1 || bytes > 16) throw new Error(`${type}.${name}: ${size} ${String(bytes)}: the stand-in gives 1 to 16 bytes`);
  const hex = bytes === 16 ? 'replace(uuid(), "-", "")' : `substr(replace(uuid(), "-", ""), 0, ${2 * bytes})`;
  const output = `terraform_data.${name}.output`;
  return {
    input: `\${${sensitive ? `sensitive(${hex})` : hex}}`,
    renames: [
      [
        new RegExp(`(?<![\\w.])${type}\\.${escapeRegExp(name)}\\.hex(?![\\w-])`, 'g'),
        sensitive ? (_match: string, _offset: number, whole: string) => (interpolates(whole) ? `sensitive(${output})` : output) : output,
      ],
      [new RegExp(`(?<![\\w.])${type}\\.${escapeRegExp(name)}(?![\\w.-])`, 'g'), `terraform_data.${name}`],
    ],
  };
}

/** The service (provider endpoint name) of a resource or data source type; throws for a type not in SERVICE_OF_PREFIX. */
export function serviceOf(type: string): string {
  const found = SERVICE_OF_PREFIX.find(([prefix]) => type.startsWith(prefix));
  if (found === undefined) throw new Error(`no AWS service known for ${type}: add its prefix to SERVICE_OF_PREFIX in helpers/real-provider.ts, so its endpoint points at the stand-in`);
  return found[1];
}

/**
 * The synthesized stack as a configuration the real AWS provider plans here (see CONVERSIONS).
 * Throws on anything it has no conversion for.
 */
export function asRealProviderStack(tf: TerraformJson, options: ConvertOptions): RealProviderStack {
  const source = structuredClone(tf) as Record<string, any>;
  const out: Record<string, any> = {};
  const originalAddress: Record<string, string> = {};
  for (const key of Object.keys(source)) {
    if (!['//', 'terraform', 'provider', 'resource', 'data', 'output', 'locals', 'variable'].includes(key)) throw new Error(`no conversion for the top-level block "${key}"`);
  }
  if (source['//'] !== undefined) out['//'] = source['//'];

  // CONVERSIONS.providerVersion, CONVERSIONS.backend
  const { backend: _backend, required_providers: required = {}, ...terraformRest } = source.terraform ?? {};
  if (Object.keys(terraformRest).length > 0) throw new Error(`no conversion for terraform.${Object.keys(terraformRest).join(', terraform.')}`);
  for (const name of Object.keys(required)) if (!['aws', 'null', 'random'].includes(name)) throw new Error(`no conversion for the provider "${name}"`);
  out.terraform = { required_providers: { aws: { source: 'hashicorp/aws', version: options.awsVersion } }, backend: { local: { path: 'terraform.tfstate' } } };

  // CONVERSIONS.providerBlocks
  const types = [...Object.keys(source.resource ?? {}), ...Object.keys(source.data ?? {})].filter((t) => t.startsWith('aws_'));
  const services = [...new Set(['sts', ...types.map(serviceOf)])].sort();
  const providers: Record<string, unknown[]> = {};
  for (const [name, blocks] of Object.entries((source.provider ?? {}) as Record<string, Array<Record<string, unknown>>>)) {
    if (name === 'null' || name === 'random') {
      if (blocks.some((b) => Object.keys(b).length > 0)) throw new Error(`provider "${name}" has settings; no conversion for them`);
      continue;
    }
    if (name !== 'aws') throw new Error(`no conversion for the provider "${name}"`);
    providers.aws = blocks.map((block) => {
      const unknown = Object.keys(block).filter((k) => !PROVIDER_KEPT.has(k) && !PROVIDER_REMOVED.has(k));
      if (unknown.length > 0) throw new Error(`provider "aws" (${String(block.alias)}): no conversion for ${unknown.join(', ')}`);
      const kept = Object.fromEntries(Object.entries(block).filter(([k]) => PROVIDER_KEPT.has(k)));
      return {
        ...kept,
        ...FAKE_CREDENTIALS,
        skip_credentials_validation: true,
        skip_requesting_account_id: true,
        skip_metadata_api_check: true,
        skip_region_validation: true,
        s3_use_path_style: true,
        endpoints: [Object.fromEntries(services.map((s) => [s, options.endpoint]))],
      };
    });
  }
  out.provider = providers;

  // CONVERSIONS.nullResource, CONVERSIONS.randomId, CONVERSIONS.randomBytes
  const resources: Record<string, Record<string, any>> = {};
  const renames: Rename[] = [];
  const converted: Record<string, Record<string, any>> = {};
  const take = (name: string, body: Record<string, any>, from: string) => {
    if (converted[name] !== undefined || source.resource?.terraform_data?.[name] !== undefined) throw new Error(`${from}.${name}: terraform_data.${name} exists already`);
    converted[name] = body;
    originalAddress[`terraform_data.${name}`] = `${from}.${name}`;
  };
  for (const [type, byName] of Object.entries((source.resource ?? {}) as Record<string, Record<string, Record<string, any>>>)) {
    if (type.startsWith('aws_') || type === 'terraform_data') {
      resources[type] = byName;
      continue;
    }
    if (type === 'null_resource') {
      for (const [name, body] of Object.entries(byName)) {
        const unknown = Object.keys(body).filter((k) => !NULL_RESOURCE_KEYS.has(k));
        if (unknown.length > 0) throw new Error(`null_resource.${name}: no conversion for ${unknown.join(', ')}`);
        const { triggers, ...rest } = body;
        const withTriggersReplace = mapStrings(rest, (s) => s.replace(/\bself\.triggers\./g, 'self.triggers_replace.'));
        take(name, { ...withTriggersReplace, ...(triggers !== undefined ? { triggers_replace: triggers } : {}) }, 'null_resource');
        renames.push([new RegExp(`(?<![\\w.])null_resource\\.${escapeRegExp(name)}(?![\\w-])`, 'g'), `terraform_data.${name}`]);
      }
      continue;
    }
    if (type === 'random_id' || type === 'random_bytes') {
      const size = RANDOM_STAND_INS[type].size;
      for (const [name, body] of Object.entries(byName)) {
        const unknown = Object.keys(body).filter((k) => !RANDOM_KEYS(type).has(k));
        if (unknown.length > 0) throw new Error(`${type}.${name}: no conversion for ${unknown.join(', ')}`);
        const { input, renames: own } = randomStandIn(type, name, body[size]);
        const { '//': metadata, [size]: _bytes, lifecycle = {}, ...rest } = body;
        if (lifecycle.ignore_changes !== undefined) throw new Error(`${type}.${name}: no conversion for lifecycle.ignore_changes`);
        take(name, { ...(metadata !== undefined ? { '//': metadata } : {}), ...rest, input, lifecycle: { ...lifecycle, ignore_changes: ['input'] } }, type);
        renames.push(...own);
      }
      continue;
    }
    throw new Error(`no conversion for the resource type ${type}`);
  }
  if (Object.keys(converted).length > 0) resources.terraform_data = { ...(resources.terraform_data ?? {}), ...converted };
  if (Object.keys(resources).length > 0) out.resource = resources;

  // CONVERSIONS.remoteState, CONVERSIONS.existingRole
  const data: Record<string, Record<string, any>> = {};
  for (const [type, byName] of Object.entries((source.data ?? {}) as Record<string, Record<string, Record<string, any>>>)) {
    if (type.startsWith('aws_')) {
      data[type] = byName;
      continue;
    }
    if (type !== 'terraform_remote_state') throw new Error(`no conversion for the data source type ${type}`);
    data[type] = {};
    for (const [id, body] of Object.entries(byName)) {
      const unknown = Object.keys(body).filter((k) => !REMOTE_STATE_KEYS.has(k));
      if (unknown.length > 0) throw new Error(`data.terraform_remote_state.${id}: no conversion for ${unknown.join(', ')}`);
      if (body.backend !== 's3') throw new Error(`data.terraform_remote_state.${id}: no conversion for backend ${String(body.backend)}`);
      if (options.remoteStatePath === undefined) throw new Error(`data.terraform_remote_state.${id}: no state file given for the other half`);
      data[type][id] = { ...body, backend: 'local', config: { path: options.remoteStatePath(id) } };
    }
  }
  if (Object.keys(data).length > 0) out.data = data;
  for (const key of ['output', 'locals', 'variable']) if (source[key] !== undefined) out[key] = source[key];

  const result = mapStrings(out, (s) => applyRenames(s, renames));
  const left = JSON.stringify(withoutComments(result)).match(/(?<![\w.])(null_resource|random_id|random_bytes)\.[\w-]+/g);
  if (left !== null) throw new Error(`references left after the conversion: ${[...new Set(left)].join(', ')}`);
  return { json: result, originalAddress, services };
}

// ---- The other half's state -------------------------------------------------------------------

/** The External ID a generated random_id holds once applied, in the states written for the other half (32 lowercase hex digits). */
export const APPLIED_GENERATED_HEX = '5eed0f1e2d3c4b5a69788796a5b4c3d2';

/** A Terraform type constraint for a JSON value, as a state file records an output's type. */
export function ctyTypeOf(value: unknown): unknown {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return ['tuple', value.map(ctyTypeOf)];
  if (value !== null && typeof value === 'object') return ['object', Object.fromEntries(Object.entries(value).map(([k, v]) => [k, ctyTypeOf(v)]))];
  throw new Error(`no Terraform type for ${JSON.stringify(value)}`);
}

export interface HalfSynth {
  readonly tf: TerraformJson;
}

/**
 * The outputs a half's state holds after its apply: each output of its cdk.tf.json, evaluated. The
 * expressions the halves publish are references and sha256() of references; anything else throws,
 * so a new form gets evaluated here on purpose. A reference is, in turn:
 *  - random_id.<name>.hex: APPLIED_GENERATED_HEX (the value created at the half's first apply);
 *  - data.terraform_remote_state.<id>.outputs.<name>: `otherHalf`'s output <name>, evaluated the
 *    same way (the half it reads, i.e. the half that reads this state);
 *  - <type>.<name>.<attribute>: the attribute's literal in the same cdk.tf.json (e.g. the instance
 *    profile's name).
 */
export function appliedOutputs(half: HalfSynth, otherHalf: HalfSynth, depth = 0): Record<string, { value: unknown; type: unknown; sensitive?: true }> {
  if (depth > 3) throw new Error('the two halves\' outputs refer to each other in a cycle');
  const evaluate = (expression: string): unknown => {
    const sha = /^sha256\((.*)\)$/.exec(expression);
    if (sha !== null) {
      const inner = evaluate(sha[1]);
      if (typeof inner !== 'string') throw new Error(`sha256 of a non-string: ${expression}`);
      return createHash('sha256').update(inner).digest('hex');
    }
    if (/^random_id\.[\w-]+\.hex$/.test(expression)) return APPLIED_GENERATED_HEX;
    const remote = /^data\.terraform_remote_state\.[\w-]+\.outputs\.([\w-]+)$/.exec(expression);
    if (remote !== null) {
      const published = appliedOutputs(otherHalf, half, depth + 1)[remote[1]];
      if (published === undefined) throw new Error(`the other half publishes no output ${remote[1]}`);
      return published.value;
    }
    if (/^[a-z0-9_]+\.[\w-]+\.[a-z_]+$/.test(expression)) return resolveReference(half.tf, `\${${expression}}`);
    throw new Error(`cannot evaluate the output expression \${${expression}}: teach appliedOutputs in helpers/real-provider.ts`);
  };
  const visit = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const whole = /^\$\{([^{}]*)\}$/.exec(value);
      if (whole !== null) return evaluate(whole[1]);
      return value.replace(/\$\{([^{}]*)\}/g, (_all, expression: string) => String(evaluate(expression)));
    }
    if (Array.isArray(value)) return value.map(visit);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v)]));
    return value;
  };
  return Object.fromEntries(
    Object.entries(half.tf.output ?? {}).map(([name, output]) => {
      const value = visit(output.value);
      return [name, { value, type: ctyTypeOf(value), ...(output.sensitive === true ? { sensitive: true as const } : {}) }];
    }),
  );
}

/** A state file (format 4) holding `outputs` and no resource, as Terraform writes one. */
export function stateFileWith(outputs: Record<string, { value: unknown; type: unknown; sensitive?: true }>, terraformVersion: string): string {
  return `${JSON.stringify({ version: 4, terraform_version: terraformVersion, serial: 1, lineage: randomUUID(), outputs, resources: [], check_results: null }, null, 2)}\n`;
}

// ---- The AWS stand-in ---------------------------------------------------------------------------

export interface AwsRequest {
  readonly method: string;
  readonly path: string;
  /** The Query API action (IAM, STS), the X-Amz-Target (JSON APIs), or "<METHOD> <path>" (S3). */
  readonly action: string;
  /** The parameters of a Query API request. */
  readonly params: Readonly<Record<string, string>>;
}

export interface AwsStandIn {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  /** Every request received so far. */
  readonly requests: AwsRequest[];
  stop(): Promise<void>;
}

export interface StandInRole {
  readonly arn: string;
  /** The role's trust policy (JSON text). */
  readonly assumeRolePolicy: string;
}

const xmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * An HTTP server on 127.0.0.1 every AWS endpoint of a converted stack points at. It answers IAM
 * GetRole for the roles it is given, in the shape the IAM API reference documents for GetRole
 * (GetRoleResponse/GetRoleResult/Role, the trust policy URL-encoded), NoSuchEntity for any other
 * role name, and any other request with an error; it records every request, so that a test can
 * say exactly which AWS calls a plan made.
 */
export async function startAwsStandIn(roles: Readonly<Record<string, StandInRole>>): Promise<AwsStandIn> {
  const requests: AwsRequest[] = [];
  const send = (res: ServerResponse, status: number, body: string) => {
    res.writeHead(status, { 'Content-Type': 'text/xml', 'x-amzn-RequestId': randomUUID() });
    res.end(body);
  };
  const error = (type: 'Sender' | 'Receiver', code: string, message: string) =>
    `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${xmlText(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
  const handle = (req: IncomingMessage, body: string, res: ServerResponse) => {
    const form = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    const params = form ? Object.fromEntries(new URLSearchParams(body)) : {};
    const target = req.headers['x-amz-target'];
    const action = params.Action ?? (typeof target === 'string' ? target : `${req.method} ${req.url}`);
    requests.push({ method: req.method ?? '', path: req.url ?? '', action, params });
    if (action !== 'GetRole') {
      send(res, 400, error('Sender', 'InvalidAction', `the real-provider suite's AWS stand-in answers IAM GetRole only, not ${action}`));
      return;
    }
    const role = roles[params.RoleName];
    if (role === undefined) {
      send(res, 404, error('Sender', 'NoSuchEntity', `The role with name ${params.RoleName} cannot be found.`));
      return;
    }
    const [, path] = /^arn:[^:]+:iam::\d{12}:role(\/(?:[^/]+\/)*)[^/]+$/.exec(role.arn) ?? [];
    if (path === undefined) throw new Error(`not a role ARN: ${role.arn}`);
    const roleId = `AROA${createHash('sha256').update(role.arn).digest('hex').slice(0, 17).toUpperCase()}`;
    send(
      res,
      200,
      `<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <GetRoleResult>
    <Role>
      <Path>${xmlText(path)}</Path>
      <Arn>${xmlText(role.arn)}</Arn>
      <RoleName>${xmlText(params.RoleName)}</RoleName>
      <AssumeRolePolicyDocument>${xmlText(encodeURIComponent(role.assumeRolePolicy))}</AssumeRolePolicyDocument>
      <CreateDate>2024-01-02T03:04:05Z</CreateDate>
      <RoleId>${roleId}</RoleId>
      <MaxSessionDuration>3600</MaxSessionDuration>
      <RoleLastUsed/>
    </Role>
  </GetRoleResult>
  <ResponseMetadata>
    <RequestId>${randomUUID()}</RequestId>
  </ResponseMetadata>
</GetRoleResponse>
`,
    );
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---- Running Terraform --------------------------------------------------------------------------

export interface RealProviderEnv {
  /** The CLI configuration: the mirror as the only installation source, and the shared plugin cache. */
  readonly cliConfig: string;
  /** The lock file every working directory copies (written by the first init). */
  readonly lockFile: string;
  /** An empty directory used as HOME: no ~/.aws, ~/.terraformrc or ~/.terraform.d of the machine. */
  readonly home: string;
  readonly mirror: { dir: string; version: string };
  readonly terraformVersion: string;
}

export interface TerraformRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** The environment Terraform runs with: built here, nothing inherited but PATH. */
function terraformEnv(env: RealProviderEnv): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: env.home,
    TF_CLI_CONFIG_FILE: env.cliConfig,
    CHECKPOINT_DISABLE: '1',
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    NO_COLOR: '1',
    // The AWS SDK reads none of the machine's AWS configuration, and never asks the instance metadata service.
    AWS_CONFIG_FILE: join(env.home, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(env.home, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

export function runTerraform(env: RealProviderEnv, dir: string, args: string[], timeoutMs = 300000): Promise<TerraformRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    execFile('terraform', args, { cwd: dir, env: terraformEnv(env), encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code === 'string') {
        reject(error);
        return;
      }
      resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/**
 * Prepares what every working directory shares: the CLI configuration (the mirror as the only
 * installation source: nothing can be downloaded, not even by mistake; one plugin cache, so that
 * each `terraform init` links the 700 MB provider instead of copying it) and the lock file, from one
 * first init. `root` is a fresh directory the caller removes.
 */
export async function prepareRealProvider(root: string): Promise<RealProviderEnv> {
  const { terraform, mirror } = requireRealProviderTools();
  const home = join(root, 'home');
  const cache = join(root, 'plugin-cache');
  const seed = join(root, 'seed');
  for (const d of [home, cache, seed]) mkdirSync(d, { recursive: true });
  const cliConfig = join(root, 'terraform.rc');
  writeFileSync(
    cliConfig,
    `provider_installation {\n  filesystem_mirror {\n    path    = ${JSON.stringify(mirror.dir)}\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n` +
      `plugin_cache_dir = ${JSON.stringify(cache)}\n`,
  );
  const env: RealProviderEnv = { cliConfig, lockFile: join(seed, '.terraform.lock.hcl'), home, mirror, terraformVersion: terraform };
  writeFileSync(join(seed, 'main.tf.json'), JSON.stringify({ terraform: { required_providers: { aws: { source: 'hashicorp/aws', version: mirror.version } } } }));
  const init = await runTerraform(env, seed, ['init', '-input=false', '-no-color']);
  if (init.status !== 0) throw new Error(`terraform init with the mirror ${mirror.dir} failed:\n${init.stdout}${init.stderr}`);
  return env;
}

/** One diagnostic, as validate -json and the plan's JSON stream give it. */
export interface Diagnostic {
  readonly severity: string;
  readonly summary: string;
  readonly detail?: string;
  readonly address?: string;
  readonly range?: { filename: string; start: { line: number } };
}

/** Diagnostics of a `-json` UI stream (init, plan, apply): every line of type "diagnostic", and any line logged at warn or error. */
export function streamDiagnostics(stdout: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    let message: Record<string, any>;
    try {
      message = JSON.parse(line);
    } catch {
      out.push({ severity: 'error', summary: `not a JSON line: ${line}` });
      continue;
    }
    if (message.type === 'diagnostic') out.push(message.diagnostic as Diagnostic);
    else if (message['@level'] === 'warn' || message['@level'] === 'error') out.push({ severity: message['@level'], summary: String(message['@message']) });
  }
  return out;
}

/** A diagnostic on one line, for a failure message. */
export const describeDiagnostic = (d: Diagnostic): string =>
  `${d.severity}: ${d.summary}${d.address !== undefined ? ` (${d.address})` : ''}${d.range !== undefined ? ` [${d.range.filename}:${d.range.start.line}]` : ''}${d.detail ? `\n    ${d.detail.replace(/\n/g, '\n    ')}` : ''}`;

/**
 * A working directory for one converted stack: the synthesized stack directory's other files (the
 * host scripts the expressions read), the converted configuration as main.tf.json, the shared lock
 * file. init reads the lock file only (-lockfile=readonly), so every directory uses exactly the
 * provider package the first init recorded.
 */
export function writeRealProviderDir(env: RealProviderEnv, dir: string, stackDir: string, stack: RealProviderStack): void {
  mkdirSync(dir, { recursive: true });
  for (const entry of readdirSync(stackDir)) if (entry !== 'cdk.tf.json') cpSync(join(stackDir, entry), join(dir, entry), { recursive: true });
  writeFileSync(join(dir, 'main.tf.json'), `${JSON.stringify(stack.json, null, 2)}\n`);
  cpSync(env.lockFile, join(dir, '.terraform.lock.hcl'));
}

export const INIT_ARGS = ['init', '-input=false', '-no-color', '-lockfile=readonly'];

/** Warnings and errors in the text `terraform init` prints (it has no -json before Terraform 1.9). */
export const textDiagnostics = (text: string): Diagnostic[] =>
  [...text.matchAll(/^[\s╷│]*(Warning|Error): (.*)$/gm)].map((m) => ({ severity: m[1].toLowerCase(), summary: m[2] }));

// ---- One stack, planned ---------------------------------------------------------------------------

/** The trust policy the stand-in gives an existing host role: an EC2 instance role's. */
const EC2_TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

/**
 * The roles the stand-in knows for a synthesized stack: each data "aws_iam_role" must be the
 * existing host role, and exists with the ARN its config describes (hostRole.existingRoleName,
 * hostRole.path, otherAccount).
 */
export function existingRolesOf(synth: Pick<SynthOutput, 'tf' | 'config'>): Record<string, StandInRole> {
  const roles: Record<string, StandInRole> = {};
  for (const [id, body] of Object.entries(synth.tf.data?.aws_iam_role ?? {})) {
    if (body.name !== hostRoleName(synth.config)) throw new Error(`data.aws_iam_role.${id} reads ${String(body.name)}, not the host role ${hostRoleName(synth.config)}: the stand-in knows no such role`);
    roles[body.name] = { arn: hostRoleArn(synth.config), assumeRolePolicy: EC2_TRUST };
  }
  return roles;
}

export interface PlannedStack {
  readonly stack: RealProviderStack;
  /** "data.terraform_remote_state.<id>.outputs.<name>" -> the value the state file written for it holds (string outputs). */
  readonly remoteValues: Readonly<Record<string, string>>;
  /** What each step said: diagnostics of init (text), validate -json (when run), plan -json (its validation walk's included). */
  readonly diagnostics: { readonly init: Diagnostic[]; readonly validate: Diagnostic[]; readonly plan: Diagnostic[] };
  /** What `terraform validate -json` summed up (undefined unless options.validate). */
  readonly validate?: { valid: boolean; error_count: number; warning_count: number };
  /** `terraform show -json` of the saved plan (undefined when the plan failed). */
  readonly show?: any;
  /** Every request the AWS stand-in received during the run. */
  readonly requests: readonly AwsRequest[];
  /** Wall time of each step, in ms. */
  readonly ms: Readonly<Record<'init' | 'validate' | 'plan' | 'show', number>>;
  /** Resources applied before the plan (a generated External ID, for a half that reads the other's state). */
  readonly seeded?: readonly string[];
}

export interface PlanOptions {
  /**
   * Also run `terraform validate -json` before the plan. Off by default: `terraform plan` runs the
   * same validation walk first (Terraform's local backend validates before every plan) and reports
   * its diagnostics in `plan -json`, so the separate command adds no finding, and it costs a third
   * of the suite's time (one ValidateProviderConfig per provider alias, which in the AWS provider
   * re-validates the schema of its every resource type, several CPU seconds each).
   */
  readonly validate?: boolean;
}

/**
 * Converts `synth` (the other half's synth too when it reads the other half's state), writes it into
 * `dir`, and runs init, (validate -json,) plan -refresh=false -json -out and show -json there, with
 * a stand-in for AWS of its own. Never throws for what Terraform reports: the caller asserts.
 */
export async function planRealProvider(env: RealProviderEnv, dir: string, synth: SynthOutput, otherHalf?: SynthOutput, options: PlanOptions = {}): Promise<PlannedStack> {
  const remoteStates = Object.keys(synth.tf.data?.terraform_remote_state ?? {});
  if (remoteStates.length > 0 && otherHalf === undefined) throw new Error(`${synth.config.stackName} reads the other half's state: give its synth`);
  const standIn = await startAwsStandIn(existingRolesOf(synth));
  try {
    const stack = asRealProviderStack(synth.tf, { awsVersion: env.mirror.version, endpoint: standIn.endpoint, remoteStatePath: (id) => `other-half.${id}.tfstate` });
    writeRealProviderDir(env, dir, synth.stackDir, stack);
    const remoteValues: Record<string, string> = {};
    for (const id of remoteStates) {
      const outputs = appliedOutputs(otherHalf!, synth);
      writeFileSync(join(dir, `other-half.${id}.tfstate`), stateFileWith(outputs, env.terraformVersion));
      for (const [name, { value }] of Object.entries(outputs)) if (typeof value === 'string') remoteValues[`data.terraform_remote_state.${id}.outputs.${name}`] = value;
    }
    const init = await runTerraform(env, dir, INIT_ARGS);
    const initDiagnostics = textDiagnostics(`${init.stdout}\n${init.stderr}`);
    if (init.status !== 0 && initDiagnostics.length === 0) initDiagnostics.push({ severity: 'error', summary: `terraform init exited ${init.status}`, detail: `${init.stdout}${init.stderr}` });
    const ms = { init: init.ms, validate: 0, plan: 0, show: 0 };
    const empty = { valid: false, error_count: 0, warning_count: 0 };
    if (init.status !== 0) return { stack, remoteValues, diagnostics: { init: initDiagnostics, validate: [], plan: [] }, requests: standIn.requests, ms };

    // A half that generates its External ID reads the other half's state only once that ID exists
    // (docs/two-organizations.md: its first apply has no "otherHalfState"). Planned from nothing,
    // the read waits for the generated value and its checks could not stop the plan; so, as in that
    // flow, the generated ID is applied first, holding the value the other half's state accepts.
    const seeded: string[] = [];
    if (remoteStates.length > 0) {
      for (const [name, body] of Object.entries((stack.json as TerraformJson).resource?.terraform_data ?? {})) {
        if (stack.originalAddress[`terraform_data.${name}`] !== `random_id.${name}`) continue;
        const seedJson = structuredClone(stack.json) as TerraformJson;
        seedJson.resource!.terraform_data[name] = { ...body, input: APPLIED_GENERATED_HEX };
        writeFileSync(join(dir, 'main.tf.json'), `${JSON.stringify(seedJson, null, 2)}\n`);
        const seed = await runTerraform(env, dir, ['apply', '-auto-approve', '-input=false', '-refresh=false', '-no-color', `-target=terraform_data.${name}`]);
        writeFileSync(join(dir, 'main.tf.json'), `${JSON.stringify(stack.json, null, 2)}\n`);
        if (seed.status !== 0) throw new Error(`seeding terraform_data.${name} failed (${seed.status}):\n${seed.stdout}${seed.stderr}`);
        seeded.push(`terraform_data.${name}`);
      }
    }

    let validate: PlannedStack['validate'];
    let validateDiagnostics: Diagnostic[] = [];
    if (options.validate) {
      const validateRun = await runTerraform(env, dir, ['validate', '-json', '-no-color']);
      ms.validate = validateRun.ms;
      validate = empty;
      try {
        const parsed = JSON.parse(validateRun.stdout);
        validate = { valid: parsed.valid, error_count: parsed.error_count, warning_count: parsed.warning_count };
        validateDiagnostics = parsed.diagnostics as Diagnostic[];
      } catch {
        validateDiagnostics = [{ severity: 'error', summary: `terraform validate -json printed no JSON (exit ${validateRun.status})`, detail: `${validateRun.stdout}${validateRun.stderr}` }];
      }
    }

    const planRun = await runTerraform(env, dir, ['plan', '-refresh=false', '-input=false', '-no-color', '-json', '-out=plan.tfplan']);
    ms.plan = planRun.ms;
    const planDiagnostics = streamDiagnostics(planRun.stdout);
    if (planRun.status !== 0 && planDiagnostics.length === 0) planDiagnostics.push({ severity: 'error', summary: `terraform plan exited ${planRun.status}`, detail: planRun.stderr });
    let show: any;
    if (planRun.status === 0) {
      const showRun = await runTerraform(env, dir, ['show', '-json', '-no-color', 'plan.tfplan']);
      ms.show = showRun.ms;
      if (showRun.status !== 0) throw new Error(`terraform show -json failed (${showRun.status}):\n${showRun.stderr}`);
      show = JSON.parse(showRun.stdout);
    }
    return { stack, remoteValues, diagnostics: { init: initDiagnostics, validate: validateDiagnostics, plan: planDiagnostics }, validate, show, requests: standIn.requests, ms, seeded };
  } finally {
    await standIn.stop();
  }
}

/**
 * The other half of a half that reads the other's state: among `candidates`, the one configured to
 * keep its state where `config.otherHalfState` points (S3 bucket and key), with the same stackName
 * (both halves must use the same). Exactly one must match.
 */
export function otherHalfOf<T extends { readonly name: string; readonly config: ConfigInput }>(config: ConfigInput, candidates: readonly T[]): T {
  const where = config.otherHalfState;
  if (where === undefined) throw new Error(`${config.stackName} reads no other half's state`);
  const found = candidates.filter(
    (c) => c.config.state?.backend === 's3' && c.config.state.bucket === where.bucket && c.config.state.key === where.key && c.config.stackName === config.stackName && c.config.mode !== config.mode,
  );
  if (found.length !== 1) throw new Error(`the other half of ${config.stackName} (s3://${where.bucket}/${where.key}): ${found.length} candidates (${found.map((c) => c.name).join(', ') || 'none'})`);
  return found[0];
}
