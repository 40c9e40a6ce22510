/**
 * End to end over a real SSH server: the rendered scripts are uploaded the way Terraform's
 * remote-exec does it (SCP to /tmp/terraform_<n>.sh, chmod 0777, execute) and run on "the host"
 * (this machine, through sshd on 127.0.0.1). Once as root, once as an unprivileged user that
 * must go through `sudo -n`.
 */
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderHostScripts } from '../src/aspera/host-scripts';
import { docrootOf, fixture, scriptFile, tempRoot, testConfig, workdir, XFER2_DOCROOT, XFER3_DOCROOT, type Workdir } from './helpers/aspera-host';
import { startSshd, type Sshd } from './helpers/sshd';

const RESTART = 'systemctl restart asperanoded';
const STATE = 'aspera.conf.aspera-cross-account.state';

let root: string;
let sshd: Sshd;
let fakes: Workdir;

beforeAll(async () => {
  root = tempRoot('ssh');
  // A workdir only for its bin/ with the logging fake systemctl, first on every session's PATH.
  fakes = workdir(root, 'fakes', '');
  sshd = await startSshd(`${fakes.bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`);
});
afterAll(async () => {
  await sshd?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** What remote-exec does with `script`: upload to /tmp/terraform_<n>.sh, chmod 0777, run it. */
async function remoteExec(user: string, script: string, envPrefix = '') {
  const remote = `/tmp/terraform_${randomInt(1e9)}.sh`;
  const uploaded = await sshd.upload(user, script, remote);
  if (uploaded.status !== 0) throw new Error(`upload failed: ${uploaded.stderr}`);
  try {
    return await sshd.ssh(user, `chmod 0777 ${remote} && ${envPrefix}${remote}`);
  } finally {
    rmSync(remote, { force: true });
  }
}

test('as root: one session installs every docroot; uninstall restores the file', async () => {
  const original = fixture('several-users.conf');
  const w = workdir(root, 'as-root', original);
  const config = testConfig();
  const scripts = renderHostScripts(config, { ...config.asperaHosts[0], user: 'root', asperaConfPath: w.conf });
  sshd.authorize('root');
  const calls = fakes.calls().length;

  const installed = await remoteExec('root', scriptFile(w.dir, 'install.sh', scripts.install));
  expect(installed.stderr).not.toMatch(/error/);
  expect(installed.status).toBe(0);
  expect(installed.stdout).not.toMatch(/sudo/);
  const text = readFileSync(w.conf, 'utf8');
  expect(docrootOf(text, 'xfer2')).toMatchObject({ absolute: XFER2_DOCROOT, write_allowed: 'true' });
  expect(docrootOf(text, 'xfer3')).toMatchObject({ absolute: XFER3_DOCROOT, write_allowed: 'false' });
  expect(fakes.calls().slice(calls)).toEqual([RESTART]);

  const removed = await remoteExec('root', scriptFile(w.dir, 'uninstall.sh', scripts.uninstall));
  expect(removed.status).toBe(0);
  expect(readFileSync(w.conf, 'utf8')).toBe(original);
  expect(fakes.calls().slice(calls)).toEqual([RESTART, RESTART]);
});

describe('as an unprivileged user', () => {
  const user = `aspt${randomInt(1e6)}`;
  const sudoers = `/etc/sudoers.d/aspera-test-${user}`;
  let created = false;

  beforeAll(() => {
    // "*" as the password: no password login, but not a locked account (sshd refuses those).
    const r = spawnSync('useradd', ['-M', '-s', '/bin/sh', '-p', '*', user], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`useradd failed: ${r.stderr}`);
    created = true;
    sshd.authorize(user);
  });
  afterAll(async () => {
    rmSync(sudoers, { force: true });
    // userdel refuses while the user still has a session open.
    await sshd.disconnect(user);
    if (created) {
      const r = spawnSync('userdel', [user], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`userdel ${user} failed: ${r.stderr}`);
    }
  });

  test('without passwordless sudo: refuses with a clear message and changes nothing', async () => {
    const original = fixture('no-users.conf');
    const w = workdir(root, 'no-sudo', original);
    const config = testConfig();
    const scripts = renderHostScripts(config, { ...config.asperaHosts[0], user, asperaConfPath: w.conf });
    const r = await remoteExec(user, scriptFile(w.dir, 'install.sh', scripts.install));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`${user} is not root and may not use sudo without a password`));
    expect(readFileSync(w.conf, 'utf8')).toBe(original);
  });

  test('with NOPASSWD sudo: re-executes with sudo -n, as root, passing ASPERA_CONF on', async () => {
    const staged = join(root, 'sudoers-staged');
    // sudo's secure_path replaces PATH: put the fake systemctl first there too.
    writeFileSync(
      staged,
      `Defaults:${user} secure_path="${fakes.bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"\n${user} ALL=(root) NOPASSWD: ALL\n`,
      { mode: 0o440 },
    );
    const check = spawnSync('visudo', ['-c', '-f', staged], { encoding: 'utf8' });
    expect(check.status).toBe(0);
    renameSync(staged, sudoers);

    const original = fixture('user-local-docroot.conf');
    const w = workdir(root, 'with-sudo', original);
    const config = testConfig();
    const scripts = renderHostScripts(config, { ...config.asperaHosts[0], user, asperaConfPath: w.conf });
    const calls = fakes.calls().length;

    const installed = await remoteExec(user, scriptFile(w.dir, 'install.sh', scripts.install));
    expect(installed.status).toBe(0);
    expect(installed.stdout).toMatch(/re-executing as root with sudo -n/);
    expect(docrootOf(readFileSync(w.conf, 'utf8'), 'xfer2').absolute).toBe(XFER2_DOCROOT);
    const state = statSync(join(w.dir, 'etc', STATE));
    expect([state.uid, state.mode & 0o777]).toEqual([0, 0o600]);
    expect(fakes.calls().slice(calls)).toEqual([RESTART]);

    // Rendered for the default path, which does not exist here: only ASPERA_CONF, carried
    // through sudo, can point the uninstall at the file.
    const elsewhere = renderHostScripts(config, { ...config.asperaHosts[0], user }).uninstall;
    expect(existsSync(config.asperaHosts[0].asperaConfPath)).toBe(false);
    const removed = await remoteExec(user, scriptFile(w.dir, 'uninstall.sh', elsewhere), `ASPERA_CONF=${w.conf} `);
    expect(removed.status).toBe(0);
    expect(readFileSync(w.conf, 'utf8')).toBe(original);
    expect(fakes.calls().slice(calls)).toEqual([RESTART, RESTART]);
  });
});
