/**
 * What a config change replaces on the Aspera hosts, as the real AWS provider's plan of the whole
 * stack shows it against a state. Nothing can be applied to AWS here, but the host resources (the
 * built-in terraform_data the helper converts null_resource to) can: the state is written by
 * Terraform itself, by applying those resources alone, with the triggers the example config
 * (aspera.config.json) synthesizes and without their provisioners (which only run on create and
 * destroy, and leave nothing in state). The AWS resources are not in that state, so each plan
 * creates them; what it does to the host resources is the point:
 *  - the same config: nothing;
 *  - a grant added: the host's docroots resource is replaced (its install runs again), its
 *    revocation resource is kept (no uninstall runs);
 *  - the External ID changed: the same.
 * (The host suite applies the same changes over a real sshd and counts the connections they cost.)
 *
 * And the stand-in for random_id the helper uses (CONVERSIONS.randomId), applied alone: unknown when
 * planned, as many lowercase hex digits as random_id gives once applied, and kept by the next plan.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigInput } from '../../src/config/schema';
import {
  asRealProviderStack,
  type AwsStandIn,
  describeDiagnostic,
  INIT_ARGS,
  prepareRealProvider,
  type RealProviderEnv,
  runTerraform,
  startAwsStandIn,
  streamDiagnostics,
  textDiagnostics,
  writeRealProviderDir,
} from '../helpers/real-provider';
import { baseConfigInput, synthConfigToDir, type SynthOutput } from '../helpers/synth';

const EXAMPLE: ConfigInput = JSON.parse(readFileSync(join(__dirname, '..', '..', 'aspera.config.json'), 'utf8'));
/** A plan of the whole stack takes 10 to 20 s on 2 cores, more on a busy machine. */
const PLAN_MS = 300000;
const ADDED_GRANT = { transferUser: 'xfer3', bucket: 'acme-aspera-inbox', prefix: 'incoming/xfer3', access: 'read-only' as const };

let root: string;
let env: RealProviderEnv;
let standIn: AwsStandIn;
let dir: string;
const synths: SynthOutput[] = [];

const synth = (config: ConfigInput): SynthOutput => {
  const out = synthConfigToDir(config);
  synths.push(out);
  return out;
};

/** The addresses of a stack's host resources once converted (terraform_data.<the null_resource's name>). */
const hostResources = (out: SynthOutput): string[] => Object.keys(out.tf.resource?.null_resource ?? {}).map((name) => `terraform_data.${name}`);

/** Writes `out`, converted, into the working directory (the host scripts with it). */
function write(out: SynthOutput) {
  const stack = asRealProviderStack(out.tf, { awsVersion: env.mirror.version, endpoint: standIn.endpoint });
  writeRealProviderDir(env, dir, out.stackDir, stack);
  return stack;
}

/** The plan's change per address ("create", "replace", ...; no-ops left out), failing on any diagnostic. */
async function plannedActions(): Promise<Record<string, string>> {
  const run = await runTerraform(env, dir, ['plan', '-refresh=false', '-input=false', '-no-color', '-json']);
  const diagnostics = streamDiagnostics(run.stdout);
  if (run.status !== 0 || diagnostics.length > 0) throw new Error(`terraform plan (${run.status}):\n${diagnostics.map(describeDiagnostic).join('\n')}\n${run.stderr}`);
  const actions: Record<string, string> = {};
  for (const line of run.stdout.split('\n').filter((l) => l.trim() !== '')) {
    const message = JSON.parse(line);
    // One line per resource the plan changes ("create", "update", "replace", "delete"); a no-op has none.
    if (message.type === 'planned_change') actions[message.change.resource.addr] = message.change.action;
  }
  return actions;
}

const onlyHost = (actions: Record<string, string>, out: SynthOutput) => Object.fromEntries(Object.entries(actions).filter(([a]) => hostResources(out).includes(a)));

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'aspera-real-provider-hosts-'));
  env = await prepareRealProvider(root);
  standIn = await startAwsStandIn({});
  dir = join(root, 'stack');
  const example = synth(EXAMPLE);
  const stack = write(example);
  const init = await runTerraform(env, dir, INIT_ARGS);
  const said = textDiagnostics(`${init.stdout}${init.stderr}`);
  if (init.status !== 0 || said.length > 0) throw new Error(`terraform init (${init.status}):\n${init.stdout}${init.stderr}`);
  // The state: the host resources alone, with the example's triggers, applied by Terraform.
  const seeded = Object.fromEntries(hostResources(example).map((address) => [address.split('.')[1], { triggers_replace: stack.json.resource.terraform_data[address.split('.')[1]].triggers_replace }]));
  writeFileSync(join(dir, 'main.tf.json'), JSON.stringify({ terraform: stack.json.terraform, resource: { terraform_data: seeded } }, null, 2));
  const apply = await runTerraform(env, dir, ['apply', '-auto-approve', '-input=false', '-no-color', '-json']);
  const applied = streamDiagnostics(apply.stdout);
  if (apply.status !== 0 || applied.length > 0) throw new Error(`seeding the host resources' state failed (${apply.status}):\n${applied.map(describeDiagnostic).join('\n')}\n${apply.stderr}`);
}, 300000);

afterAll(async () => {
  await standIn?.stop();
  for (const out of synths) rmSync(out.outdir, { recursive: true, force: true });
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

test('the state holds the example host\'s two resources, and the real provider\'s plan of the same config changes neither (it creates every AWS resource)', async () => {
  const example = synth(EXAMPLE);
  const state = JSON.parse(readFileSync(join(dir, 'terraform.tfstate'), 'utf8')) as { resources: Array<{ type: string; name: string }> };
  expect(state.resources.map((r) => `${r.type}.${r.name}`).sort()).toEqual(hostResources(example).sort());
  write(example);
  const actions = await plannedActions();
  expect(onlyHost(actions, example)).toEqual({});
  const aws = Object.entries(example.tf.resource ?? {}).flatMap(([type, byName]) => (type.startsWith('aws_') ? Object.keys(byName).map((n) => `${type}.${n}`) : []));
  expect(Object.fromEntries(Object.entries(actions).filter(([a]) => !hostResources(example).includes(a)))).toEqual(Object.fromEntries(aws.map((a) => [a, 'create'])));
  expect(standIn.requests).toEqual([]);
}, PLAN_MS);

test('a grant added: the plan replaces the host\'s docroots resource (the install runs again) and keeps its revocation resource', async () => {
  const changed = synth({ ...EXAMPLE, grants: [...EXAMPLE.grants, ADDED_GRANT] });
  expect(hostResources(changed).sort()).toEqual(hostResources(synth(EXAMPLE)).sort());
  write(changed);
  const docroots = hostResources(changed).find((a) => /_docroots_/.test(a))!;
  expect(onlyHost(await plannedActions(), changed)).toEqual({ [docroots]: 'replace' });
}, PLAN_MS);

test('the External ID changed: the plan replaces the host\'s docroots resource and keeps its revocation resource', async () => {
  const changed = synth({ ...EXAMPLE, externalId: 'aspera-0c1d2e3f' });
  write(changed);
  const docroots = hostResources(changed).find((a) => /_docroots_/.test(a))!;
  expect(onlyHost(await plannedActions(), changed)).toEqual({ [docroots]: 'replace' });
}, PLAN_MS);

test('the random_id stand-in (a generated External ID): unknown when planned, 32 lowercase hex digits once applied, unchanged by the next plan', async () => {
  const input = baseConfigInput({ mode: 'transfer-host', buckets: [{ name: 'acme-aspera-inbox', create: false }] } as never) as Record<string, any>;
  delete input.externalId;
  delete input.myAccount.profile;
  const generated = synth(input as ConfigInput);
  expect(generated.tf.resource?.random_id?.external_id?.byte_length).toBe(16);
  const standInFor = asRealProviderStack(generated.tf, { awsVersion: env.mirror.version, endpoint: standIn.endpoint, remoteStatePath: () => 'unused.tfstate' }).json.resource.terraform_data
    .external_id;
  const alone = join(root, 'random-id');
  writeRealProviderDir(env, alone, generated.stackDir, {
    json: { output: { hex: { value: '${terraform_data.external_id.output}' } }, resource: { terraform_data: { external_id: standInFor } } },
    originalAddress: {},
    services: [],
  });
  const ok = async (args: string[]) => {
    const run = await runTerraform(env, alone, args);
    if (run.status !== 0) throw new Error(`terraform ${args.join(' ')} (${run.status}):\n${run.stdout}${run.stderr}`);
    return run.stdout;
  };
  await ok(['init', '-input=false', '-no-color']);
  await ok(['plan', '-input=false', '-no-color', '-out=first.tfplan']);
  const first = JSON.parse(await ok(['show', '-json', 'first.tfplan']));
  expect(first.resource_changes[0].change.after_unknown).toMatchObject({ output: true });
  await ok(['apply', '-input=false', '-no-color', 'first.tfplan']);
  const hex = JSON.parse(await ok(['output', '-json', 'hex']));
  expect(hex).toMatch(/^[0-9a-f]{32}$/);
  await ok(['plan', '-input=false', '-no-color', '-out=second.tfplan']);
  const second = JSON.parse(await ok(['show', '-json', 'second.tfplan']));
  expect(second.resource_changes.map((c: { change: { actions: string[] } }) => c.change.actions.join())).toEqual(['no-op']);
  expect(JSON.parse(await ok(['output', '-json', 'hex']))).toBe(hex);
});
