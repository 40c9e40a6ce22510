/**
 * The host scripts at the scale the config allows: 5,000 grants (the schema's maximum) on a file of
 * 5,000 users in IBM's realm layout, under dash and bash. The grants travel to awk through a file:
 * the whole table (over a megabyte) would exceed Linux's 128 KiB limit on one environment string.
 * Every user is placed exactly once (the XML oracle), a second run changes nothing and restarts
 * nothing, and the uninstall gives the original bytes back. Timings are `npm run bench`'s.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { renderHostScripts } from '../src/aspera/host-scripts';
import { realmUsers } from './helpers/aspera-conf-oracle';
import { envFor, fakeTool, runAsync, scriptFile, tempRoot, testConfig, workdir } from './helpers/aspera-host';
import { realmFileOfUsers, scaleGrants, SCALE_USERS } from './helpers/scale';
import { SHELLS } from './helpers/unprivileged';

const root = tempRoot('scale');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config = testConfig(scaleGrants(SCALE_USERS));
const rendered = renderHostScripts(config, config.asperaHosts[0]);
const install = scriptFile(root, 'install.sh', rendered.install);
const uninstall = scriptFile(root, 'uninstall.sh', rendered.uninstall);
const original = realmFileOfUsers(SCALE_USERS);

test('the install script carries several times what Linux allows in one environment string (128 KiB)', () => {
  expect(Buffer.byteLength(rendered.install)).toBeGreaterThan(8 * 128 * 1024);
});

test.concurrent.each(SHELLS)('under %s: 5,000 grants install, a second run changes nothing, the uninstall restores the bytes', async (shell) => {
  const w = workdir(root, shell.split('/').pop()!, original);
  // The host knows every transfer user (as an operator's host would): no warning expected.
  fakeTool(w.bin, 'getent', `${w.dir}/getent.log`, 0, 'shift 2; for u in "$@"; do printf "%s:x:1000:1000::/home/%s:/bin/sh\\n" "$u" "$u"; done');
  // One run at a time, its results read as it ends (the batch driver's shell copy of a 2 MB file is slow).
  const run = async (script: string) => {
    const r = await runAsync(shell, [script], envFor(w));
    const conf = readFileSync(w.conf);
    return { ...r, conf, text: conf.toString('utf8'), calls: w.calls(), siblings: readdirSync(join(w.dir, 'etc')).filter((f) => f !== 'aspera.conf') };
  };
  const installed = await run(install);
  const again = await run(install);
  const removed = await run(uninstall);
  expect([installed.status, installed.stderr]).toEqual([0, '']);
  const users = realmUsers(installed.text);
  expect(users).toHaveLength(SCALE_USERS);
  expect(new Set(users.map((u) => u.name)).size).toBe(SCALE_USERS);
  // One parse of the whole file: each user's one <path>, its docroot and flags.
  const text = (v: unknown): string => (typeof v === 'object' && v !== null ? String((v as Record<string, unknown>)['#text']) : String(v));
  for (const { name, stanza } of users) {
    const i = Number(name.replace('partner', ''));
    const paths = ((stanza.file_system as Array<Record<string, unknown[]>>)[0].access as Array<Record<string, unknown[]>>)[0].paths as Array<Record<string, unknown[]>>;
    expect(paths).toHaveLength(1);
    const path = (paths[0].path as Array<Record<string, unknown[]>>);
    expect(path).toHaveLength(1);
    const field = (f: string) => (path[0][f] ?? []).map(text);
    expect([name, field('absolute')]).toEqual([name, [`s3://arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Faspera%2Faspera-cross-account%2Faspera-cross-account-partner${i}@s3.amazonaws.com/acme-partner-bucket-${i % 10}/partners/p${String(i).padStart(5, '0')}/incoming;iam-role.external-id=aspera-7f3c9e21`]]);
    expect([name, field('read_allowed'), field('write_allowed'), field('dir_allowed')]).toEqual([name, ['true'], [i % 2 === 0 ? 'true' : 'false'], ['true']]);
  }
  expect(installed.calls).toEqual(['systemctl restart asperanoded']);

  expect(again.status).toBe(0);
  expect(again.stdout).toContain('nothing changed');
  expect(again.conf.equals(installed.conf)).toBe(true);
  expect(again.calls).toEqual(installed.calls);

  expect(removed.status).toBe(0);
  expect(removed.text).toBe(original);
  expect(removed.siblings.filter((f) => !f.startsWith('aspera.conf.bak.'))).toEqual([]);
}, 120000);
