/**
 * Several stacks (customers) on one Aspera host, with real Terraform against the real sshd on
 * 127.0.0.1 (the host resources converted to terraform_data, see helpers/terraform-host.ts): two
 * configs that keep the default stackName but differ in My Account, External ID, buckets and
 * transfer users, each in its own Terraform directory (its own state), both pointing at the same
 * host and the same aspera.conf. Stack A connects as root, stacks B and C as a user with
 * passwordless sudo (whose home directory only these tests use, so what Terraform leaves there can
 * be listed exactly).
 *
 * The host keeps one state file per aspera.conf, each record naming the stack that installed it
 * ("<stackName>:<My Account>:<Other Account>"): a stack touches only its own users, and a stack
 * that grants a transfer user another stack installed is refused with nothing changed.
 *
 *  1. apply A, apply B, run A's install again (nothing changes), destroy B (A's docroots byte for
 *     byte as after A alone), destroy A (aspera.conf byte-identical to the original, no state);
 *  2. the other destroy order: apply A, apply B, a third stack C granting one of A's users is
 *     refused, destroy A (B's docroots intact), destroy B (the original again).
 *
 * After every run, what the uploaded script left in the SSH user's home directory: after a success
 * only the empty file Terraform uploads over the path (a new file: the script had removed itself),
 * after a refusal nothing at all. And while a run that changes aspera.conf is under way, as root: a
 * stand-in asuserdata on the host records which uploaded scripts are in its working directory (the
 * SSH user's home, where the script runs) when it is asked to validate: none, the script having
 * removed itself as soon as it ran as root.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ConfigInput } from '../../src/config/schema';
import { docrootOf, fixture, rawStanzas, usersOf, XFER2_DOCROOT } from '../helpers/aspera-host';
import { createTestUser, type RestartStub, type RootHost, startRootHost, type TestUser } from '../helpers/host-suite';
import type { Sshd } from '../helpers/sshd';
import { baseConfigInput, synthConfigToDir } from '../helpers/synth';
import { terraformDir, type HostTerraform, type TerraformDir } from '../helpers/terraform-host';

const ORIGINAL = fixture('hsts-realm.conf');
const OTHER_ACCOUNT = { accountId: '222222222222', region: 'us-east-1', profile: 'other-account' };

/** One customer's stack; the stackName is left out, so every stack has the default one. */
interface Customer {
  readonly myAccount: ConfigInput['myAccount'];
  readonly externalId: string;
  readonly buckets: ConfigInput['buckets'];
  readonly grants: ConfigInput['grants'];
  /** "<stackName>:<My Account>:<Other Account>", as the host's state file records it. */
  readonly identity: string;
}

// A edits xfer2 in place (the fixture has it, with a local docroot) and adds xfer3.
const A: Customer = {
  myAccount: { accountId: '111111111111', region: 'us-east-1', profile: 'acme' },
  externalId: 'aspera-7f3c9e21',
  buckets: [{ name: 'acme-aspera-inbox', create: true }],
  grants: [
    { transferUser: 'xfer2', bucket: 'acme-aspera-inbox', prefix: '', access: 'read-write' },
    { transferUser: 'xfer3', bucket: 'acme-aspera-inbox', prefix: 'outgoing', access: 'read-only' },
  ],
  identity: 'aspera-cross-account:111111111111:222222222222',
};
// B: another customer of the same operator, with users of its own.
const B: Customer = {
  myAccount: { accountId: '333333333333', region: 'eu-west-1', profile: 'globex' },
  externalId: 'aspera-b2c4d6e8',
  buckets: [{ name: 'globex-aspera-drop', create: true }],
  grants: [
    { transferUser: 'globex1', bucket: 'globex-aspera-drop', prefix: '', access: 'read-write' },
    { transferUser: 'globex2', bucket: 'globex-aspera-drop', prefix: 'reports', access: 'read-only' },
  ],
  identity: 'aspera-cross-account:333333333333:222222222222',
};
// C: a user of its own, and A's xfer3.
const C: Customer = {
  myAccount: { accountId: '444444444444', region: 'us-east-1', profile: 'initech' },
  externalId: 'aspera-c0ffee01',
  buckets: [{ name: 'initech-aspera', create: true }],
  grants: [
    { transferUser: 'initech1', bucket: 'initech-aspera', prefix: '', access: 'read-write' },
    { transferUser: 'xfer3', bucket: 'initech-aspera', prefix: '', access: 'read-write' },
  ],
  identity: 'aspera-cross-account:444444444444:222222222222',
};

// The docroots, written by hand from the default template (docs/aspera-hosts.md), not computed by
// the code under test.
const XFER3_A = 's3://arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Faspera-cross-account-xfer3@s3.amazonaws.com/acme-aspera-inbox/outgoing;iam-role.external-id=aspera-7f3c9e21';
const GLOBEX1_B = 's3://arn%3Aaws%3Aiam%3A%3A333333333333%3Arole%2Faspera-cross-account-globex1@s3.amazonaws.com/globex-aspera-drop;iam-role.external-id=aspera-b2c4d6e8';
const GLOBEX2_B = 's3://arn%3Aaws%3Aiam%3A%3A333333333333%3Arole%2Faspera-cross-account-globex2@s3.amazonaws.com/globex-aspera-drop/reports;iam-role.external-id=aspera-b2c4d6e8';

const SCRIPT_FILE = /^\.aspera-cross-account-\d+\.sh$/;

let root: string;
let sshd: Sshd;
let stub: RestartStub;
let host: RootHost;
let user: TestUser;
let conf: string;
let state: string;
let rootHome: string;
let validationLog: string;
const synths: string[] = [];

/** A stack's Terraform directory and the SSH user it connects as. */
interface Stack {
  readonly customer: Customer;
  readonly tf: TerraformDir;
  readonly sshUser: () => string;
  readonly home: () => string;
  h?: HostTerraform;
}
let stacks: Record<'A' | 'B' | 'C', Stack>;

beforeAll(async () => {
  host = await startRootHost('stacks', ORIGINAL);
  ({ root, sshd, stub, conf } = host);
  state = `${conf}.aspera-cross-account.state`;
  user = createTestUser(root, sshd);
  user.allowSudo(stub.bin);
  rootHome = (await sshd.ssh('root', 'pwd')).stdout.trim();
  // On the sessions' PATH and sudo's secure_path (stub.bin): accepts every file, and records the
  // uploaded scripts (non-empty: earlier runs leave Terraform's empty files) where the script runs.
  validationLog = join(root, 'asuserdata.log');
  writeFileSync(validationLog, '');
  writeFileSync(
    join(stub.bin, 'asuserdata'),
    `#!/bin/sh\nleft=\nfor f in .aspera-cross-account-*.sh; do if [ -s "$f" ]; then left="$left $f"; fi; done\nprintf '%s\\n' "asuserdata $* as $(id -un) in $(pwd):\${left:- no script}" >> '${validationLog}'\n`,
    { mode: 0o755 },
  );
  const stack = (customer: Customer, name: string, sshUser: () => string, home: () => string): Stack => ({ customer, tf: terraformDir(join(root, `tf-${name}`), stub.log), sshUser, home });
  stacks = {
    A: stack(A, 'a', () => 'root', () => rootHome),
    B: stack(B, 'b', () => user.name, () => user.home),
    C: stack(C, 'c', () => user.name, () => user.home),
  };
  // One synth per stack: the config never changes within a stack.
  for (const s of Object.values(stacks)) {
    const synth = synthConfigToDir(
      baseConfigInput({
        myAccount: s.customer.myAccount,
        otherAccount: OTHER_ACCOUNT,
        externalId: s.customer.externalId,
        buckets: s.customer.buckets,
        grants: s.customer.grants,
        asperaHosts: [{ host: '127.0.0.1', port: sshd.port, user: s.sshUser(), privateKeyPath: sshd.clientKey, asperaConfPath: conf, hostKey: sshd.hostKey }],
      }),
    );
    synths.push(synth.outdir);
    expect(synth.config.stackName).toBe('aspera-cross-account');
    s.h = s.tf.write(synth);
    await s.tf.ok(['init', '-input=false', '-no-color']);
  }
});

afterAll(async () => {
  try {
    await user?.remove();
  } finally {
    for (const dir of synths) rmSync(dir, { recursive: true, force: true });
    await host?.stop();
  }
});

/** The uploaded scripts in a home directory: name, size and permission bits. */
function scriptsIn(home: string): Map<string, { size: number; mode: number }> {
  return new Map(
    readdirSync(home)
      .filter((f) => SCRIPT_FILE.test(f))
      .map((f) => {
        const st = statSync(join(home, f));
        return [f, { size: st.size, mode: st.mode & 0o777 }];
      }),
  );
}

interface Outcome {
  readonly status: number | null;
  readonly output: string;
  readonly connections: number;
  readonly restarts: number;
  /** Script files that appeared in the SSH user's home directory during the run. */
  readonly newScripts: Array<{ name: string; size: number; mode: number }>;
  /** What the stand-in asuserdata recorded during the run. */
  readonly validations: string[];
}

/** Runs terraform for a stack; counts connections and restarts, and lists what it left in the home. */
async function run(s: Stack, args: string[]): Promise<Outcome> {
  const validations = () => readFileSync(validationLog, 'utf8').split('\n').filter((l) => l !== '');
  const before = { connections: sshd.connections(), restarts: stub.restarts(), scripts: scriptsIn(s.home()), validations: validations().length };
  const r = await s.tf.run(args);
  const after = scriptsIn(s.home());
  return {
    status: r.status,
    output: r.output,
    connections: sshd.connections() - before.connections,
    restarts: stub.restarts() - before.restarts,
    newScripts: [...after].filter(([name]) => !before.scripts.has(name)).map(([name, v]) => ({ name, ...v })),
    validations: validations().slice(before.validations),
  };
}

/** A run that changed aspera.conf: validated once, as root, with its uploaded script already gone. */
function validatedWithoutScript(s: Stack, o: Outcome): void {
  expect(o.validations).toEqual([`asuserdata -v as root in ${s.home()}: no script`]);
}

const succeeded = (o: Outcome) => expect({ status: o.status, output: o.output }).toMatchObject({ status: 0 });
const apply = (s: Stack, extra: string[] = []) => run(s, ['apply', '-auto-approve', '-input=false', '-no-color', ...extra]);
const destroy = (s: Stack) => run(s, ['destroy', '-auto-approve', '-input=false', '-no-color']);

/**
 * After a successful run over SSH: one file left, empty, and a new one. Terraform's follow-up
 * upload (scp, "C0644") writes into an existing file without changing its mode, so had the script
 * stayed, the empty file would keep the 0777 Terraform gave it; scp creates a missing one without
 * any execute bit, whatever the umask.
 */
function leftEmptyFileOnly(o: Outcome): void {
  expect(o.newScripts.map((f) => ({ name: f.name, size: f.size, executable: (f.mode & 0o111) !== 0 }))).toEqual([
    { name: expect.stringMatching(SCRIPT_FILE), size: 0, executable: false },
  ]);
}

/** The state file's records: transfer user -> the stack that installed it. */
function owners(): Record<string, string> {
  const records = readFileSync(state, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('user\t'))
    .map((l) => l.split('\t'));
  return Object.fromEntries(records.map((f) => [f[2], f[1]]));
}

const text = () => readFileSync(conf, 'utf8');
const bytes = () => readFileSync(conf);
/** Files next to aspera.conf that are neither aspera.conf nor a backup of it. */
const siblings = () =>
  readdirSync(dirname(conf))
    .filter((f) => f !== 'aspera.conf' && !f.startsWith('aspera.conf.bak.'))
    .sort();

/** A's docroots as installed, and xfer2's own settings around them untouched. */
function expectA(xml: string): void {
  expect(docrootOf(xml, 'xfer2')).toEqual({ absolute: XFER2_DOCROOT, read_allowed: 'true', write_allowed: 'true', dir_allowed: 'true' });
  expect(docrootOf(xml, 'xfer3')).toEqual({ absolute: XFER3_A, read_allowed: 'true', write_allowed: 'false', dir_allowed: 'true' });
  expect(rawStanzas(xml, 'xfer2')[0]).toContain('<encryption_key>xfer2-token-key-fedcba9876543210</encryption_key>');
}
function expectB(xml: string): void {
  expect(docrootOf(xml, 'globex1')).toEqual({ absolute: GLOBEX1_B, read_allowed: 'true', write_allowed: 'true', dir_allowed: 'true' });
  expect(docrootOf(xml, 'globex2')).toEqual({ absolute: GLOBEX2_B, read_allowed: 'true', write_allowed: 'false', dir_allowed: 'true' });
}
/** None of A's docroots: xfer2 has its local docroot from the fixture again, xfer3 is gone. */
function expectNoA(xml: string): void {
  expect(docrootOf(xml, 'xfer2').absolute).toBe('/data/xfer2');
  expect(usersOf(xml).has('xfer3')).toBe(false);
}
function expectNoB(xml: string): void {
  expect(usersOf(xml).has('globex1')).toBe(false);
  expect(usersOf(xml).has('globex2')).toBe(false);
}

// Bytes of aspera.conf after each step of the first sequence, compared in the second.
let afterA: Buffer;
let afterAB: Buffer;
let stateAfterAB: Buffer;

describe('A and B installed, B destroyed first', () => {
  test('apply A: its docroots, one connection, one restart; the state names stack A', async () => {
    const o = await apply(stacks.A);
    succeeded(o);
    expect([o.connections, o.restarts]).toEqual([1, 1]);
    expectA(text());
    expectNoB(text());
    expect(owners()).toEqual({ xfer2: A.identity, xfer3: A.identity });
    expect(statSync(state).mode & 0o777).toBe(0o600);
    afterA = bytes();
    leftEmptyFileOnly(o);
    validatedWithoutScript(stacks.A, o);
  });

  test('apply B (same default stackName, other My Account): its docroots added, A\'s untouched', async () => {
    const o = await apply(stacks.B);
    succeeded(o);
    expect([o.connections, o.restarts]).toEqual([1, 1]);
    expect(o.output).toMatch(/re-running as root with sudo -n/);
    const xml = text();
    expectA(xml);
    expectB(xml);
    // A's stanzas are byte for byte what A's install wrote.
    for (const u of ['xfer2', 'xfer3', 'alice', 'bob']) expect(rawStanzas(xml, u)).toEqual(rawStanzas(afterA.toString('utf8'), u));
    expect(owners()).toEqual({ xfer2: A.identity, xfer3: A.identity, globex1: B.identity, globex2: B.identity });
    expect(siblings()).toEqual(['aspera.conf.aspera-cross-account.state']);
    afterAB = bytes();
    stateAfterAB = readFileSync(state);
    leftEmptyFileOnly(o);
    validatedWithoutScript(stacks.B, o);
  });

  test('A\'s install again, with B installed: it runs, and changes nothing (no restart)', async () => {
    // A plain apply would connect nowhere (nothing changed): -replace makes the install run.
    const o = await apply(stacks.A, [`-replace=${stacks.A.h!.docroots}`]);
    succeeded(o);
    expect([o.connections, o.restarts]).toEqual([1, 0]);
    expect(o.output).toMatch(/already has every docroot of this stack: nothing changed/);
    expect(bytes().equals(afterAB)).toBe(true);
    expect(readFileSync(state).equals(stateAfterAB)).toBe(true);
    leftEmptyFileOnly(o);
    // Nothing changed: nothing to validate.
    expect(o.validations).toEqual([]);
  });

  test('destroy B: B\'s docroots gone, aspera.conf byte for byte as after A alone', async () => {
    const o = await destroy(stacks.B);
    succeeded(o);
    expect([o.connections, o.restarts]).toEqual([1, 1]);
    expect(o.output).not.toMatch(/aspera-cross-account: error:/);
    expect(bytes().equals(afterA)).toBe(true);
    expectA(text());
    expectNoB(text());
    expect(owners()).toEqual({ xfer2: A.identity, xfer3: A.identity });
    expect(await stacks.B.tf.state()).toEqual([]);
    leftEmptyFileOnly(o);
    validatedWithoutScript(stacks.B, o);
  });

  test('destroy A: aspera.conf byte-identical to the original, no state file', async () => {
    const o = await destroy(stacks.A);
    succeeded(o);
    expect([o.connections, o.restarts]).toEqual([1, 1]);
    expect(o.output).not.toMatch(/aspera-cross-account: error:/);
    expect(bytes().equals(Buffer.from(ORIGINAL))).toBe(true);
    expect(existsSync(state)).toBe(false);
    expect(siblings()).toEqual([]);
    expect(await stacks.A.tf.state()).toEqual([]);
    leftEmptyFileOnly(o);
    validatedWithoutScript(stacks.A, o);
  });
});

describe('A and B installed, a conflicting C refused, A destroyed first', () => {
  test('apply A, then B: the same bytes as the first time', async () => {
    const a = await apply(stacks.A);
    succeeded(a);
    expect(bytes().equals(afterA)).toBe(true);
    const b = await apply(stacks.B);
    succeeded(b);
    expect([a.connections + b.connections, a.restarts + b.restarts]).toEqual([2, 2]);
    expect(bytes().equals(afterAB)).toBe(true);
    expect(readFileSync(state).equals(stateAfterAB)).toBe(true);
    leftEmptyFileOnly(a);
    leftEmptyFileOnly(b);
    validatedWithoutScript(stacks.A, a);
    validatedWithoutScript(stacks.B, b);
  });

  test('C grants A\'s xfer3: the apply fails naming stack A, aspera.conf and the state are byte-identical, no script is left in the home', async () => {
    const o = await apply(stacks.C);
    expect(o.status).not.toBe(0);
    expect([o.connections, o.restarts]).toEqual([1, 0]);
    expect(o.output).toContain(
      'aspera-cross-account: error: ' + `${conf}: transfer user xfer3 already has a docroot installed by stack aspera-cross-account (My Account 111111111111, Other Account 222222222222) on this host`,
    );
    // Only xfer3 is refused: C's own user is not named as a conflict.
    expect(o.output).not.toMatch(/transfer user initech1 already has/);
    expect(bytes().equals(afterAB)).toBe(true);
    expect(readFileSync(state).equals(stateAfterAB)).toBe(true);
    expect(siblings()).toEqual(['aspera.conf.aspera-cross-account.state']);
    // Terraform uploads no blank file after a failure: the script removed itself.
    expect(o.newScripts).toEqual([]);
    expect(o.validations).toEqual([]);
    expect([...scriptsIn(user.home).values()].filter((f) => f.size > 0)).toEqual([]);
  });

  test('destroy A: A\'s docroots gone, B\'s intact', async () => {
    const o = await destroy(stacks.A);
    succeeded(o);
    expect([o.connections, o.restarts]).toEqual([1, 1]);
    const xml = text();
    expectNoA(xml);
    expectB(xml);
    for (const u of ['globex1', 'globex2', 'alice', 'bob']) expect(rawStanzas(xml, u)).toEqual(rawStanzas(afterAB.toString('utf8'), u));
    expect(owners()).toEqual({ globex1: B.identity, globex2: B.identity });
    leftEmptyFileOnly(o);
    validatedWithoutScript(stacks.A, o);
  });

  test('destroy B: aspera.conf byte-identical to the original, no state file; no non-empty script left in either home', async () => {
    const o = await destroy(stacks.B);
    succeeded(o);
    expect([o.connections, o.restarts]).toEqual([1, 1]);
    expect(bytes().equals(Buffer.from(ORIGINAL))).toBe(true);
    expect(existsSync(state)).toBe(false);
    expect(siblings()).toEqual([]);
    leftEmptyFileOnly(o);
    validatedWithoutScript(stacks.B, o);
    for (const home of [rootHome, user.home]) expect([...scriptsIn(home)].filter(([, f]) => f.size > 0)).toEqual([]);
  });
});
