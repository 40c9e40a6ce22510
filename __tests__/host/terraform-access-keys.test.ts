/**
 * Node API access keys ("installAs": ["access-key"]) installed by real Terraform over the real sshd
 * on 127.0.0.1, the host resources and the secret seed converted to terraform_data
 * (helpers/terraform-host.ts, HOST_CONVERSIONS), against the Node API stand-in on 127.0.0.1
 * (helpers/node-api-stand-in.ts: checks every request against IBM's OpenAPI 4.4.6, records it and
 * the processes running when it arrived).
 *
 * The "host": the SSH user is a throwaway user with passwordless sudo (the script re-runs itself as
 * root with sudo -n), aspera.conf a copy of a fixture, the Node API credentials a root-owned 0600
 * file. The config keeps the default nodeApi.url (https://127.0.0.1:9092, where nothing of ours
 * listens): the script reaches the stand-in because sshd sets ASPERA_NODE_API_URL in every session
 * (its SetEnv, startRootHost's sessionEnv), as a host's own environment would. Terraform's SSH
 * communicator sends no environment of its own, so the variable has to come from the host's side
 * (the existing tests hand ASPERA_CONF to sessions they open themselves, with the client's SetEnv
 * and sshd's AcceptEnv; Terraform opens its own, and the Terraform tests set asperaConfPath). Set by
 * sshd, it also goes through the script's own `sudo -n` re-run, which passes it on; a wrapper
 * around curl or sudo on the PATH would have replaced code under test.
 *
 * Grants: xfer2 a docroot, ak1 and ak2 access keys, xfer3 both. The stand-in starts with a key of
 * another application (FOREIGN), which no step may touch. Steps:
 *  1. first apply: one connection; a GET then a POST per key, docroots for xfer2 and xfer3 only,
 *     every request valid by the spec;
 *  2. apply again: nothing planned, no connection; the install forced (-replace): GETs only;
 *  3. ak1's prefix changed: the install resource alone replaced, one PUT; ak2 removed: one DELETE;
 *  4. the Node API refuses the credentials (401): the apply fails with the script's message,
 *     aspera.conf, the keys and the host's access-key state unchanged; then the same apply succeeds;
 *  5. destroy: a DELETE per key of the stack (FOREIGN stays), aspera.conf byte-identical to the
 *     original, the access-key state file gone.
 * Throughout: `terraform output -json access_key_secrets` is what the stand-in received; the seed
 * and the secrets (and the Node API password) appear in no configuration, in the state only as the
 * seed's own value and that sensitive output, in a saved plan only where it shows the state (unknown
 * in the first), in no command line (ps) or file left on the host, and in nothing Terraform prints:
 * no plan, apply or destroy, the provisioners' output (shown: the seed is spliced through
 * nonsensitive()) included. The seed is random_bytes, whose hex the random provider marks
 * sensitive, and whose id is "none"; its stand-in reads as sensitive wherever the stack reads it
 * (HOST_CONVERSIONS.randomBytes). The one line the stand-in prints and the real resource does not
 * is its own output attribute in the destroy plan (STAND_IN_OUTPUT_IN_DESTROY_PLAN), checked to be
 * in the stand-in's block and nowhere else.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigInput } from '../../src/config/schema';
import { docrootOf, fixture, usersOf, XFER2_DOCROOT } from '../helpers/aspera-host';
import { createTestUser, type RestartStub, type RootHost, startRootHost, type TestUser } from '../helpers/host-suite';
import { startNodeApiStandIn, type NodeApiStandIn, type RecordedRequest, type StandInKey } from '../helpers/node-api-stand-in';
import { asRealProviderStack } from '../helpers/real-provider';
import type { Sshd } from '../helpers/sshd';
import { baseConfigInput, halvesOf, synthConfigToDir, type SynthOutput } from '../helpers/synth';
import { hostResourcesAsTerraformData, ROLES, terraformDir, type HostTerraform, type TerraformDir } from '../helpers/terraform-host';

const ORIGINAL = fixture('hsts-realm.conf');
const NODE_USER = 'node_admin';
const NODE_PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const SEED = 'terraform_data.access_key_secret_seed';
const BUCKET = 'acme-aspera-inbox';
const EXTERNAL_ID = 'aspera-7f3c9e21';

type Grant = ConfigInput['grants'][number];
const XFER2: Grant = { transferUser: 'xfer2', bucket: BUCKET, prefix: '', access: 'read-write' };
const AK1: Grant = { transferUser: 'ak1', bucket: BUCKET, prefix: 'incoming', access: 'read-write', installAs: ['access-key'] };
const AK2: Grant = { transferUser: 'ak2', bucket: BUCKET, prefix: 'reports', access: 'read-only', installAs: ['access-key'] };
const XFER3: Grant = { transferUser: 'xfer3', bucket: BUCKET, prefix: 'outgoing', access: 'read-only', installAs: ['docroot', 'access-key'] };
const GRANTS = [XFER2, AK1, AK2, XFER3];
const AK1_MOVED: Grant = { ...AK1, prefix: 'incoming/2025' };

// Written by hand from the id and session name forms (src/aspera/access-key.ts header), not computed by the code under test.
const id = (user: string) => `aspera-cross-account-111111111111-${user}`;
const storage = (user: string, path: string) => ({
  type: 'aws_s3',
  bucket: BUCKET,
  endpoint: 's3.amazonaws.com',
  path,
  credentials: {
    type: 'assume-role',
    assume_role_arn: `arn:aws:iam::111111111111:role/aspera-cross-account-${user}`,
    assume_role_external_id: EXTERNAL_ID,
    assume_role_session_name: `aspera-cross-account.${user}`,
  },
});
const XFER3_DOCROOT =
  's3://arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Faspera-cross-account-xfer3@s3.amazonaws.com/acme-aspera-inbox/outgoing;iam-role.external-id=aspera-7f3c9e21';

/** A key another application keeps on the same node with the same Node API user. */
const FOREIGN: StandInKey = { id: 'faspex5-main', secret: 'faspex-owns-this', owner: NODE_USER, storage: { type: 'aws_s3', bucket: 'faspex-packages', endpoint: 's3.amazonaws.com', path: '/' } };

const SCRIPT_FILE = /^\.aspera-cross-account-\d+\.sh$/;

let root: string;
let sshd: Sshd;
let stub: RestartStub;
let host: RootHost;
let user: TestUser;
let conf: string;
let akState: string;
let credentials: string;
let standIn: NodeApiStandIn;
let tf: TerraformDir;
let h: HostTerraform;
/** Since when files on the host are looked at (every file changed since is read). */
let startMarker: string;
const synths: SynthOutput[] = [];
/** Terraform's output of every run, for the last check. */
const outputs: Array<{ args: string[]; output: string }> = [];

beforeAll(async () => {
  standIn = await startNodeApiStandIn({ users: { [NODE_USER]: NODE_PASSWORD }, keys: [FOREIGN], snapshotProcesses: true });
  host = await startRootHost('access-keys', ORIGINAL, { sessionEnv: { ASPERA_NODE_API_URL: standIn.url } });
  ({ root, sshd, stub, conf } = host);
  akState = `${conf}.aspera-cross-account.access-keys`;
  user = createTestUser(root, sshd);
  user.allowSudo(stub.bin);
  // The operator's file: root's, 0600, one line "<node user>:<password>".
  credentials = join(root, 'etc', 'node-api.credentials');
  writeFileSync(credentials, `${NODE_USER}:${NODE_PASSWORD}\n`, { mode: 0o600 });
  chmodSync(credentials, 0o600);
  tf = terraformDir(join(root, 'terraform'), stub.log);
  startMarker = join(root, 'start-marker');
  writeFileSync(startMarker, '');
});

afterAll(async () => {
  try {
    await user?.remove();
  } finally {
    for (const s of synths) rmSync(s.outdir, { recursive: true, force: true });
    await standIn?.close();
    await host?.stop();
  }
});

function synth(grants: readonly Grant[]): SynthOutput {
  const out = synthConfigToDir(
    baseConfigInput({
      externalId: EXTERNAL_ID,
      grants: [...grants],
      asperaHosts: [{ host: '127.0.0.1', port: sshd.port, user: user.name, privateKeyPath: sshd.clientKey, asperaConfPath: conf, hostKey: sshd.hostKey, nodeApi: { credentialsFile: credentials } }],
    }),
  );
  synths.push(out);
  return out;
}

const write = (grants: readonly Grant[]): HostTerraform => (h = tf.write(synth(grants)));

interface Outcome {
  readonly status: number | null;
  readonly output: string;
  readonly connections: number;
  readonly restarts: number;
  readonly requests: RecordedRequest[];
}

/** Runs terraform; what it cost on the host and what the Node API received. */
async function run(args: string[]): Promise<Outcome> {
  const before = { connections: sshd.connections(), restarts: stub.restarts(), requests: standIn.requests.length };
  const r = await tf.run(args, 90000);
  outputs.push({ args, output: r.output });
  return { ...r, connections: sshd.connections() - before.connections, restarts: stub.restarts() - before.restarts, requests: standIn.requests.slice(before.requests) };
}

const apply = (extra: string[] = []) => run(['apply', '-auto-approve', '-input=false', '-no-color', ...extra]);
const succeeded = (o: Outcome) => expect({ status: o.status, output: o.output }).toMatchObject({ status: 0 });

/** Plans into plan.tfplan: the planned actions per address and the saved plan as JSON. */
async function plan(): Promise<{ actions: Record<string, string>; json: any }> {
  await tf.ok(['plan', '-input=false', '-no-color', '-out=plan.tfplan']);
  const json = JSON.parse(await tf.ok(['show', '-json', '-no-color', 'plan.tfplan']));
  return { actions: Object.fromEntries((json.resource_changes ?? []).map((c: any) => [c.address, c.change.actions.join(',')])), json };
}

/** Every request valid by IBM's spec, and answered as the script expects (no 4xx but the documented 404 of a GET). */
function allValid(requests: RecordedRequest[]): void {
  expect(requests.filter((r) => r.schemaProblems.length > 0).map((r) => ({ method: r.method, path: r.path, problems: r.schemaProblems }))).toEqual([]);
  for (const r of requests) expect(r.user).toBe(NODE_USER);
}

const writes = (requests: RecordedRequest[]) => requests.filter((r) => r.method !== 'GET');
const summary = (requests: RecordedRequest[]) => requests.map((r) => `${r.method} ${r.path} ${r.status}`);
/** The stand-in's keys: id -> storage and secret (FOREIGN included). */
const keysNow = () => Object.fromEntries([...standIn.keys.values()].map((k) => [k.id, { storage: k.storage, secret: k.secret, owner: k.owner }]));

const bytes = () => readFileSync(conf);
const text = () => readFileSync(conf, 'utf8');

// ---- The secrets --------------------------------------------------------------------------------

let seedValue: string | undefined;

/** The seed as the state holds it (the stand-in's output) once applied, checked to be what random_bytes gives (length 16: 32 lowercase hex digits); kept after the destroy. */
function seedInState(): string {
  if (seedValue !== undefined) return seedValue;
  const state = JSON.parse(readFileSync(join(tf.dir, 'terraform.tfstate'), 'utf8'));
  const resource = state.resources.find((r: any) => `${r.type}.${r.name}` === SEED);
  // terraform_data's input and output are dynamic: the state records each with its type.
  const { input, output } = resource.instances[0].attributes;
  expect(output).toEqual({ type: 'string', value: expect.stringMatching(/^[0-9a-f]{32}$/) });
  expect(output).toEqual(input);
  // Its input was given as sensitive, and the state says so (terraform_data marks its output sensitive neither way).
  expect(resource.instances[0].sensitive_attributes).toEqual([[{ type: 'get_attr', value: 'input' }]]);
  seedValue = output.value as string;
  return seedValue;
}

const secretOf = (seed: string, keyId: string) => createHash('sha256').update(`${seed}:${keyId}`).digest('hex');

/** What must never leak, by name (the seed, every secret the node received, the Node API password). */
function secrets(): Record<string, string> {
  const received = Object.fromEntries(
    standIn.requests
      .filter((r) => (r.method === 'POST' || r.method === 'PUT') && typeof (r.body as any)?.secret === 'string')
      .map((r) => [`secret ${r.method} ${r.method === 'POST' ? (r.body as any).id : r.path}`, (r.body as any).secret as string]),
  );
  return { seed: seedInState(), ...received, password: NODE_PASSWORD };
}

/** Names of the secrets that occur in `text`. */
const leaked = (content: string, values: Record<string, string> = secrets()) => Object.entries(values).filter(([, v]) => content.includes(v)).map(([name]) => name);

/**
 * Where in a JSON document (a state, a saved plan's JSON) each secret occurs, as "<secret name> in
 * <owner>": the owner is the resource (the nearest object with an "address", or a state's
 * resources[i]) or the output ("output.<name>", under "outputs" or "output_changes").
 */
function placesIn(doc: unknown, values: Record<string, string>): string[] {
  const found = new Set<string>();
  const walk = (value: unknown, owner: string, parentKey: string | undefined) => {
    if (typeof value === 'string') {
      for (const [name, v] of Object.entries(values)) if (value.includes(v)) found.add(`${name} in ${owner}`);
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((v) => walk(v, owner, undefined));
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const o = value as Record<string, unknown>;
    let own = owner;
    if (typeof o.address === 'string') own = o.address;
    else if (typeof o.type === 'string' && typeof o.name === 'string' && Array.isArray(o.instances)) own = `${o.type}.${o.name}`;
    for (const [k, v] of Object.entries(o)) {
      const child = parentKey === 'outputs' || parentKey === 'output_changes' ? `output.${k}` : own;
      walk(v, child, k);
    }
  };
  walk(doc, '(top)', undefined);
  return [...found].sort();
}

/** What the state and a plan of a stack that has applied may hold: the seed as the seed's value, the secrets as the sensitive output. */
function expectedPlaces(values: Record<string, string>): string[] {
  return Object.keys(values)
    .filter((name) => name !== 'password')
    .map((name) => (name === 'seed' ? `seed in ${SEED}` : `${name} in output.access_key_secrets`))
    .sort();
}

/** Only the secrets that are still the stack's: those the output gives now, and the seed. */
async function currentSecrets(): Promise<Record<string, string>> {
  const out = JSON.parse(await tf.ok(['output', '-json', 'access_key_secrets'])) as Record<string, string>;
  const all = secrets();
  return Object.fromEntries(Object.entries(all).filter(([name, v]) => name === 'seed' || name === 'password' || Object.values(out).includes(v)));
}

/** The state (and its backup) hold the seed only as the seed's value, the secrets only as the sensitive output. */
async function stateHoldsSecretsOnlyWhereExpected(): Promise<void> {
  const values = await currentSecrets();
  const state = JSON.parse(readFileSync(join(tf.dir, 'terraform.tfstate'), 'utf8'));
  expect(placesIn(state, values)).toEqual(expectedPlaces(values));
  expect(state.outputs.access_key_secrets.sensitive).toBe(true);
}

/** Every file under `dir` (recursively; symbolic links not followed). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return filesUnder(path);
    return e.isFile() ? [path] : [];
  });
}

/** Files in the SSH user's home that hold a secret, and uploaded scripts left non-empty. */
function homeLeftovers(): { withSecrets: string[]; scripts: string[] } {
  const values = secrets();
  const files = filesUnder(user.home);
  return {
    withSecrets: files.filter((f) => leaked(readFileSync(f, 'latin1'), values).length > 0),
    scripts: files.filter((f) => SCRIPT_FILE.test(f.slice(f.lastIndexOf('/') + 1)) && statSync(f).size > 0),
  };
}

/** The machine that runs Terraform is this one too: its working directory (state, saved plans) is not the host's. */
const terraformSide = () => [tf.dir, join(root, 'precondition'), join(root, 'generated-external-id')];

/**
 * Files under /tmp changed since the file started (the host's aspera.conf directory and the SSH
 * user's home are there too) that hold a secret; the Terraform working directories and the
 * credentials file (which holds the password by design) left out.
 */
function tmpLeftovers(): string[] {
  const found = spawnSync('find', ['/tmp', '-xdev', '-type', 'f', '-newer', startMarker, '-size', '-8M', '-print0'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const values = secrets();
  const skip = terraformSide();
  return found.stdout
    .split('\0')
    .filter((f) => f !== '' && f !== credentials && !skip.some((d) => f.startsWith(`${d}/`)))
    .filter((f) => {
      try {
        return !lstatSync(f).isSymbolicLink() && leaked(readFileSync(f, 'latin1'), values).length > 0;
      } catch {
        return false; // gone since find listed it: another process's temporary file
      }
    });
}

/** The lines of Terraform's output that hold a secret, trimmed, with the secret's name. */
const leakingLines = (output: string, values: Record<string, string> = secrets()) =>
  output.split('\n').flatMap((line) => leaked(line, values).map((name) => `${name}: ${line.trim()}`));

/**
 * The one line of Terraform's output that holds the seed, and it is the stand-in's, not the
 * stack's: in the destroy plan, the block of terraform_data.access_key_secret_seed shows its output
 * attribute, which terraform_data does not mark sensitive (its input, given as sensitive, shows as
 * "(sensitive value)"). The real random_bytes.access_key_secret_seed shows hex and base64 there as
 * "(sensitive value)", length and id "none" (hashicorp/random 3.7.2 marks both sensitive).
 */
const STAND_IN_OUTPUT_IN_DESTROY_PLAN = () => [`seed: - output = "${seedInState()}" -> null`];

/** The lines of the destroy plan's block for `address`, from "# <address> will be destroyed" to the blank line after it (none: not in the plan). */
function destroyPlanBlock(output: string, address: string): string[] {
  const lines = output.split('\n');
  const start = lines.findIndex((l) => l.trim() === `# ${address} will be destroyed`);
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && l.trim() === '');
  return lines.slice(start, end < 0 ? undefined : end);
}

/** Nothing the run printed (but `allowed` lines), and no command line while the Node API was called, holds a secret. */
function nothingLeakedBy(o: Outcome, allowed: string[] = []): void {
  const values = secrets();
  expect(leakingLines(o.output, values)).toEqual(allowed);
  for (const r of o.requests) expect({ request: `${r.method} ${r.path}`, leaked: leaked(r.processes ?? '', values) }).toEqual({ request: `${r.method} ${r.path}`, leaked: [] });
  expect(homeLeftovers()).toEqual({ withSecrets: [], scripts: [] });
}

// ---- The steps ----------------------------------------------------------------------------------

test('the conversion: random_bytes as real-provider.ts converts it, sensitive where the stack reads it; the precondition and the spliced install carried over, terraform init needs no provider', async () => {
  const s = synth(GRANTS);
  h = tf.write(s);
  expect(h.randoms).toEqual({ 'random_bytes.access_key_secret_seed': SEED });
  expect(h.outputs).toEqual(['access_key_secrets']);
  const blocks = h.json.resource.terraform_data;
  // The same stand-in as the real-provider suite's (helpers/real-provider.ts), but cdktf's comment:
  // 16 bytes of uuid() as hex, given as sensitive, created once and kept.
  const { '//': _comment, ...realProviderSeed } = asRealProviderStack(s.tf, { awsVersion: '0.0.0', endpoint: 'http://127.0.0.1:9' }).json.resource.terraform_data.access_key_secret_seed;
  expect(blocks.access_key_secret_seed).toEqual(realProviderSeed);
  expect(blocks.access_key_secret_seed).toEqual({ input: '${sensitive(replace(uuid(), "-", ""))}', lifecycle: { ignore_changes: ['input'] } });
  expect(s.tf.resource!.random_bytes.access_key_secret_seed).toMatchObject({ length: 16 });

  // What the stack writes (written by hand from src/constructs/aspera-hosts.ts), and what the conversion makes of it:
  // every read of the seed sensitive, as random_bytes.hex is; nonsensitive() where the stack puts it.
  const name = h.docroots.slice('terraform_data.'.length);
  const synthesized = s.tf.resource!.null_resource[name];
  const install = blocks[name] as any;
  const script = `file("aspera-host-scripts/aspera_hosts/host_127_0_0_1_${sshd.port}/install.sh")`;
  const check = (ref: string) => `\${can(regex("^[0-9a-f]{32}$", ${ref}))}`;
  const message = (ref: string) => `The access key secret seed (${ref}) must be 32 lowercase hex digits: it is put into the Aspera host script as it is.`;
  const HEX = 'random_bytes.access_key_secret_seed.hex';
  const READ = `sensitive(${SEED}.output)`;
  expect(synthesized.provisioner[0]['remote-exec'].inline).toEqual([`\${replace(${script}, "ASPERAACCESSKEYSEEDMARKER", nonsensitive(${HEX}))}`]);
  expect(install.provisioner[0]['remote-exec'].inline).toEqual([`\${replace(${script}, "ASPERAACCESSKEYSEEDMARKER", nonsensitive(${READ}))}`]);
  expect(synthesized.triggers.access_key_seed_sha256).toBe(`\${nonsensitive(sha256(${HEX}))}`);
  expect(install.triggers_replace.access_key_seed_sha256).toBe(`\${nonsensitive(sha256(${READ}))}`);
  expect(synthesized.lifecycle).toEqual({ precondition: [{ condition: check(HEX), error_message: message(HEX) }] });
  // In the prose of the message, the stand-in's attribute by name.
  expect(install.lifecycle).toEqual({ precondition: [{ condition: check(READ), error_message: message(`${SEED}.output`) }] });
  const convertedOutputs = h.json.output as any;
  expect(convertedOutputs.access_key_secrets.sensitive).toBe(true);
  expect(convertedOutputs.access_key_secrets.value).toEqual(Object.fromEntries(['ak1', 'ak2', 'xfer3'].map((u) => [id(u), `\${sha256("\${${READ}}:${id(u)}")}`])));
  expect(JSON.stringify(h.json)).not.toMatch(/random_(id|bytes)\./);
  const out = await tf.ok(['init', '-input=false', '-no-color']);
  expect(out).toMatch(/Terraform has been successfully initialized/);
  expect(out).not.toMatch(/Installing/);
});

test('the conversion with a generated External ID too (random_id, not sensitive): both spliced, nested, each in its own form; Terraform validates and plans it', async () => {
  const s = synthConfigToDir(
    halvesOf(
      baseConfigInput({
        grants: [XFER2, AK1],
        asperaHosts: [{ host: '127.0.0.1', port: sshd.port, user: user.name, privateKeyPath: sshd.clientKey, asperaConfPath: conf, hostKey: sshd.hostKey, nodeApi: { credentialsFile: credentials } }],
      }),
      { generateExternalId: true },
    ).transferHost,
  );
  synths.push(s);
  const other = terraformDir(join(root, 'generated-external-id'), join(root, 'generated-external-id.log'));
  const g = other.write(s);
  expect(g.randoms).toEqual({ 'random_id.external_id': 'terraform_data.external_id', 'random_bytes.access_key_secret_seed': SEED });
  const blocks = g.json.resource.terraform_data;
  const real = asRealProviderStack(s.tf, { awsVersion: '0.0.0', endpoint: 'http://127.0.0.1:9' }).json.resource.terraform_data;
  for (const n of ['external_id', 'access_key_secret_seed']) {
    const { '//': _comment, ...standIn } = real[n];
    expect(blocks[n]).toEqual(standIn);
  }
  expect(blocks.external_id).toEqual({ input: '${replace(uuid(), "-", "")}', lifecycle: { ignore_changes: ['input'] } });
  const name = g.docroots.slice('terraform_data.'.length);
  const install = blocks[name] as any;
  const script = `file("aspera-host-scripts/aspera_hosts/host_127_0_0_1_${sshd.port}/install.sh")`;
  expect(s.tf.resource!.null_resource[name].provisioner[0]['remote-exec'].inline).toEqual([
    `\${replace(replace(${script}, "ASPERAEXTERNALIDMARKER", random_id.external_id.hex), "ASPERAACCESSKEYSEEDMARKER", nonsensitive(random_bytes.access_key_secret_seed.hex))}`,
  ]);
  expect(install.provisioner[0]['remote-exec'].inline).toEqual([
    `\${replace(replace(${script}, "ASPERAEXTERNALIDMARKER", terraform_data.external_id.output), "ASPERAACCESSKEYSEEDMARKER", nonsensitive(sensitive(${SEED}.output)))}`,
  ]);
  expect(install.triggers_replace).toMatchObject({
    external_id_sha256: '${sha256(terraform_data.external_id.output)}',
    access_key_seed_sha256: `\${nonsensitive(sha256(sensitive(${SEED}.output)))}`,
  });
  expect(install.lifecycle.precondition.map((p: any) => p.condition)).toEqual([
    '${can(regex("^[0-9a-f]{32}$", terraform_data.external_id.output))}',
    `\${can(regex("^[0-9a-f]{32}$", sensitive(${SEED}.output)))}`,
  ]);
  // The External ID's output stays as the stack has it (sensitive by its own flag), the seed's reads as sensitive.
  expect((g.json.output as any).external_id).toMatchObject({ value: '${terraform_data.external_id.output}', sensitive: true });
  expect(JSON.stringify(g.json)).not.toMatch(/random_(id|bytes)\./);
  await other.ok(['init', '-input=false', '-no-color']);
  expect(await other.ok(['validate', '-no-color'])).toMatch(/The configuration is valid/);
  // Planned (nothing applied, no connection): both values and both hashes unknown until the apply.
  const before = sshd.connections();
  await other.ok(['plan', '-input=false', '-no-color', '-out=generated.tfplan']);
  const planned = JSON.parse(await other.ok(['show', '-json', '-no-color', 'generated.tfplan']));
  const change = (address: string) => planned.resource_changes.find((c: any) => c.address === address).change;
  expect(change(g.docroots).after_unknown.triggers_replace).toMatchObject({ external_id_sha256: true, access_key_seed_sha256: true });
  expect(change('terraform_data.external_id').after_unknown.output).toBe(true);
  expect(change(SEED).after_unknown.output).toBe(true);
  expect(change(SEED).after_sensitive).toMatchObject({ input: true });
  expect(sshd.connections()).toBe(before);
});

test('the conversion refuses what it has no faithful conversion for', () => {
  const tfJson = synths[0].tf;
  const docroots = h.docroots.slice('terraform_data.'.length);
  const revocation = h.revocation.slice('terraform_data.'.length);
  const convert = (edit: (t: any) => void) => {
    const t = structuredClone(tfJson) as any;
    edit(t);
    return () => hostResourcesAsTerraformData(t, '/dev/null');
  };
  expect(convert(() => {})).not.toThrow();
  expect(convert((t) => (t.resource.random_bytes.access_key_secret_seed.keepers = { a: 'b' }))).toThrow(/random_bytes\.access_key_secret_seed: no conversion for keepers/);
  expect(convert((t) => (t.resource.random_bytes.access_key_secret_seed.length = 32))).toThrow(/length 32/);
  expect(convert((t) => (t.resource.random_id = { access_key_secret_seed: { byte_length: 16 } }))).toThrow(/terraform_data\.access_key_secret_seed stands in for another/);
  expect(convert((t) => (t.resource.null_resource[docroots].lifecycle.create_before_destroy = true))).toThrow(/no conversion for lifecycle\.create_before_destroy/);
  expect(convert((t) => (t.resource.null_resource[revocation].lifecycle = t.resource.null_resource[docroots].lifecycle))).toThrow(/no conversion for lifecycle/);
  expect(convert((t) => (t.resource.null_resource[docroots].lifecycle.precondition[0].condition = '${length(random_bytes.access_key_secret_seed.hex) == 32}'))).toThrow(/no conversion for the precondition/);
  expect(convert((t) => (t.resource.null_resource[docroots].triggers.access_key_seed_sha256 = '${nonsensitive(random_bytes.access_key_secret_seed.base64)}'))).toThrow(/refers to .*base64/);
  expect(convert((t) => (t.resource.null_resource[docroots].triggers.access_key_seed_sha256 = '${nonsensitive(sha256(random_bytes.other.hex))}'))).toThrow(/refers to .*random_bytes\.other/);
  // Each type in its own form: the sensitive seed only through nonsensitive(), a random_id never.
  expect(convert((t) => (t.resource.null_resource[docroots].triggers.access_key_seed_sha256 = '${sha256(random_bytes.access_key_secret_seed.hex)}'))).toThrow(/refers to .*sha256\(random_bytes/);
  const inline = (t: any) => t.resource.null_resource[docroots].provisioner[0]['remote-exec'].inline;
  expect(convert((t) => (inline(t)[0] = inline(t)[0].replace('nonsensitive(random_bytes.access_key_secret_seed.hex)', 'random_bytes.access_key_secret_seed.hex')))).toThrow(/refers to .*ASPERAACCESSKEYSEEDMARKER/);
  expect(convert((t) => (inline(t)[0] = inline(t)[0].replace('nonsensitive(random_bytes.access_key_secret_seed.hex)', 'nonsensitive(random_bytes.access_key_secret_seed.base64)')))).toThrow(/refers to/);
  expect(convert((t) => (inline(t)[0] += ' && true'))).toThrow(/refers to/);
  expect(convert((t) => (t.output.access_key_secrets.value.x = '${sha256("${random_bytes.access_key_secret_seed.hex}:${aws_iam_role.grant_ak1.arn}")}'))).toThrow(/output\.access_key_secrets: no conversion/);
  expect(convert((t) => (t.resource.random_password = { p: { length: 16 } }))).toThrow(/cannot stand in for random_password/);
});

test('the precondition holds in the converted configuration: a seed that is not lowercase hex stops the apply before the install connects', async () => {
  // Its own directory and state; the seed's stand-in given a value of the right length in capitals.
  const other = terraformDir(join(root, 'precondition'), join(root, 'precondition.log'));
  const converted = other.write(synths[0]);
  const json = structuredClone(converted.json);
  json.resource.terraform_data.access_key_secret_seed = { input: 'ABCDEF0123456789ABCDEF0123456789' };
  writeFileSync(join(other.dir, 'main.tf.json'), JSON.stringify(json));
  await other.ok(['init', '-input=false', '-no-color']);
  // Like random_bytes' hex, the stand-in's output is unknown when a create is planned: the check
  // waits for the apply, as it does in the real stack.
  await other.ok(['plan', '-input=false', '-no-color', '-out=check.tfplan']);
  const planned = JSON.parse(await other.ok(['show', '-json', '-no-color', 'check.tfplan']));
  expect(planned.resource_changes.find((c: any) => c.address === SEED).change.after_unknown.output).toBe(true);
  const before = { connections: sshd.connections(), requests: standIn.requests.length, conf: bytes() };
  const r = await other.run(['apply', '-input=false', '-no-color', 'check.tfplan']);
  expect(r.status).not.toBe(0);
  expect(r.output).toMatch(/Resource precondition failed/);
  expect(r.output.replace(/[\s│]+/g, ' ')).toContain(`The access key secret seed (${SEED}.output) must be 32 lowercase hex digits`);
  // The install resource was never created (the state names it, with no instance); the rest was.
  const state = JSON.parse(readFileSync(join(other.dir, 'terraform.tfstate'), 'utf8'));
  const instances = Object.fromEntries(state.resources.map((res: any) => [`${res.type}.${res.name}`, res.instances.length]));
  expect(instances).toEqual({ [SEED]: 1, [ROLES]: 1, [converted.revocation]: 1, [converted.docroots]: 0 });
  expect([sshd.connections(), standIn.requests.length]).toEqual([before.connections, before.requests]);
  expect(bytes().equals(before.conf)).toBe(true);
});

test('first apply: a key per access-key grant (GET then POST), docroots for the docroot grants, one connection, every request valid', async () => {
  const { actions, json } = await plan();
  expect(actions).toEqual({ [h.docroots]: 'create', [h.revocation]: 'create', [ROLES]: 'create', [SEED]: 'create' });
  // Nothing of the seed is known before the apply: the stand-in's value, its hash in the trigger, the secrets.
  const change = (address: string) => json.resource_changes.find((c: any) => c.address === address).change;
  expect(change(SEED).after_unknown.output).toBe(true);
  expect(change(h.docroots).after_unknown.triggers_replace.access_key_seed_sha256).toBe(true);
  expect(json.output_changes.access_key_secrets.after_unknown).toEqual({ [id('ak1')]: true, [id('ak2')]: true, [id('xfer3')]: true });
  expect(JSON.stringify(json)).not.toMatch(/"[0-9a-f]{32}"/);

  const o = await run(['apply', '-input=false', '-no-color', 'plan.tfplan']);
  succeeded(o);
  expect([o.connections, sshd.connections(user.name), o.restarts]).toEqual([1, 1, 1]);
  expect(o.output).toMatch(/re-running as root with sudo -n/);
  allValid(o.requests);
  // Read first (nothing changes before every key is known), then written.
  expect(summary(o.requests)).toEqual([
    `GET /access_keys/${id('ak1')} 404`,
    `GET /access_keys/${id('ak2')} 404`,
    `GET /access_keys/${id('xfer3')} 404`,
    'POST /access_keys 200',
    'POST /access_keys 200',
    'POST /access_keys 200',
  ]);
  const seed = seedInState();
  const posted = writes(o.requests).map((r) => r.body);
  expect(posted).toEqual([
    { id: id('ak1'), secret: secretOf(seed, id('ak1')), storage: storage('ak1', '/incoming') },
    { id: id('ak2'), secret: secretOf(seed, id('ak2')), storage: storage('ak2', '/reports') },
    { id: id('xfer3'), secret: secretOf(seed, id('xfer3')), storage: storage('xfer3', '/outgoing') },
  ]);
  expect(Object.keys(keysNow()).sort()).toEqual([FOREIGN.id, id('ak1'), id('ak2'), id('xfer3')].sort());
  expect(keysNow()[FOREIGN.id]).toEqual({ storage: FOREIGN.storage, secret: FOREIGN.secret, owner: NODE_USER });

  // Docroots for xfer2 and xfer3 only: an access-key-only grant gets no user in aspera.conf.
  const xml = text();
  expect(docrootOf(xml, 'xfer2')).toMatchObject({ absolute: XFER2_DOCROOT, write_allowed: 'true' });
  expect(docrootOf(xml, 'xfer3')).toMatchObject({ absolute: XFER3_DOCROOT, write_allowed: 'false' });
  expect(usersOf(xml).has('ak1')).toBe(false);
  expect(usersOf(xml).has('ak2')).toBe(false);
  // The host's record of what this stack created: root's alone.
  expect(statSync(akState)).toMatchObject({ uid: 0 });
  expect(statSync(akState).mode & 0o777).toBe(0o600);
  expect(readFileSync(akState, 'utf8').split('\n').filter((l) => !l.startsWith('#') && l !== '').map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(
    ['ak1', 'ak2', 'xfer3'].map((u) => `aspera-cross-account:111111111111:222222222222 ${id(u)}`),
  );
  nothingLeakedBy(o);
});

test('the secrets: terraform output gives what the node received; the state holds them only as the seed and the sensitive output', async () => {
  const out = JSON.parse(await tf.ok(['output', '-json', 'access_key_secrets']));
  const received = Object.fromEntries([id('ak1'), id('ak2'), id('xfer3')].map((k) => [k, standIn.keys.get(k)!.secret]));
  expect(out).toEqual(received);
  expect(Object.values(out).every((v) => /^[0-9a-f]{64}$/.test(v as string))).toBe(true);
  await stateHoldsSecretsOnlyWhereExpected();
  // Shown as sensitive, and the whole output list says nothing either.
  const all = await tf.ok(['output', '-no-color']);
  expect(all).toMatch(/access_key_secrets = <sensitive>/);
  expect(leaked(all)).toEqual([]);
  // Nowhere in the configurations: the synthesized JSON and scripts, the converted JSON and its copies.
  const configFiles = [...synths.flatMap((s) => filesUnder(s.stackDir)), join(tf.dir, 'main.tf.json'), ...filesUnder(join(tf.dir, 'aspera-host-scripts'))];
  expect(configFiles.filter((f) => leaked(readFileSync(f, 'utf8')).length > 0)).toEqual([]);
  expect(readFileSync(join(tf.dir, 'main.tf.json'), 'utf8')).toContain('ASPERAACCESSKEYSEEDMARKER');
});

test('apply again with nothing changed: nothing planned, no connection, no request', async () => {
  const { actions, json } = await plan();
  expect(actions).toEqual({ [h.docroots]: 'no-op', [h.revocation]: 'no-op', [ROLES]: 'no-op', [SEED]: 'no-op' });
  const values = await currentSecrets();
  expect(placesIn(json, values)).toEqual(expectedPlaces(values));
  const before = bytes();
  const o = await run(['apply', '-input=false', '-no-color', 'plan.tfplan']);
  succeeded(o);
  expect([o.connections, o.restarts, o.requests.length]).toEqual([0, 0, 0]);
  expect(bytes().equals(before)).toBe(true);
  nothingLeakedBy(o);
});

test('the install forced to run again (-replace): it reads every key and writes none', async () => {
  const before = { conf: bytes(), state: readFileSync(akState), keys: keysNow() };
  const o = await apply([`-replace=${h.docroots}`]);
  succeeded(o);
  expect([o.connections, o.restarts]).toEqual([1, 0]);
  allValid(o.requests);
  expect(summary(o.requests)).toEqual(['ak1', 'ak2', 'xfer3'].map((u) => `GET /access_keys/${id(u)} 200`));
  expect(o.output).toMatch(/every Node API access key of this stack is as wanted: nothing changed/);
  expect(bytes().equals(before.conf)).toBe(true);
  expect(readFileSync(akState).equals(before.state)).toBe(true);
  expect(keysNow()).toEqual(before.keys);
  nothingLeakedBy(o);
});

test("ak1's prefix changed: the install resource alone is replaced, one PUT with the new path and the same secret", async () => {
  write([XFER2, AK1_MOVED, AK2, XFER3]);
  const { actions, json } = await plan();
  expect(actions).toEqual({ [h.docroots]: 'delete,create', [h.revocation]: 'no-op', [ROLES]: 'no-op', [SEED]: 'no-op' });
  const values = await currentSecrets();
  expect(placesIn(json, values)).toEqual(expectedPlaces(values));
  const before = { conf: bytes(), secret: standIn.keys.get(id('ak1'))!.secret };
  const o = await run(['apply', '-input=false', '-no-color', 'plan.tfplan']);
  succeeded(o);
  expect([o.connections, o.restarts]).toEqual([1, 0]);
  allValid(o.requests);
  expect(summary(writes(o.requests))).toEqual([`PUT /access_keys/${id('ak1')} 204`]);
  expect(writes(o.requests)[0].body).toEqual({ secret: before.secret, storage: storage('ak1', '/incoming/2025') });
  expect(standIn.keys.get(id('ak1'))!.storage).toEqual(storage('ak1', '/incoming/2025'));
  // No docroot changed: aspera.conf is untouched, asperanoded not restarted.
  expect(bytes().equals(before.conf)).toBe(true);
  expect(o.output).toMatch(/updated access key aspera-cross-account-111111111111-ak1 \(transfer user ak1\)/);
  nothingLeakedBy(o);
});

test('ak2 removed: its key is DELETEd, the others untouched', async () => {
  write([XFER2, AK1_MOVED, XFER3]);
  const { actions, json } = await plan();
  expect(actions).toEqual({ [h.docroots]: 'delete,create', [h.revocation]: 'no-op', [ROLES]: 'no-op', [SEED]: 'no-op' });
  const values = await currentSecrets();
  expect(placesIn(json, values)).toEqual(expectedPlaces(values));
  const before = { conf: bytes(), keys: keysNow() };
  const o = await run(['apply', '-input=false', '-no-color', 'plan.tfplan']);
  succeeded(o);
  expect([o.connections, o.restarts]).toEqual([1, 0]);
  allValid(o.requests);
  expect(summary(writes(o.requests))).toEqual([`DELETE /access_keys/${id('ak2')} 204`]);
  const { [id('ak2')]: _gone, ...rest } = before.keys;
  expect(keysNow()).toEqual(rest);
  expect(bytes().equals(before.conf)).toBe(true);
  expect(Object.keys(JSON.parse(await tf.ok(['output', '-json', 'access_key_secrets']))).sort()).toEqual([id('ak1'), id('xfer3')]);
  await stateHoldsSecretsOnlyWhereExpected();
  nothingLeakedBy(o);
});

test("the Node API refuses the credentials (401): the apply fails with the script's message, nothing changed; the same apply then succeeds", async () => {
  const before = { conf: bytes(), state: readFileSync(akState), keys: keysNow(), tfState: await tf.state() };
  standIn.failWith({ status: 401, userMessage: 'Invalid username or password' });
  let o: Outcome;
  try {
    o = await apply([`-replace=${h.docroots}`]);
  } finally {
    standIn.failWith(undefined);
  }
  expect(o.status).not.toBe(0);
  expect([o.connections, o.restarts]).toEqual([1, 0]);
  allValid(o.requests);
  expect(summary(o.requests)).toEqual([`GET /access_keys/${id('ak1')} 401`]);
  expect(o.output).toContain(
    `aspera-cross-account: error: the Node API at ${standIn.url} refused the credentials in ${credentials} (GET /access_keys/${id('ak1')}: HTTP 401: Invalid username or password): ` +
      'check the node user and password (asnodeadmin -l lists the node users). Nothing was changed',
  );
  expect(o.output).toMatch(/Error: remote-exec provisioner error/);
  expect(bytes().equals(before.conf)).toBe(true);
  expect(readFileSync(akState).equals(before.state)).toBe(true);
  expect(keysNow()).toEqual(before.keys);
  // The refused run left no script in the home (Terraform uploads no blank file after a failure).
  nothingLeakedBy(o);

  // The install resource is tainted: the next apply runs it again, and with the Node API back it writes nothing.
  const { actions } = await plan();
  expect(actions).toEqual({ [h.docroots]: 'delete,create', [h.revocation]: 'no-op', [ROLES]: 'no-op', [SEED]: 'no-op' });
  const again = await run(['apply', '-input=false', '-no-color', 'plan.tfplan']);
  succeeded(again);
  expect([again.connections, again.restarts, writes(again.requests).length]).toEqual([1, 0, 0]);
  allValid(again.requests);
  expect(await tf.state()).toEqual(before.tfState);
  nothingLeakedBy(again);
});

test('destroy: every key of the stack DELETEd (the foreign one kept), aspera.conf byte-identical to the original, no access-key state left', async () => {
  const o = await run(['destroy', '-auto-approve', '-input=false', '-no-color']);
  succeeded(o);
  // The revocation's uninstall: one connection, one restart (xfer2's and xfer3's docroots go).
  expect([o.connections, o.restarts]).toEqual([1, 1]);
  expect(o.output).not.toMatch(/aspera-cross-account: error:/);
  allValid(o.requests);
  expect(summary(writes(o.requests)).sort()).toEqual([`DELETE /access_keys/${id('ak1')} 204`, `DELETE /access_keys/${id('xfer3')} 204`]);
  expect(keysNow()).toEqual({ [FOREIGN.id]: { storage: FOREIGN.storage, secret: FOREIGN.secret, owner: NODE_USER } });
  expect(bytes().equals(Buffer.from(ORIGINAL))).toBe(true);
  expect(existsSync(akState)).toBe(false);
  expect(readdirSync(join(root, 'etc')).filter((f) => !f.startsWith('aspera.conf.bak.')).sort()).toEqual(['aspera.conf', 'node-api.credentials']);
  expect(await tf.state()).toEqual([]);
  // The seed shows in the destroy plan only as the stand-in's own output attribute, in its own block
  // (its input there "(sensitive value)"); nothing the stack derives from it shows, nor any secret.
  const standInBlock = destroyPlanBlock(o.output, SEED);
  expect(standInBlock.map((l) => l.trim())).toContain('- input  = (sensitive value) -> null');
  expect(leakingLines(standInBlock.join('\n'))).toEqual(STAND_IN_OUTPUT_IN_DESTROY_PLAN());
  nothingLeakedBy(o, STAND_IN_OUTPUT_IN_DESTROY_PLAN());
  expect(o.output).toMatch(/access_key_secrets = \(sensitive value\) -> null/);
});

test('no secret anywhere on the host or in what the runs printed; ps shows the requests were made by curl', () => {
  const values = secrets();
  // The seed, ak1, ak2 and xfer3's secrets (ak1's PUT repeats its own) and the password.
  expect(Object.keys(values).length).toBeGreaterThanOrEqual(5);
  // Every run's output (plans, applies, the provisioners' output, the destroy): no seed, no secret, no password,
  // but the stand-in's own output attribute in the destroy plan (STAND_IN_OUTPUT_IN_DESTROY_PLAN).
  expect(outputs.filter((o) => leaked(o.output, values).length > 0).map((o) => ({ args: o.args[0], lines: leakingLines(o.output, values) }))).toEqual([
    { args: 'destroy', lines: STAND_IN_OUTPUT_IN_DESTROY_PLAN() },
  ]);
  expect(standIn.requests.filter((r) => leaked(r.processes ?? '', values).length > 0).map((r) => `${r.method} ${r.path}`)).toEqual([]);
  // The snapshots were taken while the client ran: each shows curl reading its config from stdin.
  expect(standIn.requests.every((r) => /curl -q --noproxy \* --config - /.test(r.processes ?? ''))).toBe(true);
  expect(tmpLeftovers()).toEqual([]);
  expect(homeLeftovers()).toEqual({ withSecrets: [], scripts: [] });
  // The scans find what they look for: a secret planted in the home and under /tmp.
  const planted = [join(user.home, '.cache-planted'), join(root, 'planted')];
  for (const f of planted) writeFileSync(f, `x${values[Object.keys(values)[1]]}x`);
  try {
    expect(homeLeftovers().withSecrets).toEqual([planted[0]]);
    expect(tmpLeftovers().sort()).toEqual([...planted].sort());
  } finally {
    for (const f of planted) rmSync(f, { force: true });
  }
});
