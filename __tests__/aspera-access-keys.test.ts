/**
 * Node API access keys (grants with "installAs": ["access-key"]): the rendered install and
 * uninstall scripts run for real (dash and bash) against the Node API stand-in
 * (helpers/node-api-stand-in.ts), which checks every request against IBM's OpenAPI 4.4.6 and
 * records it. Each run is what Terraform does: the script, the seed put in place of the marker,
 * uploaded as ./.aspera-cross-account-<n>.sh into a private home directory and run from there (so
 * it removes itself); the seeded copies the tests keep stand for Terraform's memory and live
 * outside the host directory.
 *
 * Expected keys, bodies and docroots are written by hand from the config, never computed by src/.
 * Every request any test makes is checked against the spec (the stand-in's schemaProblems and
 * checkNodeApiRequest directly), and the output of every run for the password, the seed and the
 * secrets (run() below).
 *
 * Each test has its own stand-in (starting one costs a listen): a test's requests, keys and
 * injected failures are then its own while the tests run concurrently.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { ACCESS_KEY_SEED_MARKER } from '../src/aspera/access-key';
import { renderHostScripts } from '../src/aspera/host-scripts';
import type { Config, ConfigInput } from '../src/config/schema';
import { BASE, docrootOf, fakeTool, fixture, rawStanzas, runAsync, tempRoot, testConfig, workdir, XFER2_DOCROOT, XFER3_DOCROOT, type Workdir } from './helpers/aspera-host';
import { checkNodeApiRequest } from './helpers/node-api-schema';
import { startNodeApiStandIn, type NodeApiStandIn, type NodeApiStandInOptions, type RecordedRequest, type StandInKey } from './helpers/node-api-stand-in';
import { minimalPath, POSIX_SHELL, SHELLS } from './helpers/unprivileged';

const DASH = POSIX_SHELL;
const short = (shell: string) => shell.split('/').pop()!;
const RESTART = 'systemctl restart asperanoded';
const AK_STATE = 'aspera.conf.aspera-cross-account.access-keys';
const STATE = 'aspera.conf.aspera-cross-account.state';
const ORIGINAL = fixture('hsts-realm.conf');
const TLS = join(__dirname, 'fixtures', 'node-api-tls');

// ---- Secrets: every value that must never show up outside the credentials file and the wire ----

/** The Node API user and its password: quotes, a backslash, a space, "$" and ":" (curl's config must keep them data). */
const NODE_USER = 'node_admin';
const PASSWORD = 'N0de-"pa\\ss w$rd":7Qx';
const OTHER_USER = 'other_admin';
const OTHER_PASSWORD = 'Other-0a9c7e11-pass';
const WRONG_PASSWORD = 'Wrong-5d41402abc4b2a76';
const SEED = '5f0e8a1c93d24b7e61a0c4d2e8f7b3a9';
const SEED2 = 'c0ffee00deadbeef0123456789abcdef';

/** sha256 hex of "<seed>:<id>", as IBM's key gets it (docs: access-key.ts), computed here with node:crypto. */
const secretOf = (seed: string, id: string): string => createHash('sha256').update(`${seed}:${id}`).digest('hex');

/** Everything run() looks for in outputs: filled by render() with each seed and the secrets derived from it. */
const SECRETS = new Set<string>([PASSWORD, OTHER_PASSWORD, WRONG_PASSWORD, SEED, SEED2]);
const leaks = (text: string): string[] => [...SECRETS].filter((s) => text.includes(s));

// ---- The config: one grant of each kind, and the keys written by hand ----

const STACK = 'aspera-cross-account:111111111111:222222222222';
const GRANTS: ConfigInput['grants'] = [
  // docroot only (the default)
  { transferUser: 'xfer2', bucket: 'acme-aspera-inbox', prefix: '', access: 'read-write' },
  // access key only, with a prefix
  { transferUser: 'xfer3', bucket: 'partner.reports.example', prefix: 'outgoing/2024.q1', access: 'read-only', installAs: ['access-key'] },
  // both, the whole bucket
  { transferUser: 'xfer4', bucket: 'acme-aspera-inbox', prefix: '', access: 'read-write', installAs: ['docroot', 'access-key'] },
];
const grantsWith = (edit: (grants: Array<Record<string, unknown>>) => void): ConfigInput['grants'] => {
  const grants = structuredClone(GRANTS) as Array<Record<string, unknown>>;
  edit(grants);
  return grants as ConfigInput['grants'];
};
const CONFIG = testConfig({ grants: GRANTS });

const ID3 = 'aspera-cross-account-111111111111-xfer3';
const ID4 = 'aspera-cross-account-111111111111-xfer4';
const STORAGE3 = {
  type: 'aws_s3',
  bucket: 'partner.reports.example',
  endpoint: 's3.amazonaws.com',
  path: '/outgoing/2024.q1',
  credentials: {
    type: 'assume-role',
    assume_role_arn: 'arn:aws:iam::111111111111:role/aspera-cross-account-xfer3',
    assume_role_external_id: 'aspera-7f3c9e21',
    assume_role_session_name: 'aspera-cross-account.xfer3',
  },
};
const STORAGE4 = {
  type: 'aws_s3',
  bucket: 'acme-aspera-inbox',
  endpoint: 's3.amazonaws.com',
  path: '/',
  credentials: {
    type: 'assume-role',
    assume_role_arn: 'arn:aws:iam::111111111111:role/aspera-cross-account-xfer4',
    assume_role_external_id: 'aspera-7f3c9e21',
    assume_role_session_name: 'aspera-cross-account.xfer4',
  },
};
const XFER4_DOCROOT = 's3://arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Faspera-cross-account-xfer4@s3.amazonaws.com/acme-aspera-inbox;iam-role.external-id=aspera-7f3c9e21';
const withExternalId = <T extends typeof STORAGE3>(storage: T, externalId: string): T => ({ ...storage, credentials: { ...storage.credentials, assume_role_external_id: externalId } });

/** The stand-in's keys after CONFIG is installed: as POSTed, owned by our node user. */
const INSTALLED_KEYS: StandInKey[] = [
  { id: ID3, secret: secretOf(SEED, ID3), storage: STORAGE3, owner: NODE_USER },
  { id: ID4, secret: secretOf(SEED, ID4), storage: STORAGE4, owner: NODE_USER },
];

/** IBM's POST /access_keys body (accessKeyRequest) and PUT body (accessKeyPUTRequest: no id). */
const postBody = (id: string, storage: object, seed = SEED) => ({ id, secret: secretOf(seed, id), storage });
const putBody = (id: string, storage: object, seed = SEED) => ({ secret: secretOf(seed, id), storage });

// ---- A host: a workdir, a private home the script is uploaded to, credentials, a stand-in ----

const root = tempRoot('access-keys');
/** The seeded scripts, as Terraform holds them: outside the host directory. */
const TERRAFORM = join(root, 'terraform');
mkdirSync(TERRAFORM);
const standIns: NodeApiStandIn[] = [];
afterAll(async () => {
  await Promise.all(standIns.map((api) => api.close()));
  rmSync(root, { recursive: true, force: true });
});

interface Host {
  readonly name: string;
  readonly w: Workdir;
  readonly api: NodeApiStandIn;
  /** The SSH user's home: the script is uploaded there and run from there. */
  readonly home: string;
  /** Files with credentials ("<user>:<password>" and broken variants): the only files allowed to hold a password. */
  readonly creds: string;
  /** The valid credentials file (mode 0600). */
  readonly credentials: string;
  /** Holds "<batch>:<step>" while a step runs: requests are tagged with it. */
  readonly stepFile: string;
  /** Called for each request as it arrives, while the script waits for the answer. */
  onRequest?: (request: RecordedRequest) => void;
}

const tags = new WeakMap<RecordedRequest, string>();

async function host(name: string, options: Partial<NodeApiStandInOptions> = {}): Promise<Host> {
  const w = workdir(root, name, ORIGINAL);
  const home = join(w.dir, 'home');
  mkdirSync(home, { mode: 0o700 });
  const creds = join(w.dir, 'creds');
  mkdirSync(creds, { mode: 0o700 });
  const credentials = credentialsFile(creds, 'node-api.credentials', `${NODE_USER}:${PASSWORD}\n`);
  const stepFile = join(root, `${name}.step`);
  // The stand-in calls onRequest once a request is answered and recorded, before the answer is
  // sent (the script is still waiting on curl): the step running then is the one that made it.
  let onRequest: Host['onRequest'];
  const api = await startNodeApiStandIn({
    users: { [NODE_USER]: PASSWORD, [OTHER_USER]: OTHER_PASSWORD },
    ...options,
    onRequest: (record) => {
      tags.set(record, existsSync(stepFile) ? readFileSync(stepFile, 'utf8').trim() : '-');
      onRequest?.(record);
    },
  });
  standIns.push(api);
  const h: Host = {
    name,
    w,
    api,
    home,
    creds,
    credentials,
    stepFile,
    set onRequest(f) {
      onRequest = f;
    },
    get onRequest() {
      return onRequest;
    },
  };
  return h;
}

function credentialsFile(dir: string, name: string, content: string, mode = 0o600): string {
  const file = join(dir, name);
  writeFileSync(file, content, { mode });
  chmodSync(file, mode);
  return file;
}

interface Scripts {
  readonly install: string;
  readonly uninstall: string;
  readonly installText: string;
  readonly uninstallText: string;
}

interface RenderOptions {
  /** nodeApi.url (default: the host's stand-in). */
  url?: string;
  credentialsFile?: string;
  caFile?: string;
  /** The seed Terraform puts in; null leaves the marker (a script not run through Terraform). */
  seed?: string | null;
}

let renders = 0;
/** The host's scripts for a config, the seed put in place of the marker as Terraform's replace() does. */
function render(h: Host, config: Config, o: RenderOptions = {}): Scripts {
  const nodeApi = { url: o.url ?? h.api.url, credentialsFile: o.credentialsFile ?? h.credentials, ...(o.caFile !== undefined ? { caFile: o.caFile } : {}) };
  const rendered = renderHostScripts(config, { ...config.asperaHosts[0], nodeApi });
  const seed = o.seed === undefined ? SEED : o.seed;
  const ids = config.grants.filter((g) => g.installAs.includes('access-key')).map((g) => `${config.stackName}-${config.myAccount.accountId}-${g.transferUser}`);
  if (seed !== null) {
    SECRETS.add(seed);
    for (const id of ids) SECRETS.add(secretOf(seed, id));
  }
  // The marker is in the install script exactly when the config has keys, and never in the uninstall.
  expect(rendered.install.split(ACCESS_KEY_SEED_MARKER).length - 1).toBe(ids.length > 0 ? 1 : 0);
  expect(rendered.uninstall).not.toContain(ACCESS_KEY_SEED_MARKER);
  const installText = seed === null ? rendered.install : rendered.install.split(ACCESS_KEY_SEED_MARKER).join(seed);
  const n = ++renders;
  const install = join(TERRAFORM, `${n}-install.sh`);
  const uninstall = join(TERRAFORM, `${n}-uninstall.sh`);
  writeFileSync(install, installText, { mode: 0o600 });
  writeFileSync(uninstall, rendered.uninstall, { mode: 0o600 });
  return { install, uninstall, installText, uninstallText: rendered.uninstall };
}

// ---- Runs: a batch of steps in one small driver shell ----

interface Step {
  readonly script: string;
  readonly shell?: string;
  /** ASPERA_NODE_API_URL for this run. */
  readonly url?: string;
  /** The whole PATH (default: the workdir's fake tools, then the system). */
  readonly path?: string;
}

interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly conf: Buffer | null;
  readonly text: string;
  /** The access-key state file after the run (null: absent). */
  readonly ak: string | null;
  /** Files next to aspera.conf. */
  readonly siblings: string[];
  /** What the home directory holds after the run (the upload removes itself). */
  readonly home: string[];
  readonly calls: string[];
  /** The requests this run made, in order. */
  readonly requests: RecordedRequest[];
  readonly writes: RecordedRequest[];
}

// Like helpers/aspera-host.ts's runSteps, plus: the upload Terraform does (a copy named
// .aspera-cross-account-<n>.sh in the home, run from there), ASPERA_NODE_API_URL and PATH per
// step, the access-key state after each step, and the step number written where the stand-in's
// hook reads it.
const DRIVER = `#!/bin/sh
out=$1 batch=$2 stepfile=$3 dir=$4
shift 4
i=0
while [ "$#" -ge 4 ]; do
  i=$((i + 1))
  printf '%s\\n' "$batch:$i" >"$stepfile"
  up=.aspera-cross-account-$i.sh
  cp -- "$2" "$dir/home/$up"
  chmod 700 -- "$dir/home/$up"
  if [ -n "$3" ]; then ASPERA_NODE_API_URL=$3; export ASPERA_NODE_API_URL; else unset ASPERA_NODE_API_URL; fi
  p=\${4:-$dir/bin:/usr/local/bin:/usr/bin:/bin}
  rc=0
  (cd "$dir/home" && PATH=$p ASPERA_CONF=$dir/etc/aspera.conf exec "$1" "./$up") >"$out/$i.stdout" 2>"$out/$i.stderr" || rc=$?
  echo "$rc" >"$out/$i.status"
  if [ -f "$dir/etc/aspera.conf" ]; then cp -- "$dir/etc/aspera.conf" "$out/$i.conf"; fi
  if [ -f "$dir/etc/${AK_STATE}" ]; then cp -- "$dir/etc/${AK_STATE}" "$out/$i.ak"; fi
  ls -A "$dir/etc" >"$out/$i.ls"
  ls -A "$dir/home" >"$out/$i.home"
  wc -l <"$dir/calls.log" >"$out/$i.calls"
  shift 4
done
printf '%s\\n' - >"$stepfile"
`;

let batches = 0;
/**
 * Runs the steps in order on the host. Throws when a request breaks IBM's spec, or when a run's
 * output holds the password, a seed or a secret: every run of this file is checked for both.
 */
async function run(h: Host, steps: readonly Step[]): Promise<Run[]> {
  const batch = ++batches;
  const out = join(root, `batch-${batch}`);
  mkdirSync(out);
  const driver = join(out, 'driver.sh');
  writeFileSync(driver, DRIVER);
  const args = steps.flatMap((s) => [s.shell ?? DASH, s.script, s.url ?? '', s.path ?? '']);
  const r = await runAsync('/bin/sh', [driver, out, String(batch), h.stepFile, h.w.dir, ...args], { PATH: '/usr/bin:/bin' });
  if (r.status !== 0) throw new Error(`step driver failed: ${r.stderr}`);
  const calls = h.w.calls();
  const untagged = h.api.requests.filter((q) => !/^\d+:\d+$/.test(tags.get(q) ?? '-'));
  if (untagged.length > 0) throw new Error(`${h.name}: requests outside any step: ${untagged.map((q) => `${q.method} ${q.path}`).join(', ')}`);
  return steps.map((step, k) => {
    const file = (ext: string) => join(out, `${k + 1}.${ext}`);
    const lines = (ext: string) => readFileSync(file(ext), 'utf8').split('\n').filter((l) => l !== '');
    const conf = existsSync(file('conf')) ? readFileSync(file('conf')) : null;
    const requests = h.api.requests.filter((q) => tags.get(q) === `${batch}:${k + 1}`);
    const result: Run = {
      status: Number(readFileSync(file('status'), 'utf8')),
      stdout: readFileSync(file('stdout'), 'utf8'),
      stderr: readFileSync(file('stderr'), 'utf8'),
      conf,
      text: conf === null ? '' : conf.toString('utf8'),
      ak: existsSync(file('ak')) ? readFileSync(file('ak'), 'utf8') : null,
      siblings: lines('ls').filter((f) => f !== 'aspera.conf').sort(),
      home: lines('home'),
      calls: calls.slice(0, Number(readFileSync(file('calls'), 'utf8'))),
      requests,
      writes: requests.filter((q) => q.method !== 'GET'),
    };
    const where = `${h.name} step ${k + 1} (${short(step.shell ?? DASH)} ${step.script})`;
    for (const q of requests) {
      const problems = [...q.schemaProblems, ...checkNodeApiRequest(q.method, q.path, q.body)];
      if (problems.length > 0) throw new Error(`${where}: ${q.method} ${q.path} breaks IBM's Node API 4.4.6: ${problems.join('; ')}`);
      if (q.user !== NODE_USER) throw new Error(`${where}: ${q.method} ${q.path} sent as ${q.user}`);
    }
    const leaked = leaks(result.stdout + result.stderr);
    if (leaked.length > 0) throw new Error(`${where}: its output holds ${leaked.length} secret(s):\n${result.stdout}\n${result.stderr}`);
    // The upload removed itself, whatever the outcome.
    if (result.home.length > 0) throw new Error(`${where}: left ${result.home.join(', ')} in the home directory`);
    return result;
  });
}

const ok = (r: Run, what = 'run'): void => {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
};
const same = (a: Buffer | null, b: Buffer | string | null): boolean => (a === null || b === null ? a === b : a.equals(Buffer.isBuffer(b) ? b : Buffer.from(b)));
const requestLines = (r: Run): string[] => r.requests.map((q) => `${q.method} ${q.path} ${q.status}`);
/** The state's records as "stack id"; each hash must be 64 hex digits (a sha256, not a secret). */
function records(ak: string | null): string[] {
  if (ak === null) return [];
  return ak
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((line) => {
      const [stack, id, hash, ...rest] = line.split(' ');
      expect([line, rest, hash]).toEqual([line, [], expect.stringMatching(/^[0-9a-f]{64}$/)]);
      return `${stack} ${id}`;
    });
}
/** The stand-in's keys, for "unchanged" comparisons. */
const keysOf = (api: NodeApiStandIn): StandInKey[] => [...api.keys.values()].map((k) => structuredClone(k)).sort((a, b) => a.id.localeCompare(b.id));

/**
 * A refused run: non-zero, the message on stderr, and nothing changed since `before` (aspera.conf
 * byte for byte, the access-key state, the files next to aspera.conf, the restarts, the keys on
 * the node; no write request unless `writes` says which were made and taken back).
 */
function expectRefused(label: string, r: Run, before: Run | null, keysBefore: StandInKey[], keysAfter: StandInKey[], message: RegExp, writes: string[] = []): void {
  expect([label, r.status === 0 ? `exit 0:\n${r.stdout}` : 'non-zero']).toEqual([label, 'non-zero']);
  expect([label, 'aspera.conf byte-identical', same(r.conf, before === null ? ORIGINAL : before.conf)]).toEqual([label, 'aspera.conf byte-identical', true]);
  expect([label, 'access-key state', r.ak]).toEqual([label, 'access-key state', before === null ? null : before.ak]);
  expect([label, 'files next to aspera.conf', r.siblings]).toEqual([label, 'files next to aspera.conf', before === null ? [] : before.siblings]);
  expect([label, 'restarts', r.calls]).toEqual([label, 'restarts', before === null ? [] : before.calls]);
  expect([label, 'writes', r.writes.map((q) => `${q.method} ${q.path} ${q.status}`)]).toEqual([label, 'writes', writes]);
  expect([label, 'keys on the node', keysAfter]).toEqual([label, 'keys on the node', keysBefore]);
  expect([label, r.stderr]).toEqual([label, expect.stringMatching(message)]);
  expect([label, r.stderr]).toEqual([label, expect.stringMatching(/Nothing was changed/)]);
}

/** A port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ---------------------------------------------------------------------------------------------

describe.each(SHELLS)('under %s', (shell) => {
  const sh = short(shell);

  test.concurrent('create: one POST per access-key grant in IBM\'s form; again: only GETs; uninstall: DELETE every key and the state file', async () => {
    const h = await host(`${sh}-lifecycle`);
    // Rendered with the default URL (a config without nodeApi.url), pointed at the stand-in at run
    // time with ASPERA_NODE_API_URL.
    const s = render(h, CONFIG, { url: 'https://127.0.0.1:9092' });
    const [created, again] = await run(h, [
      { shell, script: s.install, url: h.api.url },
      { shell, script: s.install, url: h.api.url },
    ]);

    // Create: each key read first (404), then POSTed with exactly IBM's fields; xfer2 (docroot only) has none.
    ok(created, 'first install');
    expect(requestLines(created)).toEqual([`GET /access_keys/${ID3} 404`, `GET /access_keys/${ID4} 404`, 'POST /access_keys 200', 'POST /access_keys 200']);
    expect(created.writes.map((q) => q.body)).toStrictEqual([postBody(ID3, STORAGE3), postBody(ID4, STORAGE4)]);
    expect(created.writes.every((q) => q.rawBody === JSON.stringify(q.body))).toBe(true);
    expect(keysOf(h.api)).toStrictEqual(INSTALLED_KEYS);
    expect(created.stdout).toContain(`created access key ${ID3} (transfer user xfer3)`);
    expect(created.stdout).toContain(`created access key ${ID4} (transfer user xfer4)`);
    // Docroots: xfer2 and xfer4 (both) get theirs; xfer3 (access key only) gets no stanza at all.
    expect(docrootOf(created.text, 'xfer2')).toEqual({ absolute: XFER2_DOCROOT, read_allowed: 'true', write_allowed: 'true', dir_allowed: 'true' });
    expect(docrootOf(created.text, 'xfer4')).toEqual({ absolute: XFER4_DOCROOT, read_allowed: 'true', write_allowed: 'true', dir_allowed: 'true' });
    expect(rawStanzas(created.text, 'xfer3')).toEqual([]);
    expect(records(created.ak)).toEqual([`${STACK} ${ID3}`, `${STACK} ${ID4}`]);
    expect(created.calls).toEqual([RESTART]);

    // Again: reads only, says so, changes nothing, restarts nothing.
    ok(again, 'second install');
    expect(requestLines(again)).toEqual([`GET /access_keys/${ID3} 200`, `GET /access_keys/${ID4} 200`]);
    expect(again.stdout).toContain('every Node API access key of this stack is as wanted: nothing changed');
    expect(again.stdout).toContain('already has every docroot of this stack: nothing changed');
    expect(same(again.conf, created.conf)).toBe(true);
    expect(again.ak).toBe(created.ak);
    expect(again.siblings).toEqual(created.siblings);
    expect(again.calls).toEqual([RESTART]);
    expect(keysOf(h.api).map((k) => k.secret)).toEqual([secretOf(SEED, ID3), secretOf(SEED, ID4)]);

    const [removed, removedAgain] = await run(h, [
      { shell, script: s.uninstall, url: h.api.url },
      { shell, script: s.uninstall, url: h.api.url },
    ]);
    // Uninstall: every key of the stack deleted, the state file gone, aspera.conf the original.
    ok(removed, 'uninstall');
    expect(removed.writes.map((q) => `${q.method} ${q.path} ${q.status}`).sort()).toEqual([`DELETE /access_keys/${ID3} 204`, `DELETE /access_keys/${ID4} 204`]);
    expect(removed.stdout).toContain(`deleted access key ${ID3}`);
    expect(h.api.keys.size).toBe(0);
    expect(removed.ak).toBeNull();
    expect(removed.siblings).not.toContain(AK_STATE);
    expect(same(removed.conf, ORIGINAL)).toBe(true);
    expect(removed.calls).toEqual([RESTART, RESTART]);

    // Uninstall again: nothing recorded, so no Node API call at all.
    ok(removedAgain, 'second uninstall');
    expect(removedAgain.requests).toEqual([]);
    expect(removedAgain.calls).toEqual([RESTART, RESTART]);
  });

  test.concurrent('update: a new prefix, External ID or seed is one PUT per affected key (no id in the body), no POST or DELETE', async () => {
    const h = await host(`${sh}-update`);
    const prefix = render(h, testConfig({ grants: grantsWith((g) => (g[1].prefix = 'outgoing/2024.q2')) }));
    const externalId = render(h, testConfig({ grants: grantsWith((g) => (g[1].prefix = 'outgoing/2024.q2')), externalId: 'aspera-0c1d2e3f' }));
    const seed = render(h, testConfig({ grants: grantsWith((g) => (g[1].prefix = 'outgoing/2024.q2')), externalId: 'aspera-0c1d2e3f' }), { seed: SEED2 });
    const [created, prefixed, rotated, reseeded] = await run(h, [
      { shell, script: render(h, CONFIG).install },
      { shell, script: prefix.install },
      { shell, script: externalId.install },
      { shell, script: seed.install },
    ]);
    ok(created, 'install');
    const storage3q2 = { ...STORAGE3, path: '/outgoing/2024.q2' };

    // The prefix of xfer3 (access key only): its key alone; aspera.conf untouched, no restart.
    ok(prefixed, 'new prefix');
    expect(prefixed.writes.map((q) => [q.method, q.path, q.status, q.body])).toStrictEqual([['PUT', `/access_keys/${ID3}`, 204, putBody(ID3, storage3q2)]]);
    expect(prefixed.stdout).toContain(`updated access key ${ID3} (transfer user xfer3)`);
    expect(same(prefixed.conf, created.conf)).toBe(true);
    expect(prefixed.calls).toEqual([RESTART]);
    expect(prefixed.ak).not.toBe(created.ak);

    // The External ID: both keys; the docroots of xfer2 and xfer4 change with it.
    ok(rotated, 'new External ID');
    expect(rotated.writes.map((q) => [q.method, q.path, q.status, q.body])).toStrictEqual([
      ['PUT', `/access_keys/${ID3}`, 204, putBody(ID3, withExternalId(storage3q2, 'aspera-0c1d2e3f'))],
      ['PUT', `/access_keys/${ID4}`, 204, putBody(ID4, withExternalId(STORAGE4, 'aspera-0c1d2e3f'))],
    ]);
    expect(docrootOf(rotated.text, 'xfer4').absolute).toBe(XFER4_DOCROOT.replace('external-id=aspera-7f3c9e21', 'external-id=aspera-0c1d2e3f'));
    expect(rotated.calls).toEqual([RESTART, RESTART]);

    // The seed: both keys get their new secret; nothing else changes.
    ok(reseeded, 'new seed');
    expect(reseeded.writes.map((q) => [q.method, q.path, q.status, q.body])).toStrictEqual([
      ['PUT', `/access_keys/${ID3}`, 204, putBody(ID3, withExternalId(storage3q2, 'aspera-0c1d2e3f'), SEED2)],
      ['PUT', `/access_keys/${ID4}`, 204, putBody(ID4, withExternalId(STORAGE4, 'aspera-0c1d2e3f'), SEED2)],
    ]);
    expect(same(reseeded.conf, rotated.conf)).toBe(true);
    expect(reseeded.calls).toEqual([RESTART, RESTART]);
    expect(records(reseeded.ak)).toEqual([`${STACK} ${ID3}`, `${STACK} ${ID4}`]);
    // The stand-in's keys after the three updates: what the last PUTs said.
    expect(keysOf(h.api)).toStrictEqual([
      { id: ID3, secret: secretOf(SEED2, ID3), storage: withExternalId(storage3q2, 'aspera-0c1d2e3f'), owner: NODE_USER },
      { id: ID4, secret: secretOf(SEED2, ID4), storage: withExternalId(STORAGE4, 'aspera-0c1d2e3f'), owner: NODE_USER },
    ]);
  });

  // The longest test: under the POSIX shell only (bash runs the same DELETE and record paths in
  // the lifecycle test above).
  if (shell === DASH) test.concurrent('delete: a removed grant and a grant switched to ["docroot"] lose their key; a key missing on the node is POSTed again; DELETE 404 is gone', async () => {
    const h = await host(`${sh}-delete`);
    const withoutXfer4 = testConfig({ grants: grantsWith((g) => g.splice(2, 1)) });
    const xfer3Docroot = testConfig({ grants: grantsWith((g) => {
      g.splice(2, 1);
      g[1].installAs = ['docroot'];
    }) });
    const s = render(h, CONFIG);
    const [created, removedGrant, switched, createdAgain] = await run(h, [
      { shell, script: s.install },
      { shell, script: render(h, withoutXfer4).install },
      { shell, script: render(h, xfer3Docroot).install },
      { shell, script: s.install },
    ]);
    ok(created, 'install');

    ok(removedGrant, 'install without xfer4');
    expect(requestLines(removedGrant)).toEqual([`GET /access_keys/${ID3} 200`, `DELETE /access_keys/${ID4} 204`]);
    expect(removedGrant.stdout).toContain(`deleted access key ${ID4}`);
    expect(records(removedGrant.ak)).toEqual([`${STACK} ${ID3}`]);
    expect(rawStanzas(removedGrant.text, 'xfer4')).toEqual([]);

    // xfer3 becomes a docroot: its key goes, and the access-key state with it (nothing left).
    ok(switched, 'install with xfer3 as docroot');
    expect(requestLines(switched)).toEqual([`DELETE /access_keys/${ID3} 204`]);
    expect(docrootOf(switched.text, 'xfer3').absolute).toBe(XFER3_DOCROOT);
    expect(switched.ak).toBeNull();
    expect(switched.siblings).not.toContain(AK_STATE);

    // Drift: a key recorded for this stack is deleted on the node; the next install creates it
    // again and says so.
    ok(createdAgain, 'install again');
    expect(createdAgain.writes.map((q) => q.body)).toStrictEqual([postBody(ID3, STORAGE3), postBody(ID4, STORAGE4)]);
    expect(keysOf(h.api).map((k) => k.id)).toEqual([ID3, ID4]);
    h.api.keys.delete(ID4);
    const [recreated] = await run(h, [{ shell, script: s.install }]);
    ok(recreated, 'install after drift');
    expect(recreated.stdout).toContain(`access key ${ID4} (transfer user xfer4) is recorded but missing on the node: creating it again`);
    expect(requestLines(recreated)).toEqual([`GET /access_keys/${ID3} 200`, `GET /access_keys/${ID4} 404`, 'POST /access_keys 200']);
    expect(recreated.writes[0].body).toStrictEqual(postBody(ID4, STORAGE4));
    expect(h.api.keys.get(ID4)).toStrictEqual({ id: ID4, secret: secretOf(SEED, ID4), storage: STORAGE4, owner: NODE_USER });
    expect(same(recreated.conf, createdAgain.conf)).toBe(true);
    expect(recreated.ak).toBe(createdAgain.ak);
    expect(recreated.calls).toEqual(createdAgain.calls);

    // Gone from the node once more: the uninstall's DELETE gets 404, which counts as gone.
    h.api.keys.delete(ID4);
    const [removed] = await run(h, [{ shell, script: s.uninstall }]);
    ok(removed, 'uninstall');
    expect(requestLines(removed)).toEqual([`DELETE /access_keys/${ID3} 204`, `DELETE /access_keys/${ID4} 404`]);
    expect(removed.stdout).toContain(`access key ${ID4} was already gone from the node`);
    expect(removed.ak).toBeNull();
    expect(h.api.keys.size).toBe(0);
    expect(same(removed.conf, ORIGINAL)).toBe(true);
  });

  test.concurrent('refusals before anything is written: credentials, URL, seed, another stack\'s key', async () => {
    const h = await host(`${sh}-refusals`);
    const c = (name: string, content: string, mode = 0o600) => credentialsFile(h.creds, name, content, mode);
    const linked = join(h.creds, 'linked.credentials');
    symlinkSync(h.credentials, linked);
    const port = await closedPort();
    // What the refused runs would do if let through: a new prefix for xfer3 (PUT), xfer4 gone
    // (DELETE and an aspera.conf edit), xfer5 new (POST).
    const changed = testConfig({
      grants: grantsWith((g) => {
        g[1].prefix = 'outgoing/2024.q2';
        g.splice(2, 1, { transferUser: 'xfer5', bucket: 'acme-aspera-inbox', prefix: 'drop', access: 'read-write', installAs: ['access-key'] });
      }),
    });
    // Same stackName and My Account, another Other Account: another stack, whose key for xfer3
    // has this stack's id.
    const otherStack = testConfig({ otherAccount: { ...BASE.otherAccount, accountId: '333333333333' }, grants: grantsWith((g) => g.splice(0, 3, g[1])) });
    const cases: Array<[string, Step, RegExp]> = [
      ['credentials file missing', { script: render(h, changed, { credentialsFile: join(h.creds, 'missing.credentials') }).install }, /missing\.credentials does not exist: create it with the Node API user's credentials/],
      ['credentials file mode 0644', { script: render(h, changed, { credentialsFile: c('0644.credentials', `${NODE_USER}:${PASSWORD}\n`, 0o644) }).install }, /0644\.credentials must be readable by its owner only \(chmod 600 .*\): it holds the Node API password, and is now -rw-r--r--/],
      ['credentials file a symlink', { script: render(h, changed, { credentialsFile: linked }).install }, /linked\.credentials must be a regular file, not a link/],
      ['credentials file empty', { script: render(h, changed, { credentialsFile: c('empty.credentials', '') }).install }, /empty\.credentials is empty: write one line "<node user>:<password>"/],
      ['credentials without ":"', { script: render(h, changed, { credentialsFile: c('nocolon.credentials', `${NODE_USER}\n`) }).install }, /nocolon\.credentials must hold one line "<node user>:<password>"/],
      ['wrong password (401)', { script: render(h, changed, { credentialsFile: c('wrong.credentials', `${NODE_USER}:${WRONG_PASSWORD}\n`) }).install }, /the Node API at \S+ refused the credentials in \S+wrong\.credentials \(GET \/access_keys\/aspera-cross-account-111111111111-xfer3: HTTP 401: Authentication failed/],
      ['Node API unreachable', { script: render(h, changed, { url: `http://127.0.0.1:${port}` }).install }, new RegExp(`cannot reach the Node API at http://127\\.0\\.0\\.1:${port} \\(GET /access_keys/${ID3}: curl exit 7: .*\\): is asperanoded running`)],
      ['ASPERA_NODE_API_URL http to another host', { script: render(h, changed).install, url: 'http://example.com' }, /the Node API URL "http:\/\/example\.com" must be https:\/\/<host>\[:<port>\] \(http only to this host itself/],
      ['the seed marker left in', { script: render(h, changed, { seed: null }).install }, /the access key secret seed is not in this script: it is put in by terraform apply/],
      ['a key another stack on this host recorded', { script: render(h, otherStack).install }, new RegExp(`access key ${ID3} \\(transfer user xfer3\\) was created on this node by the stack ${STACK}, not by this one \\(aspera-cross-account:111111111111:333333333333\\): refusing to take it over`)],
    ];
    const [created, ...refused] = await run(h, [{ shell, script: render(h, CONFIG).install }, ...cases.map(([, step]) => ({ ...step, shell }))]);
    ok(created, 'install');
    // The keys on the node after the last refusal are those the install made.
    cases.forEach(([label, , message], i) => expectRefused(label, refused[i], created, INSTALLED_KEYS, keysOf(h.api), message));
    // Only the 401 run reached the Node API (one GET); the others stopped before any request,
    // the other stack's key from the state file alone.
    expect(refused.map((r) => r.requests.length)).toEqual(cases.map(([label]) => (label === 'wrong password (401)' ? 1 : 0)));
  });
});

describe('what the script checks itself', () => {
  test.concurrent('a URL that only looks like this host is not one: plain http refused, https verified', async () => {
    const h = await host('lookalike-url');
    // A curl that records its configuration (without the credentials line) and fails as an
    // unreachable host would: nothing here needs a name to resolve.
    const config = join(h.w.dir, 'curl-config');
    writeFileSync(join(h.w.bin, 'curl'), `#!/bin/sh\ngrep -v '^user' >>'${config}'\nexit 7\n`, { mode: 0o755 });
    const s = render(h, CONFIG);
    const [http127, httpUserinfo] = await run(h, [
      // The schema allows http only to 127.<digits and dots>, localhost or [::1], with a port.
      { script: s.install, url: 'http://127.0.0.1.invalid:9091' },
      { script: s.install, url: 'http://localhost:9091@node.invalid' },
    ]);
    expectRefused('http to 127.0.0.1.invalid', http127, null, [], keysOf(h.api), /the Node API URL "http:\/\/127\.0\.0\.1\.invalid:9091" must be https/);
    expectRefused('http to localhost:9091@node.invalid', httpUserinfo, null, [], keysOf(h.api), /the Node API URL "http:\/\/localhost:9091@node\.invalid" must be https/);
    expect(existsSync(config)).toBe(false);
    // A remote name (the schema accepts it for nodeApi.url) gets its certificate checked.
    const [https127] = await run(h, [{ script: render(h, CONFIG, { url: 'https://127.0.0.1.invalid:9092' }).install }]);
    expectRefused('https to 127.0.0.1.invalid', https127, null, [], keysOf(h.api), /cannot reach the Node API at https:\/\/127\.0\.0\.1\.invalid:9092/);
    expect(readFileSync(config, 'utf8')).not.toMatch(/^insecure/m);
  });

  test.concurrent('an access-key stack on a PATH that lacks a tool the keys need is refused, never installed without its keys', async () => {
    const h = await host('missing-tools');
    // coreutils' usual few and awk, plus the two tools the script checks for by name; no tr, sed,
    // grep or head.
    const sandbox = minimalPath(h.w.dir);
    fakeTool(sandbox, 'systemctl', join(h.w.dir, 'calls.log'));
    for (const tool of ['curl', 'sha256sum']) symlinkSync(join('/usr/bin', tool), join(sandbox, tool));
    const [r] = await run(h, [{ script: render(h, CONFIG).install, path: sandbox }]);
    expectRefused('missing tools', r, null, [], keysOf(h.api), /sed is not installed: this stack has Node API access keys/);
  });
});

describe('refusals the Node API makes', () => {
  test.concurrent('403: refused at the first GET, nothing written; the message says which request and status', async () => {
    const h = await host('forbidden');
    const [created] = await run(h, [{ script: render(h, CONFIG).install }]);
    ok(created);
    const keys = keysOf(h.api);
    h.api.failWith({ status: 403, userMessage: 'Forbidden: this node user may not manage access keys' });
    const [refused, uninstall] = await run(h, [
      { script: render(h, testConfig({ grants: grantsWith((g) => (g[1].prefix = 'outgoing/2024.q2')) })).install },
      { script: render(h, CONFIG).uninstall },
    ]);
    const message = /refused the credentials in \S+node-api\.credentials \(GET \/access_keys\/aspera-cross-account-111111111111-xfer3: HTTP 403: Forbidden: this node user may not manage access keys\): check the node user and password/;
    expectRefused('install, 403', refused, created, keys, keysOf(h.api), message);
    expect(requestLines(refused)).toEqual([`GET /access_keys/${ID3} 403`]);
    // The uninstall is a revocation: the docroots go all the same; the keys it could not delete
    // stay on the node and recorded, and it fails saying so.
    expect(uninstall.status).not.toBe(0);
    expect(same(uninstall.conf, ORIGINAL)).toBe(true);
    expect(keysOf(h.api)).toEqual(keys);
    expect(records(uninstall.ak)).toEqual(records(created.ak));
    expect(requestLines(uninstall)).toEqual([`DELETE /access_keys/${ID3} 403`]);
    expect(uninstall.stderr).toMatch(/refused the credentials in .*\(DELETE \/access_keys\/aspera-cross-account-111111111111-xfer3: HTTP 403.*No access key was deleted by this run/);
    expect(uninstall.stderr).toMatch(new RegExp(`the docroots of this stack are removed from \\S+, but its Node API access keys are not all deleted \\(the error above says why\\): left on the node and recorded in \\S+: ${ID3} ${ID4}; run this uninstall again once the Node API answers`));
  });

  test.concurrent('a key of that id exists, visible to our node user: refused at GET, never taken over', async () => {
    const foreign: StandInKey = { id: ID4, secret: 'f'.repeat(64), storage: { ...STORAGE4, bucket: 'someone-elses-bucket' }, owner: OTHER_USER };
    const h = await host('foreign-visible', { keys: [foreign], foreignKeys: 'visible' });
    const keys = keysOf(h.api);
    const [refused] = await run(h, [{ script: render(h, CONFIG).install }]);
    expectRefused('visible foreign key', refused, null, keys, keysOf(h.api), new RegExp(`access key ${ID4} \\(transfer user xfer4\\) exists on the Node API at \\S+, and this stack did not create it \\(it is not recorded in \\S+${AK_STATE}\\): refusing to take it over`));
    expect(requestLines(refused)).toEqual([`GET /access_keys/${ID3} 404`, `GET /access_keys/${ID4} 200`]);
  });

  test.concurrent('a key of that id exists, hidden from our node user: the POST gets 409, the key this run created is deleted again', async () => {
    const foreign: StandInKey = { id: ID4, secret: 'f'.repeat(64), storage: { ...STORAGE4, bucket: 'someone-elses-bucket' }, owner: OTHER_USER };
    const h = await host('foreign-hidden', { keys: [foreign], foreignKeys: 'hidden' });
    const keys = keysOf(h.api);
    const [refused] = await run(h, [{ script: render(h, CONFIG).install }]);
    expectRefused(
      'hidden foreign key',
      refused,
      null,
      keys,
      keysOf(h.api),
      new RegExp(`access key ${ID4} \\(transfer user xfer4\\) already exists on the node \\(POST: HTTP 409\\), though the Node API user cannot read it: another node user created it\\. Refusing to take it over`),
      ['POST /access_keys 200', 'POST /access_keys 409', `DELETE /access_keys/${ID3} 204`],
    );
    expect(refused.writes[0].body).toStrictEqual(postBody(ID3, STORAGE3));
  });

  test.concurrent('400 naming a field on POST: the message shows it; nothing created', async () => {
    const h = await host('bad-request');
    // The stand-in's own wording for a body that lacks the field.
    h.api.failWith({ method: 'POST', status: 400, userMessage: 'Invalid request: storage.credentials.assume_role_external_id: required for "assume-role" credentials' });
    const [refused] = await run(h, [{ script: render(h, CONFIG).install }]);
    expectRefused('400 on POST', refused, null, [], keysOf(h.api), /the Node API refused POST \/access_keys \(id aspera-cross-account-111111111111-xfer3\) \(HTTP 400: Invalid request: storage\.credentials\.assume_role_external_id: required for "assume-role" credentials\)\. Nothing was changed/, ['POST /access_keys 400']);
  });

  test.concurrent('500 on the second of two POSTs: the first key is deleted again, aspera.conf unchanged', async () => {
    const h = await host('server-error');
    // Armed by the first POST's record, which the stand-in pushes before it answers: the next POST fails.
    h.onRequest = (q) => {
      if (q.method === 'POST' && q.status === 200) h.api.failWith({ method: 'POST', status: 500, userMessage: 'Internal error: the key store is unavailable', times: 1 });
    };
    const [refused] = await run(h, [{ script: render(h, CONFIG).install }]);
    expectRefused(
      '500 on the second POST',
      refused,
      null,
      [],
      keysOf(h.api),
      /the Node API refused POST \/access_keys \(id aspera-cross-account-111111111111-xfer4\) \(HTTP 500: Internal error: the key store is unavailable\)/,
      ['POST /access_keys 200', 'POST /access_keys 500', `DELETE /access_keys/${ID3} 204`],
    );
    expect(refused.writes[0].body).toStrictEqual(postBody(ID3, STORAGE3));
  });
});

describe('docroot-only stacks never use the Node API', () => {
  test.concurrent('no request, no access-key state, even with a Node API configured and reachable', async () => {
    const h = await host('docroot-only');
    const s = render(h, testConfig());
    const [installed, again, removed] = await run(h, [{ script: s.install }, { script: s.install }, { script: s.uninstall }]);
    for (const r of [installed, again, removed]) ok(r);
    expect([...h.api.requests]).toEqual([]);
    expect([installed.ak, again.ak, removed.ak]).toEqual([null, null, null]);
    expect(docrootOf(installed.text, 'xfer3').absolute).toBe(XFER3_DOCROOT);
    expect(same(removed.conf, ORIGINAL)).toBe(true);
  });

  test.concurrent('need no credentials file and no curl: a PATH of coreutils and awk, a credentials path that does not exist', async () => {
    const h = await host('docroot-only-minimal');
    const sandbox = minimalPath(h.w.dir);
    fakeTool(sandbox, 'systemctl', join(h.w.dir, 'calls.log'));
    const s = render(h, testConfig(), { credentialsFile: join(h.creds, 'does-not-exist') });
    const [installed, removed] = await run(h, [
      { script: s.install, path: sandbox },
      { script: s.uninstall, path: sandbox },
    ]);
    ok(installed);
    ok(removed);
    expect(readdirSync(sandbox)).not.toContain('curl');
    expect(docrootOf(installed.text, 'xfer2').absolute).toBe(XFER2_DOCROOT);
    expect(same(removed.conf, ORIGINAL)).toBe(true);
    expect([...h.api.requests]).toEqual([]);
    expect(installed.calls).toEqual([RESTART]);
  });
});

describe('secrets', () => {
  test.concurrent('no process argument, file, state or output ever holds the password, the seed or a secret', async () => {
    const h = await host('secrets', { snapshotProcesses: true });
    const wrong = credentialsFile(h.creds, 'wrong.credentials', `${NODE_USER}:${WRONG_PASSWORD}\n`);
    const lock = join(h.w.dir, 'etc', 'aspera.conf.aspera-cross-account.lock');
    /** Every file under `dir` except the credentials files: path -> the secrets it holds. */
    const scan = (dir: string, found: string[]): void => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (path === h.creds) continue;
        try {
          const stat = lstatSync(path);
          if (stat.isDirectory()) scan(path, found);
          else if (stat.isFile()) {
            const leaked = leaks(readFileSync(path, 'utf8'));
            if (leaked.length > 0) found.push(`${path}: ${leaked.length} secret(s)`);
          }
        } catch (error) {
          // Removed between readdir and read: nothing left to hold a secret.
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
    };
    // While each request waits for its answer: the lock directory (the script's temporary files)
    // and everything else under the host directory.
    const during: string[] = [];
    let lockSeen = 0;
    h.onRequest = () => {
      if (existsSync(lock)) lockSeen++;
      scan(h.w.dir, during);
    };
    const first = render(h, CONFIG);
    const [created, reseeded, refused, removed] = await run(h, [
      { script: first.install },
      { script: render(h, CONFIG, { seed: SEED2 }).install },
      { script: render(h, CONFIG, { seed: SEED2, credentialsFile: wrong }).install },
      { script: first.uninstall },
    ]);
    ok(created);
    ok(reseeded);
    expect(refused.status).not.toBe(0);
    ok(removed);
    expect(requestLines(reseeded).filter((l) => l.startsWith('PUT'))).toHaveLength(2);

    // Process arguments, whenever a request arrived (curl was running then, with --config -).
    expect(h.api.requests.length).toBeGreaterThanOrEqual(11);
    for (const q of h.api.requests) {
      expect(q.processes).toMatch(/curl -q --noproxy \* --config -/);
      expect([q.method, q.path, leaks(q.processes ?? '')]).toEqual([q.method, q.path, []]);
    }
    // The secrets were sent, so the checks above looked for the right strings.
    expect(created.writes.map((q) => (q.body as { secret: string }).secret)).toEqual([secretOf(SEED, ID3), secretOf(SEED, ID4)]);

    // Files, during the runs and after them; the state after each run; the uninstall script.
    expect(lockSeen).toBe(h.api.requests.length);
    expect(during).toEqual([]);
    const after: string[] = [];
    scan(h.w.dir, after);
    expect(after).toEqual([]);
    expect(existsSync(lock)).toBe(false);
    expect(readdirSync(h.home)).toEqual([]);
    for (const r of [created, reseeded, refused, removed]) expect(leaks(r.ak ?? '')).toEqual([]);
    expect(leaks(first.uninstallText)).toEqual([]);
    // The install script carries the seed (Terraform puts it in at apply), never a secret or the password.
    expect(leaks(first.installText)).toEqual([SEED]);
  });
});

describe('several stacks on one host', () => {
  test.concurrent('two stackNames and two My Accounts: each touches only its own keys and records', async () => {
    const h = await host('stacks');
    const xfer3Key = grantsWith((g) => g.splice(0, 3, g[1]));
    const beta = testConfig({ stackName: 'beta-stack', grants: xfer3Key });
    const other = testConfig({ myAccount: { ...BASE.myAccount, accountId: '333333333333' }, grants: xfer3Key });
    const A = render(h, CONFIG);
    const B = render(h, beta);
    const C = render(h, other);
    const BETA_ID = 'beta-stack-111111111111-xfer3';
    const OTHER_ID = 'aspera-cross-account-333333333333-xfer3';
    const BETA = 'beta-stack:111111111111:222222222222';
    const OTHER = 'aspera-cross-account:333333333333:222222222222';
    const steps = await run(h, [
      { script: A.install },
      { script: B.install },
      { script: C.install },
      { script: A.install },
      { script: B.uninstall },
      { script: A.uninstall },
      { script: C.uninstall },
    ]);
    steps.forEach((r, i) => ok(r, `step ${i + 1}`));
    const [a, b, c, aAgain, bGone, aGone, cGone] = steps;
    expect(a.writes.map((q) => (q.body as { id: string }).id)).toEqual([ID3, ID4]);
    // Each run reads and writes its own keys only.
    expect(requestLines(b)).toEqual([`GET /access_keys/${BETA_ID} 404`, 'POST /access_keys 200']);
    expect(requestLines(c)).toEqual([`GET /access_keys/${OTHER_ID} 404`, 'POST /access_keys 200']);
    expect(requestLines(aAgain)).toEqual([`GET /access_keys/${ID3} 200`, `GET /access_keys/${ID4} 200`]);
    // The same transfer user in three stacks: three keys, each in its stack's name and account.
    expect(b.writes.map((q) => q.body)).toStrictEqual([
      postBody(BETA_ID, {
        ...STORAGE3,
        credentials: { ...STORAGE3.credentials, assume_role_arn: 'arn:aws:iam::111111111111:role/beta-stack-xfer3', assume_role_session_name: 'beta-stack.xfer3' },
      }),
    ]);
    expect(c.writes.map((q) => q.body)).toStrictEqual([
      postBody(OTHER_ID, { ...STORAGE3, credentials: { ...STORAGE3.credentials, assume_role_arn: 'arn:aws:iam::333333333333:role/aspera-cross-account-xfer3' } }),
    ]);
    expect(records(c.ak)).toEqual([`${STACK} ${ID3}`, `${STACK} ${ID4}`, `${BETA} ${BETA_ID}`, `${OTHER} ${OTHER_ID}`]);
    expect(aAgain.writes).toEqual([]);
    expect(aAgain.ak).toBe(c.ak);

    expect(bGone.writes.map((q) => `${q.method} ${q.path} ${q.status}`)).toEqual([`DELETE /access_keys/${BETA_ID} 204`]);
    expect(records(bGone.ak)).toEqual([`${STACK} ${ID3}`, `${STACK} ${ID4}`, `${OTHER} ${OTHER_ID}`]);
    // The other stacks' records are kept byte for byte.
    expect(bGone.ak).toBe(c.ak!.replace(/^beta-stack:.*\n/m, ''));
    expect(aGone.writes.map((q) => `${q.method} ${q.path}`).sort()).toEqual([`DELETE /access_keys/${ID3}`, `DELETE /access_keys/${ID4}`]);
    expect(records(aGone.ak)).toEqual([`${OTHER} ${OTHER_ID}`]);
    expect([...h.api.keys.keys()]).toEqual([]);
    expect(cGone.writes.map((q) => `${q.method} ${q.path}`)).toEqual([`DELETE /access_keys/${OTHER_ID}`]);
    expect(cGone.ak).toBeNull();
    expect(same(cGone.conf, ORIGINAL)).toBe(true);
    expect(cGone.siblings.filter((f) => f !== STATE && !f.startsWith('aspera.conf.bak.'))).toEqual([]);
  });
});

describe('HTTPS', () => {
  const tls = { key: readFileSync(join(TLS, 'key.pem')), cert: readFileSync(join(TLS, 'cert.pem')) };

  test.concurrent('loopback without caFile, caFile verified, https://localhost; a CA that did not sign it is refused', async () => {
    const h = await host('https', { tls });
    expect(h.api.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const port = h.api.url.split(':').pop();
    // A real CA certificate that did not sign the stand-in's.
    const otherCa = join(h.w.dir, 'other-ca.pem');
    writeFileSync(otherCa, rootCertificates[0]);
    const moved = testConfig({ grants: grantsWith((g) => (g[1].prefix = 'outgoing/2024.q2')) });
    const [loopback, verified, localhost, wrongCa, missingCa] = await run(h, [
      { script: render(h, CONFIG).install },
      { script: render(h, CONFIG, { caFile: join(TLS, 'cert.pem') }).install },
      { script: render(h, CONFIG, { url: `https://localhost:${port}` }).install },
      { script: render(h, moved, { caFile: otherCa }).install },
      { script: render(h, moved, { caFile: join(h.w.dir, 'no-such-ca.pem') }).install },
    ]);
    ok(loopback, 'loopback URL without caFile');
    expect(loopback.writes.map((q) => `${q.method} ${q.status}`)).toEqual(['POST 200', 'POST 200']);
    ok(verified, 'caFile: the certificate');
    expect(requestLines(verified)).toEqual([`GET /access_keys/${ID3} 200`, `GET /access_keys/${ID4} 200`]);
    ok(localhost, 'https://localhost');
    expect(localhost.requests).toHaveLength(2);
    expectRefused('caFile that did not sign it', wrongCa, loopback, INSTALLED_KEYS, keysOf(h.api), /cannot reach the Node API at https:\/\/127\.0\.0\.1:\d+ \(GET \/access_keys\/\S+: curl exit 60: /);
    expectRefused('caFile missing', missingCa, loopback, INSTALLED_KEYS, keysOf(h.api), /nodeApi\.caFile \S+no-such-ca\.pem does not exist/);
    const [removed] = await run(h, [{ script: render(h, CONFIG, { caFile: join(TLS, 'cert.pem') }).uninstall }]);
    ok(removed, 'uninstall over https with caFile');
    expect(removed.writes).toHaveLength(2);
    expect(h.api.keys.size).toBe(0);
  });
});

describe('what the host around the script cannot change', () => {
  test.concurrent('proxy variables and a curlrc naming a proxy: the requests go straight to the Node API (the proxy is a closed port)', async () => {
    const h = await host('proxied');
    const port = await closedPort();
    const curlHome = join(h.w.dir, 'curlhome');
    mkdirSync(curlHome, { mode: 0o700 });
    writeFileSync(join(curlHome, '.curlrc'), `proxy = "http://127.0.0.1:${port}"\n`);
    const proxy = `http://127.0.0.1:${port}`;
    const shell = join(h.w.dir, 'dash-behind-a-proxy');
    writeFileSync(
      shell,
      `#!/bin/sh\nhttp_proxy=${proxy} https_proxy=${proxy} HTTP_PROXY=${proxy} HTTPS_PROXY=${proxy} ALL_PROXY=${proxy} all_proxy=${proxy} HOME='${curlHome}'\nexport http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy HOME\nexec ${DASH} "$@"\n`,
      { mode: 0o755 },
    );
    const [r] = await run(h, [{ script: render(h, CONFIG).install, shell }]);
    ok(r);
    expect(requestLines(r)).toEqual([`GET /access_keys/${ID3} 404`, `GET /access_keys/${ID4} 404`, 'POST /access_keys 200', 'POST /access_keys 200']);
  });

  test.concurrent('numbers that only look like 127.0.0.1 are names DNS would resolve: plain http to them is refused', async () => {
    const h = await host('numeric-look-alikes');
    const s = render(h, CONFIG);
    const [fiveParts, bigOctet, leadingZero] = await run(h, [
      { script: s.install, url: 'http://127.0.0.1.2.3:9091' },
      { script: s.install, url: 'http://127.999.0.1:9091' },
      { script: s.install, url: 'http://127.0.0.01:9091' },
    ]);
    expectRefused('five parts', fiveParts, null, [], keysOf(h.api), /the Node API URL "http:\/\/127\.0\.0\.1\.2\.3:9091" must be https/);
    expectRefused('an octet above 255', bigOctet, null, [], keysOf(h.api), /the Node API URL "http:\/\/127\.999\.0\.1:9091" must be https/);
    expectRefused('a leading zero', leadingZero, null, [], keysOf(h.api), /the Node API URL "http:\/\/127\.0\.0\.01:9091" must be https/);
  });
});

describe('a run that stops between the node and the record', () => {
  test.concurrent('the POST succeeded but the record failed: the message says the key was created, and the next run takes it up (PUT), not refuses it', async () => {
    const h = await host('record-fails');
    // mv fails once, at the second rename of the access-key state: the one after the first POST
    // (the first records the key as pending before the POST is sent).
    const bin = join(h.w.dir, 'mv-fails-once');
    mkdirSync(bin);
    const count = join(bin, 'count');
    writeFileSync(
      join(bin, 'mv'),
      `#!/bin/sh\ncase "$*" in\n  *.access-keys)\n    n=$(cat '${count}' 2>/dev/null || echo 0)\n    n=$((n + 1))\n    echo "$n" >'${count}'\n    if [ "$n" = 2 ]; then echo "mv: simulated failure" >&2; exit 1; fi\n    ;;\nesac\nexec /bin/mv "$@"\n`,
      { mode: 0o755 },
    );
    const s = render(h, CONFIG);
    const [stopped, next] = await run(h, [{ script: s.install, path: `${bin}:${h.w.dir}/bin:/usr/local/bin:/usr/bin:/bin` }, { script: s.install }]);
    expect(stopped.status).not.toBe(0);
    expect(stopped.stderr).toMatch(new RegExp(`cannot replace \\S+\\.access-keys\\. Access keys changed by this run before it stopped: created ${ID3} \\(recorded in`));
    expect(requestLines(stopped)).toEqual([`GET /access_keys/${ID3} 404`, `GET /access_keys/${ID4} 404`, 'POST /access_keys 200']);
    // Recorded as pending ("-"), the key the node holds.
    expect((stopped.ak ?? '').split('\n').filter((l) => l.startsWith(STACK))).toEqual([`${STACK} ${ID3} -`]);
    expect(same(stopped.conf, ORIGINAL)).toBe(true);
    ok(next);
    expect(requestLines(next)).toEqual([`GET /access_keys/${ID3} 200`, `GET /access_keys/${ID4} 404`, `PUT /access_keys/${ID3} 204`, 'POST /access_keys 200']);
    expect(records(next.ak)).toEqual([`${STACK} ${ID3}`, `${STACK} ${ID4}`]);
  });

  test.concurrent('a 409 on a PUT is reported as the PUT it was', async () => {
    const h = await host('put-conflict');
    const [created] = await run(h, [{ script: render(h, CONFIG).install }]);
    ok(created);
    const keys = keysOf(h.api);
    h.api.failWith({ method: 'PUT', status: 409, userMessage: 'Conflict: the key is being updated' });
    const [refused] = await run(h, [{ script: render(h, testConfig({ grants: grantsWith((g) => (g[1].prefix = 'outgoing/2024.q2')) })).install }]);
    expectRefused('409 on PUT', refused, created, keys, keysOf(h.api), new RegExp(`the Node API refused PUT /access_keys/${ID3} \\(HTTP 409: Conflict: the key is being updated\\)`), [`PUT /access_keys/${ID3} 409`]);
  });
});
