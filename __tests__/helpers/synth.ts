/**
 * Shared test helpers: valid configs and a real synth of the stack into a temporary directory,
 * read back as the cdk.tf.json Terraform will see. Synthesis costs ~100 ms per config: call it
 * once per config in beforeAll and share the result between tests.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdktf';
import { validateConfig } from '../../src/config-file';
import type { Config, ConfigInput } from '../../src/config/schema';
import { AsperaCrossAccountStack } from '../../src/stack';
import { withoutTokenStackTraces } from '../../src/synth/token-stack-traces';
import { withoutUtilIsArrayWarning } from '../../src/synth/util-is-array';

/** The parts of cdk.tf.json the tests read. Blocks are keyed by Terraform type, then name. */
export interface TerraformJson {
  terraform: { backend?: Record<string, Record<string, unknown>>; required_providers?: Record<string, unknown> };
  provider?: Record<string, Array<Record<string, any>>>;
  resource?: Record<string, Record<string, Record<string, any>>>;
  data?: Record<string, Record<string, Record<string, any>>>;
  output?: Record<string, { value: unknown; sensitive?: boolean; description?: string }>;
}

export const VALID_FIXTURES_DIR = join(__dirname, '..', 'fixtures', 'configs', 'valid');

/** File names of the valid example configs, e.g. "minimal.json". */
export const validFixtureNames = (): string[] => readdirSync(VALID_FIXTURES_DIR).filter((f) => f.endsWith('.json')).sort();

/** A valid fixture as written in the file (a fresh copy each call, safe to modify). */
export const fixtureConfigInput = (name: string): ConfigInput => JSON.parse(readFileSync(join(VALID_FIXTURES_DIR, name), 'utf8'));

/**
 * A small valid config to start from: one created bucket, one read-write grant, a created host
 * role, profiles, local state. Fields given in `overrides` replace the base's (shallowly).
 */
export const baseConfigInput = (overrides: Partial<ConfigInput> = {}): ConfigInput => ({ ...fixtureConfigInput('minimal.json'), ...overrides });

/** A config with `count` grants spread over a few buckets, prefixes and both access levels. */
export function manyGrantsConfigInput(count: number): ConfigInput {
  const buckets = ['bulk-a', 'bulk-b', 'bulk.c'].map((name, i) => ({ name: `acme-${name}`, create: i !== 2 }));
  return baseConfigInput({
    stackName: 'bulk',
    buckets,
    grants: Array.from({ length: count }, (_, i) => ({
      transferUser: `user${String(i).padStart(3, '0')}`,
      bucket: buckets[i % buckets.length].name,
      prefix: i % 4 === 0 ? '' : `partners/p${i}`,
      access: i % 2 === 0 ? ('read-write' as const) : ('read-only' as const),
    })),
  });
}

/** Validates like main.ts does; throws with the problem lines so a broken fixture is obvious. */
export function validConfig(input: unknown): Config {
  const result = validateConfig(input);
  if (!result.ok) throw new Error(`test config is invalid:\n${result.problems.join('\n')}`);
  return result.config;
}

export interface SynthOutput {
  tf: TerraformJson;
  config: Config;
  /** cdktf.out-like directory (holds stacks/<stackName>/); the caller may delete it. */
  outdir: string;
  /** The stack's directory: cdk.tf.json and any files the stack writes next to it. */
  stackDir: string;
}

/** Synthesizes the stack exactly as `cdktf synth` does (main.ts), into a fresh temporary directory. */
export function synthConfigToDir(input: unknown): SynthOutput {
  const config = validConfig(input);
  const outdir = mkdtempSync(join(tmpdir(), 'aspera-synth-'));
  withoutTokenStackTraces(() =>
    withoutUtilIsArrayWarning(() => {
      const app = new App({ outdir, stackTraces: false });
      new AsperaCrossAccountStack(app, config.stackName, config);
      app.synth();
    }),
  );
  const stackDir = join(outdir, 'stacks', config.stackName);
  const tf = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as TerraformJson;
  return { tf, config, outdir, stackDir };
}

/** The parsed cdk.tf.json for a config (the temporary directory is removed). */
export function synthConfig(input: unknown): TerraformJson {
  const { tf, outdir } = synthConfigToDir(input);
  rmSync(outdir, { recursive: true, force: true });
  return tf;
}

/** All resources of one Terraform type, by name ({} when there are none). */
export const resourcesOfType = (tf: TerraformJson, type: string): Record<string, Record<string, any>> => tf.resource?.[type] ?? {};

/** One resource's body; throws naming what exists when it is missing. */
export function resourceOf(tf: TerraformJson, type: string, name: string): Record<string, any> {
  const body = resourcesOfType(tf, type)[name];
  if (body === undefined) throw new Error(`no ${type}.${name}; have: ${Object.keys(resourcesOfType(tf, type)).join(', ') || '(none)'}`);
  return body;
}

/**
 * Follows a "${type.name.attribute}" reference to a literal in the same cdk.tf.json, so tests can
 * join resources the way Terraform will (e.g. a role policy's "role" to the role's "name").
 */
export function resolveReference(tf: TerraformJson, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const match = /^\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$/.exec(value);
  if (match === null) return value;
  const [, data, type, name, attribute] = match;
  const body = (data ? tf.data : tf.resource)?.[type]?.[name];
  if (body === undefined) throw new Error(`dangling reference ${value}`);
  // A bucket's "id" is its name; every other attribute we follow is set literally.
  const literal = attribute === 'id' && type === 'aws_s3_bucket' ? body.bucket : body[attribute];
  if (literal === undefined) throw new Error(`${value}: ${type}.${name} has no literal "${attribute}"`);
  return resolveReference(tf, literal);
}

// ---- Two organizations: the halves of one logical config --------------------------------------

export interface HalvesOptions {
  /** Each half reads the other's outputs from its state (otherHalfState) instead of the config. */
  readonly otherHalfState?: boolean;
  /** The transfer-host half generates the External ID (the config leaves it out). */
  readonly generateExternalId?: boolean;
}

/** Where each half keeps its state in the remote-state variant: one shared bucket, one key per half. */
export const HALF_STATES = {
  bucketOwner: { bucket: 'acme-shared-tf-state', key: 'aspera/bucket-owner.tfstate', region: 'us-east-1', profile: 'bucket-owner-state' },
  transferHost: { bucket: 'acme-shared-tf-state', key: 'aspera/transfer-host.tfstate', region: 'us-east-1', profile: 'transfer-host-state' },
} as const;

/**
 * The two configs two organizations write for one mode-"both" config: each keeps credentials for
 * its own account only, the bucket owner leaves the Aspera hosts to the operator, and the operator
 * declares the buckets as existing (they are the bucket owner's to create).
 */
export function halvesOf(input: ConfigInput, options: HalvesOptions = {}): { bucketOwner: ConfigInput; transferHost: ConfigInput } {
  const accountOnly = (account: ConfigInput['myAccount']) => ({ accountId: account.accountId, region: account.region });
  // The bucket owner's grants say nothing of how the hosts install them ("installAs" is the operator's).
  const bucketOwner: ConfigInput = { ...input, mode: 'bucket-owner', otherAccount: accountOnly(input.otherAccount), grants: input.grants.map(({ installAs: _, ...g }) => g) };
  delete bucketOwner.asperaHosts;
  delete bucketOwner.asperaFleets;
  const transferHost: ConfigInput = {
    ...input,
    mode: 'transfer-host',
    myAccount: accountOnly(input.myAccount),
    // Existing buckets have no "encryption" (their owner chose it); a kmsKeyArn still names the key.
    buckets: input.buckets.map(({ encryption: _, ...b }) => ({ ...b, create: false })),
  };
  if (options.otherHalfState) {
    delete bucketOwner.externalId;
    bucketOwner.otherHalfState = { ...HALF_STATES.transferHost };
    bucketOwner.state = { backend: 's3', ...HALF_STATES.bucketOwner };
    transferHost.otherHalfState = { ...HALF_STATES.bucketOwner };
    transferHost.state = { backend: 's3', ...HALF_STATES.transferHost };
  }
  if (options.generateExternalId) delete transferHost.externalId;
  return { bucketOwner, transferHost };
}

/**
 * What Terraform does at plan time, for tests: replaces each "${expression}" whose expression is a
 * key of `values` by its value, in every string of the stack (a copy). Used to put the other half's
 * published outputs (and a generated External ID) where the stack reads them.
 */
export function resolvePlanTime<T>(tf: T, values: Readonly<Record<string, string>>): T {
  return mapStrings(tf, (text) => text.replace(/\$\{([^{}]*)\}/g, (whole, expression: string) => values[expression] ?? whole)) as T;
}

/** `value` with `f` applied to every string in it, except under "//" (cdktf's metadata comments, which Terraform ignores). */
export const mapStrings = (value: unknown, f: (s: string) => string): any =>
  typeof value === 'string'
    ? f(value)
    : Array.isArray(value)
      ? value.map((v) => mapStrings(v, f))
      : value !== null && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === '//' ? v : mapStrings(v, f)]))
        : value;

/**
 * The values a terraform_remote_state data source named `id` reads from the other half's stack:
 * "data.terraform_remote_state.<id>.outputs.<name>" for each of its string outputs, each resolved
 * with `known` first (e.g. the generated External ID).
 */
export function remoteStateValues(id: string, otherHalf: TerraformJson, known: Readonly<Record<string, string>> = {}): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, output] of Object.entries(otherHalf.output ?? {})) {
    if (typeof output.value === 'string') values[`data.terraform_remote_state.${id}.outputs.${name}`] = resolvePlanTime(output.value, known);
  }
  return values;
}

/** The README's two-organization walkthrough configs (__tests__/fixtures/configs/two-organizations/). */
export const twoOrganizationsConfigInput = (name: string): ConfigInput =>
  JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'configs', 'two-organizations', name), 'utf8'));

/** Every "type.name" (resources) and "data.type.name" (data sources) address in a stack, sorted. */
export function terraformAddresses(tf: TerraformJson): string[] {
  const out: string[] = [];
  for (const [type, byName] of Object.entries(tf.resource ?? {})) for (const name of Object.keys(byName)) out.push(`${type}.${name}`);
  for (const [type, byName] of Object.entries(tf.data ?? {})) for (const name of Object.keys(byName)) out.push(`data.${type}.${name}`);
  return out.sort();
}
