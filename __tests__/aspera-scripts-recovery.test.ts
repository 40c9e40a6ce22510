/**
 * How the host scripts recover from runs that did not finish: a lock whose holder is gone is taken
 * over, one whose holder runs is not; a run interrupted while asuserdata validated the new file
 * leaves a pending restart that the next run honours only for a file asuserdata accepts as it is
 * on disk. Scripts run for real under dash, with fake tools that log their calls.
 */
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { renderHostScripts } from '../src/aspera/host-scripts';
import { fakeTool, fixture, runSteps, scriptFile, tempRoot, testConfig, workdir } from './helpers/aspera-host';
import { POSIX_SHELL } from './helpers/unprivileged';

const root = tempRoot('recovery');
afterAll(() => rmSync(root, { recursive: true, force: true }));
const config = testConfig();
const install = scriptFile(root, 'install.sh', renderHostScripts(config, config.asperaHosts[0]).install);
const LOCK = 'aspera.conf.aspera-cross-account.lock';
const RESTART = 'systemctl restart asperanoded';
// uname -n, as the script records it.
const HOST = hostname();

test.concurrent('a lock whose holder is gone is taken over, with a warning, and the run proceeds', async () => {
  const w = workdir(root, 'dead-holder', fixture('no-aaa.conf'));
  mkdirSync(join(w.dir, 'etc', LOCK));
  // A pid above the kernel's maximum (4,194,304) never runs.
  writeFileSync(join(w.dir, 'etc', LOCK, 'owner'), `4194305 12345 ${HOST}\n`);
  const [r] = await runSteps(root, [{ shell: POSIX_SHELL, script: install, w }]);
  expect(r.status).toBe(0);
  expect(r.stderr).toContain(`warning: took over the lock ${w.conf}.aspera-cross-account.lock of a run that is gone (pid start host: 4194305 12345 ${HOST})`);
  expect(r.siblings.filter((f) => f.includes('lock'))).toEqual([]);
  expect(r.calls).toEqual([RESTART]);
});

test.concurrent('a lock whose holder runs is left alone: refused, naming the holder', async () => {
  const w = workdir(root, 'live-holder', fixture('no-aaa.conf'));
  mkdirSync(join(w.dir, 'etc', LOCK));
  const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
  const start = stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[19];
  const owner = `${process.pid} ${start} ${HOST}`;
  writeFileSync(join(w.dir, 'etc', LOCK, 'owner'), `${owner}\n`);
  const [r] = await runSteps(root, [{ shell: POSIX_SHELL, script: install, w }]);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain(`is held by the run "${owner}" (pid start host), another run editing ${w.conf}: wait for it and run again. Nothing was changed`);
  expect(r.text).toBe(fixture('no-aaa.conf'));
  expect(r.calls).toEqual([]);
});

test.concurrent('interrupted while asuserdata validates: no restart until asuserdata accepts the file as it is on disk', async () => {
  const w = workdir(root, 'interrupted', fixture('no-aaa.conf'));
  const log = join(w.dir, 'calls.log');
  const verdict = join(w.dir, 'verdict');
  // First call: the run is killed (SIGTERM to the script) during validation. Then it answers what
  // the file "verdict" says.
  fakeTool(w.bin, 'asuserdata', log, 0, `if [ ! -e '${w.dir}/killed' ]; then : > '${w.dir}/killed'; kill -TERM $PPID; sleep 1; exit 0; fi\nexit "$(cat '${verdict}')"`);
  writeFileSync(verdict, '1');
  const [killed, rejected] = await runSteps(root, [
    { shell: POSIX_SHELL, script: install, w },
    { shell: POSIX_SHELL, script: install, w },
  ]);
  expect(killed.status).toBe(143);
  expect(killed.stderr).toMatch(/error: stopped while validating the new aspera\.conf \(exit status 143\); \S+ is the new version: the next run validates it before any restart/);
  expect(killed.siblings).toContain('aspera.conf.aspera-cross-account.restart-pending');
  // The next run finds nothing to change, but a restart pending: it validates first, and the
  // file is rejected: no restart.
  expect(rejected.status).not.toBe(0);
  expect(rejected.stdout).toContain('nothing changed');
  expect(rejected.stderr).toContain('rejects');
  expect(rejected.calls).toEqual(['asuserdata -v', 'asuserdata -v']);
  writeFileSync(verdict, '0');
  const [accepted] = await runSteps(root, [{ shell: POSIX_SHELL, script: install, w }]);
  expect(accepted.status).toBe(0);
  expect(accepted.calls).toEqual(['asuserdata -v', 'asuserdata -v', 'asuserdata -v', RESTART]);
  expect(accepted.siblings).not.toContain('aspera.conf.aspera-cross-account.restart-pending');
});
