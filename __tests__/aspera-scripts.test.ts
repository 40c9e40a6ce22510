/**
 * The rendered install/uninstall scripts, executed for real under dash and bash against
 * aspera.conf fixtures written from the vendor's documented structure. Results are parsed with
 * fast-xml-parser; other users' stanzas are compared byte for byte.
 */
import { mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { xmlEscape } from '../src/aspera/docroot';
import { embedAccessKeys, embedAwk, renderHostScripts, renderScript, SCRIPT_LOGIC, shellQuote, type ScriptGrant } from '../src/aspera/host-scripts';
import { legacyUsers, placementOf, realmUsers } from './helpers/aspera-conf-oracle';
import { lineChanges, splitLines, userBlocks } from './helpers/line-diff';
import {
  docrootOf,
  envFor,
  fakeTool,
  fixture,
  rawStanzas,
  runAsync,
  runSteps,
  scriptFile,
  tempRoot,
  testConfig,
  usersOf,
  workdir,
  XFER2_DOCROOT,
  XFER3_DOCROOT,
  type StepResult,
} from './helpers/aspera-host';
import { minimalPath, POSIX_SHELL, SHELLS } from './helpers/unprivileged';

const DASH = POSIX_SHELL;
const STATE = 'aspera.conf.aspera-cross-account.state';
const BACKUP = /^aspera\.conf\.bak\.\d{8}T\d{6}Z(\.\d+)?$/;
const RESTART = 'systemctl restart asperanoded';

// Set up at load time, not in beforeAll: the tests below are concurrent, and Jest starts
// concurrent tests without waiting for beforeAll.
const root = tempRoot('scripts');
const config = testConfig();
const scripts = renderHostScripts(config, config.asperaHosts[0]);
const install = scriptFile(root, 'install.sh', scripts.install);
const uninstall = scriptFile(root, 'uninstall.sh', scripts.uninstall);
/** Install for xfer2 alone: a different grant set, for reconciliation tests. */
const xfer2Only = testConfig({ grants: [{ transferUser: 'xfer2', bucket: 'acme-aspera-inbox', prefix: '', access: 'read-write' }] });
const installXfer2Only = scriptFile(root, 'install-xfer2.sh', renderHostScripts(xfer2Only, xfer2Only.asperaHosts[0]).install);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const short = (shell: string) => shell.split('/').pop();
const ok = (r: StepResult, what = 'script'): void => {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
};
const same = (a: Buffer | null, b: string | Buffer | null): boolean => a !== null && b !== null && a.equals(Buffer.isBuffer(b) ? b : Buffer.from(b));

const OURS = ['xfer2', 'xfer3'] as const;
const DOCROOTS = { xfer2: { absolute: XFER2_DOCROOT, read_allowed: 'true', write_allowed: 'true', dir_allowed: 'true' }, xfer3: { absolute: XFER3_DOCROOT, read_allowed: 'true', write_allowed: 'false', dir_allowed: 'true' } };
/** Where the server reads users: the one place our stanzas may be. */
const IN_REALM = 'CONF.aaa.realms.realm.users.user';

/**
 * Every aspera.conf layout an install must handle: IBM's documented realm layout in its variants,
 * and the legacy top-level <users> files, whose section is left alone. `at` is where each of our
 * users must end up when that is not the only realm.
 */
const FIXTURES: Array<{ file: string; at?: Record<(typeof OURS)[number], string> }> = [
  { file: 'hsts-realm.conf' },
  { file: 'aod-s3.conf' },
  { file: 'realm-groups-only.conf' },
  { file: 'no-aaa.conf' },
  // xfer2 is in the second realm only: edited there; xfer3 is in none: added to the first.
  { file: 'two-realms.conf', at: { xfer2: 'CONF.aaa.realms.realm[1].users.user', xfer3: 'CONF.aaa.realms.realm[0].users.user' } },
  { file: 'crlf-bom.conf' },
  { file: 'tabs.conf' },
  { file: 'cdata.conf' },
  { file: 'legacy-and-realm.conf' },
  // The legacy layout (users directly under <CONF>): the server does not read it; never written.
  { file: 'several-users.conf' },
  { file: 'user-local-docroot.conf' },
  { file: 'user-without-file-system.conf' },
  { file: 'no-users.conf' },
  { file: 'comments.conf' },
  { file: 'entities.conf' },
  { file: 'compact.conf' },
  { file: 'attributes-whitespace.conf' },
];

/** The top-level <users> sections of a file, raw: those outside <aaa>...</aaa>. */
function legacySections(xml: string): string[] {
  const blanked = xml.replace(/<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>/g, (c) => ' '.repeat(c.length));
  const aaa = [blanked.indexOf('<aaa>'), blanked.indexOf('</aaa>')];
  return [...blanked.matchAll(/<users>[\s\S]*?<\/users>/g)].filter((m) => aaa[0] < 0 || m.index < aaa[0] || m.index > aaa[1]).map((m) => xml.slice(m.index, m.index + m[0].length));
}

describe.each(SHELLS)('under %s', (shell) => {
  test.concurrent.each(FIXTURES)('$file: install, install again, uninstall, uninstall again', async ({ file, at }) => {
    const original = fixture(file);
    const w = workdir(root, `${short(shell)}-${file}`, original);
    chmodSync(w.conf, 0o640);
    const [first, second, removed, again] = await runSteps(root, [
      { shell, script: install, w },
      { shell, script: install, w },
      { shell, script: uninstall, w },
      { shell, script: uninstall, w },
    ]);

    // Install: each of our users exactly once in the realm section, with its docroot and flags.
    ok(first);
    const installed = first.text;
    const legacyBefore = legacyUsers(original);
    for (const user of OURS) {
      const legacy = legacyBefore.filter((u) => u === user).map(() => 'CONF.users.user');
      expect(placementOf(installed, user).sort()).toEqual([...legacy, at?.[user] ?? IN_REALM].sort());
      expect(docrootOf(installed, user)).toEqual(DOCROOTS[user]);
      // A stanza in the legacy section is left as it is, and said to be ignored by the server.
      const warning = new RegExp(`warning: .* the stanza for ${user} sits in a <users> directly under <CONF>, which Aspera does not read`);
      if (legacy.length > 0) expect(first.stderr).toMatch(warning);
      else expect(first.stderr).not.toMatch(warning);
    }
    expect(legacyUsers(installed)).toEqual(legacyBefore);
    for (const section of legacySections(original)) expect(installed).toContain(section);

    // Other users: parsed alike and byte-identical.
    const others = realmUsers(original).map((u) => u.name).filter((n) => !(OURS as readonly string[]).includes(n));
    for (const other of others) {
      expect(usersOf(installed).get(other)).toEqual(usersOf(original).get(other));
      expect(rawStanzas(installed, other)).toEqual(rawStanzas(original, other));
    }

    // Every line that changed is in one of our stanzas, or a level the install had to create;
    // new lines follow the file's line endings and indentation.
    const { removed: gone, added } = lineChanges(original, installed);
    const before = userBlocks(original, OURS);
    const after = userBlocks(installed, OURS);
    const inside = (blocks: Array<[number, number]>, n: number) => blocks.some(([a, b]) => n >= a && n <= b);
    const lines = splitLines(installed);
    for (const n of gone) expect([n, inside(before, n) ? 'in our stanza' : splitLines(original)[n]]).toEqual([n, 'in our stanza']);
    for (const n of added) if (!inside(after, n)) expect(lines[n]).toMatch(/^[ \t]*<\/?(aaa|realms|realm|users)>\r?\n$/);
    const crlf = original.includes('\r\n');
    const tabs = /^\t+</m.test(original);
    for (const n of added) {
      if (n < lines.length - 1 || lines[n].endsWith('\n')) expect(lines[n].endsWith(crlf ? '\r\n' : '\n') && (crlf || !lines[n].endsWith('\r\n'))).toBe(true);
      const indent = /^[ \t]*/.exec(lines[n])![0];
      expect(indent).toMatch(tabs ? /^\t*$/ : /^ *$/);
    }
    expect(installed.startsWith('\uFEFF')).toBe(original.startsWith('\uFEFF'));

    expect(first.calls).toEqual([RESTART]);
    expect(first.stdout).toContain(`restarting asperanoded: ${RESTART}`);
    expect(first.siblings).toHaveLength(2);
    expect(first.siblings).toContain(STATE);
    const backup = first.siblings.find((f) => BACKUP.test(f));
    expect(backup).toBeDefined();
    expect(readFileSync(join(w.dir, 'etc', backup!), 'utf8')).toBe(original);
    // The final state of the directory: the backup is root's alone (it holds the External ID),
    // aspera.conf keeps its mode.
    expect(statSync(join(w.dir, 'etc', backup!)).mode & 0o777).toBe(0o600);
    expect(statSync(w.conf).mode & 0o777).toBe(0o640);

    // Install again: byte-identical, no restart, no new backup.
    ok(second);
    expect(second.stdout).toContain('nothing changed');
    expect(same(second.conf, first.conf)).toBe(true);
    expect(second.calls).toEqual([RESTART]);
    expect(second.siblings).toEqual(first.siblings);

    // Uninstall: the original bytes, state file gone, one restart.
    ok(removed);
    expect(same(removed.conf, original)).toBe(true);
    expect(removed.calls).toEqual([RESTART, RESTART]);
    expect(removed.siblings).not.toContain(STATE);

    // Uninstall again: nothing to do.
    ok(again);
    expect(again.stdout).toContain('nothing changed');
    expect(same(again.conf, original)).toBe(true);
    expect(again.calls).toEqual([RESTART, RESTART]);
  });

  describe('failures leave aspera.conf byte-identical and restart nothing', () => {
    test.concurrent('asuserdata rejects the edited file: it saw the new docroot, the original is put back', async () => {
      const original = fixture('hsts-realm.conf');
      const w = workdir(root, `${short(shell)}-validator-fails`, original);
      const log = join(w.dir, 'calls.log');
      fakeTool(w.bin, 'asuserdata', log, 1, `grep -q 'aspera-cross-account-xfer2@' "\${0%/bin/*}/etc/aspera.conf" && echo 'validator saw the new docroot' >> '${log}'`);
      const [r] = await runSteps(root, [{ shell, script: install, w }]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/asuserdata -v rejected the edited aspera.conf: the original is back in place/);
      expect(same(r.conf, original)).toBe(true);
      expect(r.calls).toEqual(['asuserdata -v', 'validator saw the new docroot']);
      expect(r.siblings).toEqual([]);
    });

    test.concurrent('asuserdata rejects an update: the earlier state file is put back too', async () => {
      const w = workdir(root, `${short(shell)}-validator-fails-update`, fixture('hsts-realm.conf'));
      // Accepts the first install (xfer2 only), rejects any aspera.conf that has xfer3's docroot.
      fakeTool(w.bin, 'asuserdata', join(w.dir, 'calls.log'), 0, `if grep -q 'aspera-cross-account-xfer3@' "\${0%/bin/*}/etc/aspera.conf"; then exit 1; fi`);
      const statePath = join(w.dir, 'etc', STATE);
      const [first] = await runSteps(root, [{ shell, script: installXfer2Only, w }]);
      ok(first);
      const stateAfterFirst = readFileSync(statePath);
      expect(statSync(statePath).mode & 0o777).toBe(0o600);
      const [r] = await runSteps(root, [{ shell, script: install, w }]);
      expect(r.status).not.toBe(0);
      expect(same(r.conf, first.conf)).toBe(true);
      expect(readFileSync(statePath).equals(stateAfterFirst)).toBe(true);
      expect(r.siblings).toEqual(first.siblings);
      expect(r.calls).toEqual(['asuserdata -v', RESTART, 'asuserdata -v']);
    });

    test.concurrent('asuserdata accepts the file: validated, then one restart', async () => {
      const w = workdir(root, `${short(shell)}-validator-ok`, fixture('no-aaa.conf'));
      fakeTool(w.bin, 'asuserdata', join(w.dir, 'calls.log'), 0);
      const [r] = await runSteps(root, [{ shell, script: install, w }]);
      ok(r);
      expect(r.calls).toEqual(['asuserdata -v', RESTART]);
    });

    test.concurrent('writing the new file fails (file size limit): nothing changes', async () => {
      // IBM's realm layout on one line: small enough that the copy fits the limit below.
      const original = '<CONF version="2"><aaa><realms><realm><users><user><name>alice</name></user></users></realm></realms></aaa></CONF>\n';
      expect(original.length).toBeLessThan(512);
      const w = workdir(root, `${short(shell)}-write-fails`, original);
      // dash counts ulimit -f in 512-byte blocks: the copy fits, the edited file (> 512 bytes) does not.
      const r = await runAsync(DASH, ['-c', 'ulimit -f 1; exec "$0" "$1"', shell, install], envFor(w));
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/left unchanged/);
      expect(readFileSync(w.conf, 'utf8')).toBe(original);
      expect(w.calls()).toEqual([]);
      expect(w.siblings()).toEqual([]);
    });

    test.concurrent('the rename fails: aspera.conf and the earlier state file are as they were', async () => {
      const w = workdir(root, `${short(shell)}-rename-fails`, fixture('hsts-realm.conf'));
      // mv refuses only to put an aspera.conf with xfer3's docroot in place.
      writeFileSync(
        join(w.bin, 'mv'),
        '#!/bin/sh\nfor last; do :; done\ncase $last in */aspera.conf) if grep -q xfer3@ "$3"; then echo "mv: injected failure" >&2; exit 1; fi;; esac\nexec /bin/mv "$@"\n',
        { mode: 0o755 },
      );
      const statePath = join(w.dir, 'etc', STATE);
      const [first] = await runSteps(root, [{ shell, script: installXfer2Only, w }]);
      ok(first);
      const stateAfterFirst = readFileSync(statePath);
      const [r] = await runSteps(root, [{ shell, script: install, w }]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/injected failure/);
      expect(same(r.conf, first.conf)).toBe(true);
      expect(readFileSync(statePath).equals(stateAfterFirst)).toBe(true);
      expect(r.siblings).toEqual(first.siblings);
      expect(r.calls).toEqual([RESTART]);
    });

    test.concurrent('the restart fails: reported, and the next run retries it once', async () => {
      const w = workdir(root, `${short(shell)}-restart-fails`, fixture('no-aaa.conf'));
      // systemctl fails the first time only.
      fakeTool(w.bin, 'systemctl', join(w.dir, 'calls.log'), 0, `if [ ! -e '${w.dir}/failed-once' ]; then : > '${w.dir}/failed-once'; exit 1; fi`);
      const [failed, retried, quiet] = await runSteps(root, [
        { shell, script: install, w },
        { shell, script: install, w },
        { shell, script: install, w },
      ]);
      expect(failed.status).not.toBe(0);
      expect(failed.stderr).toMatch(/asperanoded did not restart/);
      expect(docrootOf(failed.text, 'xfer2').absolute).toBe(XFER2_DOCROOT);
      ok(retried);
      ok(quiet);
      expect(same(retried.conf, failed.conf)).toBe(true);
      expect(same(quiet.conf, failed.conf)).toBe(true);
      expect(failed.calls).toEqual([RESTART]);
      expect(retried.calls).toEqual([RESTART, RESTART]);
      expect(quiet.calls).toEqual([RESTART, RESTART]);
      expect(quiet.siblings.filter((f) => f.includes('restart-pending'))).toEqual([]);
    });
  });
});

test.concurrent('CRLF line endings are kept, and uninstall restores the bytes', async () => {
  const original = fixture('aod-s3.conf').replace(/\n/g, '\r\n');
  const w = workdir(root, 'crlf', original);
  const [installed, removed] = await runSteps(root, [
    { shell: DASH, script: install, w },
    { shell: DASH, script: uninstall, w },
  ]);
  ok(installed);
  expect(docrootOf(installed.text, 'xfer2').absolute).toBe(XFER2_DOCROOT);
  expect(installed.text.replace(/\r\n/g, '')).not.toContain('\n');
  ok(removed);
  expect(same(removed.conf, original)).toBe(true);
});

describe('what the scripts refuse to edit (nothing changes, nothing restarts)', () => {
  const head = '<?xml version="1.0" encoding="UTF-8"?>\n';
  const xfer2 = (inner: string) => `<user><name>xfer2</name>${inner}</user>`;
  const realm = (users: string) => `<CONF><aaa><realms><realm><users>${users}</users></realm></realms></aaa></CONF>\n`;
  const cases: Array<[string, string, RegExp]> = [
    // Fixtures in IBM's layout with something on the way to our user's docroot that cannot be
    // edited with certainty.
    ['xfer2 in two realms', fixture('two-realms-duplicate.conf'), /user xfer2 has a stanza in the <realm> at line \d+ and in the <realm> at line \d+: cannot tell which one the server reads/],
    ['<users/> in the realm', fixture('empty-users.conf'), /<users\/> at line \d+ is in empty-element form; write it as <users><\/users> and re-run/],
    ['<realm/>', fixture('empty-realm.conf'), /<realm\/> at line \d+ is in empty-element form/],
    ['<aaa/>', fixture('empty-aaa.conf'), /<aaa\/> at line \d+ is in empty-element form/],
    ['<file_system/> in our user', fixture('user-empty-file-system.conf'), /user xfer2: <file_system\/> at line \d+ is in empty-element form/],
    ['a conditional docroot for our user', fixture('conditional-docroot.conf'), /user xfer2 has several <absolute> elements in its path \(line \d+\), a conditional docroot/],
    ['several <path> entries for our user', fixture('multi-path.conf'), /user xfer2 has several <path> entries: cannot tell which one is the docroot/],
    ['a DOCTYPE', `${head}<!DOCTYPE CONF [<!ENTITY u "xfer2">]>\n${realm(xfer2(''))}`, /DOCTYPE/],
    ['two stanzas for the user in one realm', `${head}${realm(xfer2('') + xfer2(''))}`, /two <user> stanzas are named xfer2 \(lines 2 and 2\)/],
    ['a conditional <absolute> alone', `${head}${realm(xfer2('<file_system><access><paths><path><absolute peer_ip="192.0.2.1">/a</absolute></path></paths></access></file_system>'))}`, /user xfer2 has a conditional docroot \(<absolute peer_ip="192.0.2.1">/],
    ['two <read_allowed> in the path', `${head}${realm(xfer2(`<file_system><access><paths><path><absolute>/a</absolute><read_allowed>true</read_allowed><read_allowed>false</read_allowed></path></paths></access></file_system>`))}`, /several <read_allowed> elements/],
    ['two <aaa> sections', `${head}<CONF><aaa></aaa><aaa></aaa></CONF>\n`, /several <aaa> sections in <CONF>/],
    ['two <users> in one realm', `${head}<CONF><aaa><realms><realm><users></users><users></users></realm></realms></aaa></CONF>\n`, /the <realm> at line 2 has several <users> sections/],
    ['mismatched tags', `${head}<CONF><aaa><realms><realm><users><user><name>xfer2</name></users></user></realm></realms></aaa></CONF>\n`, /does not close/],
    ['a root other than <CONF>', `${head}<config><users/></config>\n`, /not <CONF>/],
    ['a user name written with a character reference', `${head}${realm('<user><name>xfer&#50;</name></user>')}`, /entities/],
    ['an unterminated comment', `${head}<CONF><!-- <users></CONF>\n`, /unterminated/],
    ['text after the root element', `${head}<CONF></CONF>\ntrailing text\n`, /outside the root/],
    ['an unclosed element', `${head}<CONF><aaa>\n`, /never closed/],
    ['an empty file', '', /empty/],
  ];
  // One batch for all cases; each test checks its own step.
  const workdirs = cases.map(([name, text]) => workdir(root, `refused-${name.replace(/[^a-z0-9]+/gi, '-')}`, text));
  let batch: Promise<StepResult[]> | undefined;
  const results = () => (batch ??= runSteps(root, workdirs.map((w) => ({ shell: DASH, script: install, w }))));

  test.concurrent.each(cases.map((c, i) => [...c, i] as const))('%s', async (_name, text, message, i) => {
    const r = (await results())[i];
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(same(r.conf, text)).toBe(true);
    expect(r.calls).toEqual([]);
    expect(r.siblings).toEqual([]);
  });

  test.concurrent('a symbolic link as aspera.conf', async () => {
    const w = workdir(root, 'refused-symlink', fixture('no-aaa.conf'));
    const real = join(w.dir, 'real.conf');
    writeFileSync(real, fixture('no-aaa.conf'));
    rmSync(w.conf);
    symlinkSync(real, w.conf);
    const [r] = await runSteps(root, [{ shell: DASH, script: install, w }]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/symbolic link/);
    expect(readFileSync(real, 'utf8')).toBe(fixture('no-aaa.conf'));
  });

  test.concurrent('a lock that records no holder (an earlier version, or a run killed as it took it)', async () => {
    const w = workdir(root, 'refused-locked', fixture('no-aaa.conf'));
    mkdirSync(`${w.conf}.aspera-cross-account.lock`);
    const [r] = await runSteps(root, [{ shell: DASH, script: install, w }]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^aspera-cross-account: error: \S+\.lock is held by another run editing \S+, or by a run that ended before recording itself \(remove that directory if no run is in progress\): wait for it and run again\. Nothing was changed$/m);
    expect(r.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
    expect(r.text).toBe(fixture('no-aaa.conf'));
    expect(r.siblings).toEqual(['aspera.conf.aspera-cross-account.lock']);
  });

  test.concurrent('install without aspera.conf fails; uninstall without it has nothing to do', async () => {
    const w = workdir(root, 'no-conf', '');
    rmSync(w.conf);
    const [i, u] = await runSteps(root, [
      { shell: DASH, script: install, w },
      { shell: DASH, script: uninstall, w },
    ]);
    expect(i.status).not.toBe(0);
    expect(i.stderr).toMatch(/does not exist/);
    ok(u);
    expect(u.stdout).toMatch(/nothing to remove/);
    expect(u.siblings).toEqual([]);
  });
});

describe('reconciling with what the state file records', () => {
  test.concurrent('a grant removed from the config: the next install restores that user, uninstall the rest', async () => {
    const original = fixture('hsts-realm.conf');
    const w = workdir(root, 'reconcile-shrink', original);
    const [both, shrunk, removed] = await runSteps(root, [
      { shell: DASH, script: install, w },
      { shell: DASH, script: installXfer2Only, w },
      { shell: DASH, script: uninstall, w },
    ]);
    ok(both);
    ok(shrunk);
    expect(docrootOf(shrunk.text, 'xfer2').absolute).toBe(XFER2_DOCROOT);
    expect(rawStanzas(shrunk.text, 'xfer3')).toEqual(rawStanzas(original, 'xfer3'));
    ok(removed);
    expect(removed.text).toBe(original);
  });

  test.concurrent('a changed docroot replaces ours, and uninstall still restores what was there before this stack', async () => {
    const original = fixture('hsts-realm.conf');
    const w = workdir(root, 'reconcile-change', original);
    const moved = testConfig({ grants: [{ transferUser: 'xfer2', bucket: 'partner.reports.example', prefix: 'incoming', access: 'read-only' }] });
    const installMoved = scriptFile(w.dir, 'install-moved.sh', renderHostScripts(moved, moved.asperaHosts[0]).install);
    const [first, changed, removed] = await runSteps(root, [
      { shell: DASH, script: installXfer2Only, w },
      { shell: DASH, script: installMoved, w },
      { shell: DASH, script: uninstall, w },
    ]);
    ok(first);
    ok(changed);
    expect(docrootOf(changed.text, 'xfer2')).toMatchObject({
      absolute: 's3://arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Faspera-cross-account-xfer2@s3.amazonaws.com/partner.reports.example/incoming;iam-role.external-id=aspera-7f3c9e21',
      write_allowed: 'false',
    });
    ok(removed);
    expect(removed.text).toBe(original);
  });

  test.concurrent('a docroot changed by hand after install is left alone by uninstall', async () => {
    const original = fixture('hsts-realm.conf');
    const w = workdir(root, 'reconcile-manual', original);
    const [installed] = await runSteps(root, [{ shell: DASH, script: install, w }]);
    ok(installed);
    writeFileSync(w.conf, installed.text.replace(XFER2_DOCROOT, '/srv/manual'));
    const [r] = await runSteps(root, [{ shell: DASH, script: uninstall, w }]);
    ok(r);
    expect(r.stderr).toMatch(/xfer2: docroot was changed outside this stack since it was installed; left as it is/);
    expect(docrootOf(r.text, 'xfer2').absolute).toBe('/srv/manual');
    expect(rawStanzas(r.text, 'xfer3')).toEqual(rawStanzas(original, 'xfer3'));
    expect(r.siblings).not.toContain(STATE);
  });

  test.concurrent('without ASPERA_CONF the script edits the path rendered from asperaConfPath', async () => {
    const w = workdir(root, 'default-path', fixture('no-aaa.conf'));
    const here = renderHostScripts(config, { ...config.asperaHosts[0], asperaConfPath: w.conf });
    const r = await runAsync(DASH, [scriptFile(w.dir, 'install-here.sh', here.install)], { PATH: `${w.bin}:/usr/bin:/bin` });
    expect(r.status).toBe(0);
    expect(docrootOf(readFileSync(w.conf, 'utf8'), 'xfer2').absolute).toBe(XFER2_DOCROOT);
  });
});

describe('the script\'s own file: it will not run from one that someone else could rewrite', () => {
  // Terraform uploads the script, makes it mode 0777 and runs it; it then runs again as root. Who
  // else can write the file (through a directory they may enter), or swap it (in a directory they
  // may write without the sticky bit), decides what root runs.
  // The reason given, and the advice: make a directory private, but never a shared (sticky) one.
  const cases: Array<[string, number, number, RegExp | null]> = [
    ['0777 in a private directory (Terraform, in a 0700 home directory)', 0o777, 0o700, null],
    ['0777 in a directory everyone may enter (a 0755 home directory)', 0o777, 0o755, /every user can rewrite it \(file -rwxrwxrwx, directory drwxr-xr-x\): make (\S+) private to its owner \(chmod 700 \1;/],
    ['0777 in /tmp-like 1777 (Terraform\'s default script_path)', 0o777, 0o1777, /every user can rewrite it \(file -rwxrwxrwx, directory drwxrwxrwt\): run it from a directory only its owner may enter, not a shared one like \S+$/m],
    ['0777 in a directory its group may enter (a 0750 home directory)', 0o777, 0o750, /its group can rewrite it \(file -rwxrwxrwx, directory drwxr-x---\): make \S+ private/],
    ['0755 in a directory everyone may write to', 0o755, 0o777, /others can replace it in its directory \(file -rwxr-xr-x, directory drwxrwxrwx\): make \S+ private/],
    ['0755 in a sticky 1777 directory', 0o755, 0o1777, null],
  ];
  const runs = SHELLS.flatMap((shell) =>
    cases.map(([, fileMode, dirMode], i) => {
      const dir = join(root, `own-file-${short(shell)}-${i}`);
      mkdirSync(dir);
      chmodSync(dir, dirMode);
      const script = scriptFile(dir, 'install.sh', scripts.install);
      chmodSync(script, fileMode);
      return { shell, script, w: workdir(root, `own-file-conf-${short(shell)}-${i}`, fixture('no-aaa.conf')) };
    }),
  );
  let batch: Promise<StepResult[]> | undefined;
  const results = () => (batch ??= runSteps(root, runs));

  test.concurrent.each(SHELLS.flatMap((shell) => cases.map((c, i) => [short(shell), ...c, i] as const)))('%s: %s', async (shell, _name, _file, _dir, refused, i) => {
    const r = (await results())[SHELLS.findIndex((s) => short(s) === shell) * cases.length + i];
    if (refused === null) {
      ok(r);
      expect(docrootOf(r.text, 'xfer2').absolute).toBe(XFER2_DOCROOT);
      return;
    }
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/refusing to run .*install\.sh as root/);
    expect(r.stderr).toMatch(refused);
    // The directory is named in full.
    expect(r.stderr).toContain(` ${join(root, `own-file-${shell}-${i}`)}`);
    expect(r.text).toBe(fixture('no-aaa.conf'));
    expect(r.calls).toEqual([]);
    expect(r.siblings).toEqual([]);
  });
});

test.concurrent('needs only sh, awk and coreutils; restarts with service when systemctl is missing', async () => {
  const w = workdir(root, 'minimal-path', fixture('hsts-realm.conf'));
  // Programs from coreutils, plus awk: nothing else is on PATH (`id` is the stand-in that says root).
  const sandbox = minimalPath(w.dir);
  fakeTool(sandbox, 'service', join(w.dir, 'calls.log'));
  const env = { PATH: sandbox, ASPERA_CONF: w.conf };
  const installed = await runAsync(DASH, [install], env);
  expect(installed.status).toBe(0);
  expect(docrootOf(readFileSync(w.conf, 'utf8'), 'xfer2').absolute).toBe(XFER2_DOCROOT);
  const removed = await runAsync(DASH, [uninstall], env);
  expect(removed.status).toBe(0);
  expect(readFileSync(w.conf, 'utf8')).toBe(fixture('hsts-realm.conf'));
  expect(w.calls()).toEqual(['service asperanoded restart', 'service asperanoded restart']);
});

describe('hostile values stay data', () => {
  test.concurrent('every character the schema allows in External ID, role name, bucket and prefix', async () => {
    const hostile = testConfig({
      stackName: 'Stack-2',
      externalId: 'Ext+ID=1,2.3@host:path/x-y_z',
      s3Endpoint: 's3.eu-west-1.amazonaws.com',
      grants: [{ transferUser: 'xfer_2-b', bucket: 'partner.reports.example', prefix: 'in.coming/a-b_c/2024.q1/', access: 'read-write', roleName: 'Aspera+Role=1,x.y@z-w_v' }],
    });
    const original = fixture('hsts-realm.conf');
    const w = workdir(root, 'hostile-schema', original);
    const own = renderHostScripts(hostile, hostile.asperaHosts[0]);
    const [installed, removed] = await runSteps(root, [
      { shell: DASH, script: scriptFile(w.dir, 'install.sh', own.install), w },
      { shell: DASH, script: scriptFile(w.dir, 'uninstall.sh', own.uninstall), w },
    ]);
    ok(installed);
    expect(docrootOf(installed.text, 'xfer_2-b').absolute).toBe(
      's3://arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2FAspera%2BRole%3D1%2Cx.y%40z-w_v@s3.eu-west-1.amazonaws.com/partner.reports.example/in.coming/a-b_c/2024.q1;iam-role.external-id=Ext%2BID%3D1%2C2.3%40host%3Apath%2Fx-y_z',
    );
    // One state file per aspera.conf, whatever the stack's name (the stack is in its records).
    expect(installed.siblings).toContain(STATE);
    ok(removed);
    expect(removed.text).toBe(original);
  });

  test.concurrent.each(SHELLS)('shell and XML syntax in a docroot is inert under %s (renderer fed directly, past the schema)', async (shell) => {
    const w = workdir(root, `hostile-raw-${short(shell)}`, fixture('hsts-realm.conf'));
    const canary = join(w.dir, 'pwned');
    // Quotes, command substitution, backquotes, ";" and markup: none may run or break the XML.
    const hostile = `s3://x'$(touch\${IFS}${canary}1)'\`touch\${IFS}${canary}2\`;a=b&c>d"e';touch\${IFS}${canary}3;'<f>`;
    const grant: ScriptGrant = { transferUser: 'xfer2', readAllowed: true, writeAllowed: false, dirAllowed: true, docrootXml: xmlEscape(hostile) };
    // A raw quote in the data block (not XML-escaped) must stay data too.
    const raw = `s3://y'$(touch\${IFS}${canary}4)'"&amp;"`;
    const render = (g: ScriptGrant) => renderScript('install', 'aspera-cross-account:111111111111:222222222222', '/opt/aspera/etc/aspera.conf', [g]);
    const [escaped, quoted] = await runSteps(root, [
      { shell, script: scriptFile(w.dir, 'install.sh', render(grant)), w },
      { shell, script: scriptFile(w.dir, 'install-raw.sh', render({ ...grant, docrootXml: raw })), w },
    ]);
    ok(escaped);
    expect(docrootOf(escaped.text, 'xfer2')).toMatchObject({ absolute: hostile, write_allowed: 'false' });
    ok(quoted);
    expect(docrootOf(quoted.text, 'xfer2').absolute).toBe(`s3://y'$(touch\${IFS}${canary}4)'"&"`);
    for (const n of [1, 2, 3, 4]) expect(existsSync(`${canary}${n}`)).toBe(false);
  });

  test.each([
    ['a user name with a space', { transferUser: 'x y' }],
    ['a user name with a quote', { transferUser: "x'y" }],
    ['a docroot with a space', { docrootXml: 's3://a b' }],
    ['a docroot with a newline', { docrootXml: 's3://a\nb' }],
    ['an unescaped "<"', { docrootXml: 's3://a<b' }],
  ])('the renderer refuses %s', (_name, override) => {
    const grant: ScriptGrant = { transferUser: 'xfer2', readAllowed: true, writeAllowed: true, dirAllowed: true, docrootXml: 's3://ok', ...override };
    expect(() => renderScript('install', 'aspera-cross-account:111111111111:222222222222', '/opt/aspera/etc/aspera.conf', [grant])).toThrow(/cannot render the Aspera host script/);
  });

  test.each([
    ['a stack name with a space', 'a b:111111111111:222222222222', '/opt/aspera/etc/aspera.conf'],
    ['a stack identity without the accounts', 'aspera-cross-account', '/opt/aspera/etc/aspera.conf'],
    ['a stack identity with a short account', 'aspera-cross-account:11111111111:222222222222', '/opt/aspera/etc/aspera.conf'],
    ['a relative aspera.conf path', 'aspera-cross-account:111111111111:222222222222', 'etc/aspera.conf'],
    ['an aspera.conf path with a space', 'aspera-cross-account:111111111111:222222222222', '/opt/a b/aspera.conf'],
  ])('the renderer refuses %s', (_name, stack, path) => {
    expect(() => renderScript('uninstall', stack, path, [])).toThrow(/cannot render the Aspera host script/);
  });

  test.concurrent('shellQuote round-trips any value through a real shell', async () => {
    const values = ["it's", '$(id)', '`id`', 'a\\b', '\n', "'", "''", 'a\'"b', '${HOME}', '!*?[]'];
    const r = await runAsync(DASH, ['-c', values.map((v) => `printf '%s\\0' ${shellQuote(v)}`).join('; ')], {});
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(values);
  });
});

describe('the rendered scripts', () => {
  const other = testConfig({
    stackName: 'Other-Stack',
    externalId: 'Ext+ID=1,2.3@host:path/x-y_z',
    asperaHosts: [{ host: 'aspera.example.com', user: 'root', asperaConfPath: '/etc/aspera/aspera.conf', hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl' }],
  });
  const rendered = [scripts, renderHostScripts(other, other.asperaHosts[0])];

  test('config values appear only as single-quoted assignments in the data block; the logic is constant', () => {
    for (const both of rendered) {
      for (const text of [both.install, both.uninstall]) {
        const cut = text.indexOf(SCRIPT_LOGIC);
        expect(cut).toBeGreaterThan(0);
        expect(text.slice(cut)).toBe(SCRIPT_LOGIC);
        const data = text.slice(0, cut).replace(/^GRANTS='[^']*'$/m, '');
        for (const line of data.split('\n')) expect(line).toMatch(/^(#.*|set -eu|[A-Z_]+='[^']*'|)$/);
      }
    }
    expect(rendered[1].install).toContain("DEFAULT_ASPERA_CONF='/etc/aspera/aspera.conf'");
    expect(rendered[1].uninstall).toMatch(/^GRANTS=''$/m);
  });
});

describe('a host configured by an earlier version (state file without a format line, stanzas in a top-level <users>)', () => {
  // What that version wrote, by hand: its state file format (one "user" record per docroot, no
  // format line) and its stanza, appended to a <users> directly under <CONF>.
  const legacyConf = (base: string) =>
    base.replace('</CONF>', `    <users>\n        <user>\n            <name>xfer2</name>\n            <file_system>\n                <access>\n                    <paths>\n                        <path>\n                            <absolute>${XFER2_DOCROOT}</absolute>\n                            <read_allowed>true</read_allowed>\n                            <write_allowed>true</write_allowed>\n                            <dir_allowed>true</dir_allowed>\n                        </path>\n                    </paths>\n                </access>\n            </file_system>\n        </user>\n    </users>\n</CONF>`);
  const legacyState = `# aspera-cross-account stack aspera-cross-account: what it changed in aspera.conf, for its uninstall. Do not edit.\nuser\txfer2\t${XFER2_DOCROOT}\tusers\t-\t-\t-\t-\n`;

  test.concurrent.each([
    ['install', () => install],
    ['uninstall', () => uninstall],
  ])('%s refuses, says what to do by hand, and changes nothing', async (_action, script) => {
    const text = legacyConf(fixture('no-aaa.conf'));
    const w = workdir(root, `legacy-state-${_action}`, text);
    writeFileSync(join(w.dir, 'etc', STATE), legacyState);
    const [r] = await runSteps(root, [{ shell: DASH, script: script(), w }]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/was written by an earlier version of aspera-cross-account, which put the docroots of xfer2 in a <users> section directly under <CONF>/);
    expect(r.stderr).toMatch(/By hand: delete the <user> stanzas of xfer2 from that top-level <users> \(or put back the aspera\.conf\.bak\.\* copy taken before the first install\), then delete \S+aspera\.conf\.aspera-cross-account\.state and run again/);
    expect(same(r.conf, text)).toBe(true);
    expect(readFileSync(join(w.dir, 'etc', STATE), 'utf8')).toBe(legacyState);
    expect(r.calls).toEqual([]);
  });
});

describe('restarting asperanoded the way each documented version does', () => {
  // A PATH with only coreutils and awk, plus the restart tools a case provides: systemctl (HSTS
  // 4.x), service (Aspera On Demand 3.7). /etc/init.d/asperanoded is the host suite's to test.
  const sandboxed = (name: string, tools: Array<[string, number]>) => {
    const w = workdir(root, `restart-${name}`, fixture('hsts-realm.conf'));
    const sandbox = minimalPath(w.dir);
    for (const [tool, exitCode] of tools) fakeTool(sandbox, tool, join(w.dir, 'calls.log'), exitCode);
    return { w, env: { PATH: sandbox, ASPERA_CONF: w.conf } };
  };

  test.concurrent.each([
    ['systemctl alone', [['systemctl', 0]], ['systemctl restart asperanoded'], 'systemctl restart asperanoded'],
    ['service alone', [['service', 0]], ['service asperanoded restart'], 'service asperanoded restart'],
    ['systemctl first when both are there', [['systemctl', 0], ['service', 0]], ['systemctl restart asperanoded'], 'systemctl restart asperanoded'],
    ['service after a failing systemctl (no systemd running)', [['systemctl', 1], ['service', 0]], ['systemctl restart asperanoded', 'service asperanoded restart'], 'service asperanoded restart'],
  ] as Array<[string, Array<[string, number]>, string[], string]>)('%s', async (name, tools, calls, said) => {
    const { w, env } = sandboxed(name.replace(/[^a-z]+/g, '-'), tools);
    const r = await runAsync(DASH, [install], env);
    expect(r.status).toBe(0);
    expect(w.calls()).toEqual(calls);
    expect(r.stdout).toContain(`restarting asperanoded: ${said}`);
    // Nothing changed: nothing restarts.
    const again = await runAsync(DASH, [install], env);
    expect(again.status).toBe(0);
    expect(w.calls()).toEqual(calls);
  });

  test.concurrent('none works: the file is updated, the run fails and says what it tried', async () => {
    const { w, env } = sandboxed('none', [['systemctl', 1], ['service', 1]]);
    const r = await runAsync(DASH, [install], env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no way to restart asperanoded worked \(tried systemctl, service and \/etc\/init\.d\/asperanoded, those present\)/);
    expect(r.stderr).toMatch(/is updated but asperanoded did not restart; fix that and re-run/);
    expect(w.calls()).toEqual(['systemctl restart asperanoded', 'service asperanoded restart']);
    expect(docrootOf(readFileSync(w.conf, 'utf8'), 'xfer2').absolute).toBe(XFER2_DOCROOT);
  });
});

test.concurrent('a file with 5,000 users: ours land in the realm, every other stanza is untouched, uninstall restores it', async () => {
  // The stanza shape of IBM's "Setting Up Transfer Users" (authorization, a docroot with flags),
  // repeated: a server with one transfer user per partner.
  const stanza = (i: number) =>
    `                <user>\n                    <name>partner${i}</name>\n                    <authorization><transfer><in><value>allow</value></in><out><value>allow</value></out></transfer></authorization>\n                    <file_system><access><paths><path><absolute>/data/partner${i}</absolute><read_allowed>true</read_allowed></path></paths></access></file_system>\n                </user>\n`;
  const users = Array.from({ length: 5000 }, (_, i) => stanza(i)).join('');
  const original = `<?xml version='1.0' encoding='UTF-8'?>\n<CONF version="2">\n    <server><server_name>aspera.example.com</server_name></server>\n    <aaa>\n        <realms>\n            <realm>\n            <users>\n${users}            </users>\n            </realm>\n        </realms>\n    </aaa>\n</CONF>\n`;
  const w = workdir(root, 'large', original);
  const installed = await runAsync(DASH, [install], envFor(w));
  expect([installed.status, installed.stderr]).toEqual([0, expect.any(String)]);
  const text = readFileSync(w.conf, 'utf8');
  // Our two stanzas were added after the last user; before and after them, the same bytes.
  const end = original.indexOf('            </users>');
  expect(text.slice(0, end)).toBe(original.slice(0, end));
  expect(text.endsWith(original.slice(end))).toBe(true);
  const added = text.slice(end, text.length - (original.length - end));
  // Read with the XML parser, in the file's own realm section without the 5,000 others.
  const ours = original.slice(0, original.indexOf('                <user>')) + added + original.slice(end);
  for (const user of OURS) {
    expect(placementOf(ours, user)).toEqual([IN_REALM]);
    expect(docrootOf(ours, user)).toEqual(DOCROOTS[user]);
  }
  expect(realmUsers(ours).map((u) => u.name)).toEqual(['xfer2', 'xfer3']);
  const removed = await runAsync(DASH, [uninstall], envFor(w));
  expect(removed.status).toBe(0);
  expect(readFileSync(w.conf, 'utf8')).toBe(original);
}, 60000);

describe('the awk program and the access-key functions live in their own files and are embedded when a script is rendered', () => {
  const shell = readFileSync(join(__dirname, '..', 'src', 'aspera', 'aspera-conf-edit.sh'), 'utf8');
  const awk = readFileSync(join(__dirname, '..', 'src', 'aspera', 'aspera-conf-edit.awk'), 'utf8');
  const accessKeys = readFileSync(join(__dirname, '..', 'src', 'aspera', 'node-api-access-keys.sh'), 'utf8');

  test('the rendered logic is the shell file with the awk file, byte for byte, as the program argument, and the access-key file in place of its marker line', () => {
    expect(SCRIPT_LOGIC).toContain(`awk '\n${awk}'\n}`);
    expect(SCRIPT_LOGIC).toContain(`\n${accessKeys}`);
    expect(SCRIPT_LOGIC.replace(awk, '@ASPERA_CONF_EDIT_AWK@\n').replace(accessKeys, '# @NODE_API_ACCESS_KEYS_SH@\n')).toBe(shell);
    expect(scripts.install).toContain(awk);
    expect(scripts.install).toContain(accessKeys);
  });

  test('a missing access-key marker is refused', () => {
    expect(() => embedAccessKeys(shell.replace('# @NODE_API_ACCESS_KEYS_SH@\n', ''), accessKeys)).toThrow(/must hold the line # @NODE_API_ACCESS_KEYS_SH@ once/);
  });

  test('a single quote in the awk program, or a missing marker, is refused', () => {
    expect(() => embedAwk(shell, `${awk}# it's\n`)).toThrow(/contains a single quote/);
    expect(() => embedAwk(shell.replace('@ASPERA_CONF_EDIT_AWK@', ''), awk)).toThrow(/must hold the line @ASPERA_CONF_EDIT_AWK@ once/);
  });
});
