/**
 * The last restart the host script tries, /etc/init.d/asperanoded restart (Aspera on Demand
 * 3.9.6, Shares on Demand 3.4.6), on a host with neither systemctl nor service. The path is
 * fixed, so the stub is put there in a mount namespace of the test's own (root: unshare, a bind
 * mount over /etc/init.d); the machine's /etc/init.d is never touched. The other restart paths are
 * tested unprivileged in aspera-scripts.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderHostScripts } from '../../src/aspera/host-scripts';
import { minimalPath, POSIX_SHELL } from '../helpers/unprivileged';
import { docrootOf, fixture, scriptFile, tempRoot, testConfig, workdir, XFER2_DOCROOT } from '../helpers/aspera-host';

test('with neither systemctl nor service, the script restarts asperanoded with /etc/init.d/asperanoded restart, once per change', () => {
  const root = tempRoot('initd');
  const config = testConfig();
  const scripts = renderHostScripts(config, config.asperaHosts[0]);
  const install = scriptFile(root, 'install.sh', scripts.install);
  const original = fixture('hsts-realm.conf');
  const w = workdir(root, 'host', original);
  // A PATH with coreutils and awk only.
  const sandbox = minimalPath(w.dir);
  const initd = join(w.dir, 'init.d');
  mkdirSync(initd);
  const log = join(w.dir, 'initd.log');
  writeFileSync(join(initd, 'asperanoded'), `#!/bin/sh\nprintf '%s\\n' "/etc/init.d/asperanoded $*" >> '${log}'\n`);
  chmodSync(join(initd, 'asperanoded'), 0o755);
  writeFileSync(log, '');
  // unshare and mount from the system's PATH; the script itself sees only the sandbox.
  const run = () =>
    spawnSync('/bin/sh', ['-c', `PATH=/usr/bin:/bin:/usr/sbin:/sbin exec unshare --mount --propagation private /bin/sh -c "mount --bind '${initd}' /etc/init.d && PATH='${sandbox}' ASPERA_CONF='${w.conf}' exec ${POSIX_SHELL} '${install}'"`], { encoding: 'utf8' });
  const first = run();
  expect([first.status, first.stderr]).toEqual([0, expect.any(String)]);
  expect(first.stdout).toContain('restarting asperanoded: /etc/init.d/asperanoded restart');
  expect(readFileSync(log, 'utf8')).toBe('/etc/init.d/asperanoded restart\n');
  expect(docrootOf(readFileSync(w.conf, 'utf8'), 'xfer2').absolute).toBe(XFER2_DOCROOT);
  const again = run();
  expect(again.status).toBe(0);
  expect(readFileSync(log, 'utf8')).toBe('/etc/init.d/asperanoded restart\n');
  // The machine's own /etc/init.d never saw the stub.
  expect(() => readFileSync('/etc/init.d/asperanoded')).toThrow();
});
