/**
 * The awk half of the host script (src/aspera/aspera-conf-edit.awk), linted the way only a run
 * can: gawk --lint reports uninitialized values, substr() past the end of a string and the like
 * while it executes, so the program runs in every mode on every aspera.conf fixture. It also runs
 * under gawk --posix (no gawk extensions) and must give mawk's bytes (Debian's default awk).
 * Needs gawk (installed by .ci/run).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scriptGrants } from '../../src/aspera/host-scripts';
import { FIXTURES, testConfig } from '../helpers/aspera-host';

const AWK = join(__dirname, '..', '..', 'src', 'aspera', 'aspera-conf-edit.awk');
const config = testConfig();
// The grant table exactly as the rendered script hands it to awk.
const GRANTS = `\n${scriptGrants(config).map((g) => [g.transferUser, g.readAllowed, g.writeAllowed, g.dirAllowed, g.docrootXml].join(' ')).join('\n')}\n`;
const dir = mkdtempSync(join(tmpdir(), 'aspera-awk-lint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(awk: string[], mode: string, confIn: string, stateIn: string, stateOut: string, grants: string) {
  const r = spawnSync(awk[0], [...awk.slice(1), '-f', AWK], {
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin', LC_ALL: 'C', MODE: mode, CONF_IN: confIn, STATE_IN: stateIn, STATE_OUT: stateOut, GRANTS: grants, STACK: config.stackName },
  });
  const lint = r.stderr.split('\n').filter((l) => l.startsWith('gawk:'));
  return { status: r.status, stdout: r.stdout, lint };
}

const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.conf'));

test.each(fixtures)('%s: apply, verify and uninstall raise no gawk --lint warning, and --posix gives mawk\'s bytes', (file) => {
  const conf = join(FIXTURES, file);
  const state = join(dir, `${file}.state`);
  const installed = run(['gawk', '--lint'], 'apply', conf, '/dev/null', state, GRANTS);
  expect(installed.lint).toEqual([]);
  const posix = run(['gawk', '--posix'], 'apply', conf, '/dev/null', join(dir, `${file}.posix-state`), GRANTS);
  const mawk = run(['mawk'], 'apply', conf, '/dev/null', join(dir, `${file}.mawk-state`), GRANTS);
  expect([posix.status, posix.stdout]).toEqual([mawk.status, mawk.stdout]);
  expect([installed.status, installed.stdout]).toEqual([mawk.status, mawk.stdout]);
  // Refused files (exit 1) end here; the others go on to the read-back and the uninstall.
  if (installed.status !== 3) {
    expect(installed.status).toBe(1);
    return;
  }
  const edited = join(dir, `${file}.edited`);
  writeFileSync(edited, installed.stdout);
  const verified = run(['gawk', '--lint'], 'verify', edited, state, '/dev/null', GRANTS);
  expect([verified.status, verified.lint]).toEqual([0, []]);
  const removed = run(['gawk', '--lint'], 'apply', edited, state, join(dir, `${file}.state2`), '');
  expect(removed.lint).toEqual([]);
  expect(removed.stdout).toBe(readFileSync(conf, 'utf8'));
});
