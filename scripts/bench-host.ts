/**
 * `npm run bench:host`: the host scripts at the scale the config allows, 5,000 grants on a
 * 5,000-user file in IBM's realm layout (__tests__/helpers/scale.ts), under dash with the system
 * awk: the wall time of an install that edits every user, a run that changes nothing, and the
 * uninstall. Targets on the 2-core development machine: install <= 3 s, no-op <= 1 s.
 * A fake systemctl and getent (every user known) stand in for the host; a fake `id` says root.
 * Usage: npm run bench:host [-- --runs N]. A script, not a test: timings depend on the machine.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderHostScripts } from '../src/aspera/host-scripts';
import { fakeTool, testConfig, workdir } from '../__tests__/helpers/aspera-host';
import { realmFileOfUsers, scaleGrants, SCALE_USERS } from '../__tests__/helpers/scale';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 5;
const root = mkdtempSync(join(tmpdir(), 'aspera-bench-host-'));
try {
  const config = testConfig(scaleGrants(SCALE_USERS));
  const scripts = renderHostScripts(config, config.asperaHosts[0]);
  const install = join(root, 'install.sh');
  const uninstall = join(root, 'uninstall.sh');
  writeFileSync(install, scripts.install);
  writeFileSync(uninstall, scripts.uninstall);
  const w = workdir(root, 'host', realmFileOfUsers(SCALE_USERS));
  fakeTool(w.bin, 'getent', join(w.dir, 'getent.log'), 0, 'shift 2; for u in "$@"; do printf "%s:x:1000:1000::/home/%s:/bin/sh\\n" "$u" "$u"; done');
  const time = (script: string): number => {
    const start = process.hrtime.bigint();
    const r = spawnSync('dash', [script], { env: { PATH: `${w.bin}:/usr/bin:/bin`, ASPERA_CONF: w.conf }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
    return Number(process.hrtime.bigint() - start) / 1e9;
  };
  const t: Record<'install' | 'noop' | 'uninstall', number[]> = { install: [], noop: [], uninstall: [] };
  for (let i = 0; i < RUNS; i++) {
    t.install.push(time(install));
    t.noop.push(time(install));
    t.uninstall.push(time(uninstall));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`host scripts, ${SCALE_USERS} grants on a ${SCALE_USERS}-user file, dash, ${RUNS} rounds (median wall time):`);
  console.log(`  install (every user edited): ${median(t.install).toFixed(2)} s (target <= 3 s)`);
  console.log(`  no-op (nothing changed):     ${median(t.noop).toFixed(2)} s (target <= 1 s)`);
  console.log(`  uninstall:                   ${median(t.uninstall).toFixed(2)} s`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
