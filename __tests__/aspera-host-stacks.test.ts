/**
 * Several customers' stacks on one Aspera host: an operator (Other Account) serves customers
 * whose stacks may all keep the default stackName. The rendered scripts run for real (dash and
 * bash) on IBM's realm layouts; the results are read with the XML oracle and compared byte for
 * byte. Each stack touches only its own transfer users, whatever the order; a user another stack
 * installed is refused with nothing changed; after every stack's uninstall the file is the original.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { renderHostScripts } from '../src/aspera/host-scripts';
import type { ConfigInput } from '../src/config/schema';
import { realmUsers } from './helpers/aspera-conf-oracle';
import { BASE, docrootOf, fixture, rawStanzas, runSteps, scriptFile, tempRoot, testConfig, workdir, XFER2_DOCROOT, XFER3_DOCROOT, type StepResult } from './helpers/aspera-host';
import { POSIX_SHELL, SHELLS } from './helpers/unprivileged';

const root = tempRoot('stacks');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const STATE = 'aspera.conf.aspera-cross-account.state';

/** A customer's stack: the default stackName, its own My Account, External ID, bucket and users. */
function customer(accountId: string, externalId: string, bucket: string, users: readonly string[]): Partial<ConfigInput> {
  return {
    externalId,
    myAccount: { ...BASE.myAccount, accountId },
    buckets: [{ name: bucket, create: false }],
    grants: users.map((transferUser) => ({ transferUser, bucket, prefix: '', access: 'read-write' })),
  };
}

// Written by hand from the README's docroot form, not computed by the code under test.
const docroot = (accountId: string, user: string, bucket: string, externalId: string) =>
  `s3://arn%3Aaws%3Aiam%3A%3A${accountId}%3Arole%2Faspera-cross-account-${user}@s3.amazonaws.com/${bucket};iam-role.external-id=${externalId}`;

const STACKS = {
  // Customer A: the suites' base config (xfer2 read-write, xfer3 read-only with a prefix).
  A: { input: {}, docroots: { xfer2: XFER2_DOCROOT, xfer3: XFER3_DOCROOT } },
  B: { input: customer('333333333333', 'beta-9d2e41', 'beta-media-inbox', ['xfer7', 'xfer8']), docroots: { xfer7: docroot('333333333333', 'xfer7', 'beta-media-inbox', 'beta-9d2e41'), xfer8: docroot('333333333333', 'xfer8', 'beta-media-inbox', 'beta-9d2e41') } },
  C: { input: customer('444444444444', 'gamma-07aa', 'gamma-archive', ['xfer9']), docroots: { xfer9: docroot('444444444444', 'xfer9', 'gamma-archive', 'gamma-07aa') } },
} as const;
type StackName = keyof typeof STACKS;

const scripts = Object.fromEntries(
  (Object.keys(STACKS) as StackName[]).map((name) => {
    const config = testConfig(STACKS[name].input);
    const rendered = renderHostScripts(config, config.asperaHosts[0]);
    return [name, { install: scriptFile(root, `install-${name}.sh`, rendered.install), uninstall: scriptFile(root, `uninstall-${name}.sh`, rendered.uninstall) }];
  }),
) as Record<StackName, { install: string; uninstall: string }>;

/** What the oracle must read for the stacks installed: each of their users with its docroot. */
function expectInstalled(r: StepResult, installed: readonly StackName[], original: string, step: string): void {
  if (r.status !== 0) throw new Error(`${step} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  for (const name of Object.keys(STACKS) as StackName[]) {
    for (const [user, absolute] of Object.entries(STACKS[name].docroots)) {
      if (installed.includes(name)) {
        expect([step, user, docrootOf(r.text, user).absolute]).toEqual([step, user, absolute]);
        expect([step, user, realmUsers(r.text).filter((u) => u.name === user).length]).toEqual([step, user, 1]);
      } else {
        // Not installed (or uninstalled): the user is as the original file has it.
        expect([step, user, rawStanzas(r.text, user)]).toEqual([step, user, rawStanzas(original, user)]);
      }
    }
  }
}

// IBM's realm layouts: users present (xfer2 with a local docroot), and files where every level
// from <aaa> (no-aaa.conf) or <users> (no-users.conf) down must be created, and so removed.
const FILES = ['hsts-realm.conf', 'no-aaa.conf', 'no-users.conf'];

type Op = [StackName, 'install' | 'uninstall'];
const SEQUENCES: Array<[string, Op[]]> = [
  ['A, B, A again; uninstall B, then A', [['A', 'install'], ['B', 'install'], ['A', 'install'], ['B', 'uninstall'], ['A', 'uninstall']]],
  ['A, B; uninstall A, then B', [['A', 'install'], ['B', 'install'], ['A', 'uninstall'], ['B', 'uninstall']]],
  ['B, A; uninstall B, then A', [['B', 'install'], ['A', 'install'], ['B', 'uninstall'], ['A', 'uninstall']]],
  ['A, B, C; uninstall B, A, C', [['A', 'install'], ['B', 'install'], ['C', 'install'], ['B', 'uninstall'], ['A', 'uninstall'], ['C', 'uninstall']]],
  ['C, A, B; uninstall C, B, A', [['C', 'install'], ['A', 'install'], ['B', 'install'], ['C', 'uninstall'], ['B', 'uninstall'], ['A', 'uninstall']]],
  ['A, C, B; uninstall A, C, B, then B again', [['A', 'install'], ['C', 'install'], ['B', 'install'], ['A', 'uninstall'], ['C', 'uninstall'], ['B', 'uninstall'], ['B', 'uninstall']]],
];

// Every file under the POSIX shell; under bash, the file where the most levels are shared.
const RUNS = SHELLS.flatMap((shell) => (shell === POSIX_SHELL ? FILES : ['no-aaa.conf']).map((file) => [shell, file] as const));

describe.each(RUNS)('under %s, %s', (shell, file) => {
    test.concurrent.each(SEQUENCES)('%s: each step leaves every other stack\'s docroots as they were; the last leaves the original bytes', async (_name, ops) => {
      const original = fixture(file);
      const w = workdir(root, `${shell.split('/').pop()}-${file}-${_name.replace(/[^A-Za-z]+/g, '-')}`, original);
      const results = await runSteps(root, ops.map(([stack, action]) => ({ shell, script: scripts[stack][action], w })));
      const installed: StackName[] = [];
      ops.forEach(([stack, action], i) => {
        if (action === 'install' && !installed.includes(stack)) installed.push(stack);
        if (action === 'uninstall' && installed.includes(stack)) installed.splice(installed.indexOf(stack), 1);
        expectInstalled(results[i], installed, original, `step ${i + 1} (${action} ${stack})`);
      });
      const last = results[results.length - 1];
      expect(last.text).toBe(original);
      expect(last.siblings.filter((f) => !f.startsWith('aspera.conf.bak.'))).toEqual([]);
      // A second install of a stack changes nothing and restarts nothing.
      const again = ops.findIndex(([stack, action], i) => action === 'install' && ops.slice(0, i).some(([s, a]) => s === stack && a === 'install'));
      if (again >= 0) {
        expect(results[again].stdout).toContain('nothing changed');
        expect(results[again].text).toBe(results[again - 1].text);
        expect(results[again].calls).toEqual(results[again - 1].calls);
      }
    });
});

describe('a transfer user that another stack installed', () => {
  const conflicting = testConfig({ ...customer('555555555555', 'delta-31', 'delta-drop', ['xfer7', 'xfer2']) });
  const installConflicting = scriptFile(root, 'install-conflicting.sh', renderHostScripts(conflicting, conflicting.asperaHosts[0]).install);

  test.concurrent('is refused: the message names the user and the stack that has it, and nothing changes', async () => {
    const w = workdir(root, 'conflict', fixture('hsts-realm.conf'));
    const [a, refused] = await runSteps(root, [
      { shell: POSIX_SHELL, script: scripts.A.install, w },
      { shell: POSIX_SHELL, script: installConflicting, w },
    ]);
    expect(a.status).toBe(0);
    const state = readFileSync(join(w.dir, 'etc', STATE));
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('transfer user xfer2 already has a docroot installed by stack aspera-cross-account (My Account 111111111111, Other Account 222222222222) on this host');
    expect(refused.stderr).toMatch(/1 transfer user of stack aspera-cross-account \(My Account 555555555555, Other Account 222222222222\) belongs to another stack on this host .* Nothing was changed/);
    // xfer7 is free, but the run is refused as a whole: nothing of it is installed.
    expect(refused.text).toBe(a.text);
    expect(readFileSync(join(w.dir, 'etc', STATE)).equals(state)).toBe(true);
    expect(refused.siblings).toEqual(a.siblings);
    expect(refused.calls).toEqual(a.calls);
  });

  test.concurrent('is installable once the other stack has removed it', async () => {
    const original = fixture('hsts-realm.conf');
    const w = workdir(root, 'conflict-then-free', original);
    const [, , freed, installed, removed] = await runSteps(root, [
      { shell: POSIX_SHELL, script: scripts.A.install, w },
      { shell: POSIX_SHELL, script: installConflicting, w },
      { shell: POSIX_SHELL, script: scripts.A.uninstall, w },
      { shell: POSIX_SHELL, script: installConflicting, w },
      { shell: POSIX_SHELL, script: (() => scriptFile(root, 'uninstall-conflicting.sh', renderHostScripts(conflicting, conflicting.asperaHosts[0]).uninstall))(), w },
    ]);
    expect(freed.text).toBe(original);
    expect(installed.status).toBe(0);
    expect(docrootOf(installed.text, 'xfer2').absolute).toBe(docroot('555555555555', 'xfer2', 'delta-drop', 'delta-31'));
    expect(removed.text).toBe(original);
  });
});
