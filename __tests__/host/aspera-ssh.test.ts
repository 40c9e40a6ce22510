/**
 * End to end over a real SSH server: the rendered scripts reach "the host" (this machine, through
 * sshd on 127.0.0.1) the way Terraform's remote-exec puts them there with this stack's script_path:
 * uploaded over SCP into the SSH user's home directory, made mode 0777, run by the same command
 * string on a terminal, then blanked (Terraform uploads an empty file over the script after a
 * success). Once as root, once as an unprivileged user that must go through `sudo -n`.
 */
import { randomInt } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { renderHostScripts, SCRIPT_PATH } from '../../src/aspera/host-scripts';
import { docrootOf, fixture, tempRoot, testConfig, workdir, XFER2_DOCROOT, XFER3_DOCROOT, type RunResult } from '../helpers/aspera-host';
import { createTestUser, requireHostTools, restartStub, type RestartStub, type TestUser } from '../helpers/host-suite';
import { startSshd, type Sshd } from '../helpers/sshd';

const RESTART = 'systemctl restart asperanoded';
const STATE = 'aspera.conf.aspera-cross-account.state';

let root: string;
let sshd: Sshd;
let fakes: RestartStub;

beforeAll(async () => {
  requireHostTools();
  root = tempRoot('ssh');
  // The logging fake systemctl, first on every session's PATH (and nothing else: the real `id`).
  fakes = restartStub(join(root, 'fakes'));
  sshd = await startSshd(`${fakes.bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`);
});
afterAll(async () => {
  await sshd?.stop();
  rmSync(root, { recursive: true, force: true });
});

interface Run extends RunResult {
  /** The script's file name in the user's home directory. */
  readonly file: string;
}

/**
 * What remote-exec does (Terraform's internal/builtin/provisioners/remote-exec and
 * internal/communicator/ssh): picks script_path with a random number for %RAND%, uploads the
 * script there, runs `chmod 0777 <path>`, runs `<path>` (both on a terminal), and after a success
 * uploads an empty file to the same path. Every path is relative to the home directory.
 */
async function remoteExec(user: string, script: string, env?: Record<string, string>): Promise<Run> {
  const path = SCRIPT_PATH.replace('%RAND%', String(randomInt(2 ** 31)));
  const uploaded = await sshd.upload(user, path, script);
  if (uploaded.status !== 0) throw new Error(`upload failed: ${uploaded.stderr}`);
  const chmod = await sshd.ssh(user, `chmod 0777 ${path}`, { terminal: true });
  if (chmod.status !== 0) throw new Error(`chmod failed: ${chmod.stdout}${chmod.stderr}`);
  const run = await sshd.ssh(user, path, { terminal: true, env });
  if (run.status === 0) {
    const blank = await sshd.upload(user, path, '');
    if (blank.status !== 0) throw new Error(`blank upload failed: ${blank.stderr}`);
  }
  return { ...run, file: posix.basename(path) };
}

describe('as root', () => {
  let home = '';
  const left: string[] = [];

  beforeAll(async () => {
    sshd.authorize('root');
    home = (await sshd.ssh('root', 'pwd')).stdout.trim();
    // The script rightly refuses to run from a home directory others may enter.
    if ((statSync(home).mode & 0o077) !== 0) throw new Error(`root's home directory ${home} is open to others (mode ${(statSync(home).mode & 0o777).toString(8)}): this test needs it private, as on any usual system`);
  });
  // The emptied scripts Terraform leaves behind, in a home directory that is not ours.
  afterAll(() => left.forEach((f) => rmSync(join(home, f), { force: true })));

  test('one session installs every docroot, the script runs from the home directory; uninstall restores the file', async () => {
    const original = fixture('hsts-realm.conf');
    const w = workdir(root, 'as-root', original);
    const config = testConfig();
    const scripts = renderHostScripts(config, { ...config.asperaHosts[0], user: 'root', asperaConfPath: w.conf });
    const calls = fakes.calls().length;

    const installed = await remoteExec('root', scripts.install);
    left.push(installed.file);
    expect(installed.stdout).not.toMatch(/error|sudo/);
    expect(installed.status).toBe(0);
    const text = readFileSync(w.conf, 'utf8');
    expect(docrootOf(text, 'xfer2')).toMatchObject({ absolute: XFER2_DOCROOT, write_allowed: 'true' });
    expect(docrootOf(text, 'xfer3')).toMatchObject({ absolute: XFER3_DOCROOT, write_allowed: 'false' });
    expect(fakes.calls().slice(calls)).toEqual([RESTART]);
    // It was in the home directory: what is left there is Terraform's empty follow-up upload.
    expect(installed.file).toMatch(/^\.aspera-cross-account-\d+\.sh$/);
    expect(statSync(join(home, installed.file)).size).toBe(0);

    const removed = await remoteExec('root', scripts.uninstall);
    left.push(removed.file);
    expect(removed.status).toBe(0);
    expect(readFileSync(w.conf, 'utf8')).toBe(original);
    expect(fakes.calls().slice(calls)).toEqual([RESTART, RESTART]);
  });
});

describe('as an unprivileged user', () => {
  let testUser: TestUser | undefined;
  let user = '';
  let home = '';
  let sudo = false;

  beforeAll(() => {
    testUser = createTestUser(root, sshd);
    ({ name: user, home } = testUser);
  });
  // The home directory goes with the test's directory.
  afterAll(async () => testUser?.remove());

  test('without passwordless sudo: refuses with a clear message and changes nothing', async () => {
    const original = fixture('no-aaa.conf');
    const w = workdir(root, 'no-sudo', original);
    const config = testConfig();
    const scripts = renderHostScripts(config, { ...config.asperaHosts[0], user, asperaConfPath: w.conf });
    const r = await remoteExec(user, scripts.install);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${user} is not root and may not use sudo without a password`));
    expect(readFileSync(w.conf, 'utf8')).toBe(original);
  });

  test('with NOPASSWD sudo: re-executes its file in the home directory with sudo -n, as root, passing ASPERA_CONF on', async () => {
    // sudo's secure_path replaces PATH: the fake systemctl goes first there too.
    testUser!.allowSudo(fakes.bin);
    sudo = true;

    const original = fixture('hsts-realm.conf');
    const w = workdir(root, 'with-sudo', original);
    const config = testConfig();
    const scripts = renderHostScripts(config, { ...config.asperaHosts[0], user, asperaConfPath: w.conf });
    const calls = fakes.calls().length;

    const installed = await remoteExec(user, scripts.install);
    expect(installed.status).toBe(0);
    expect(installed.stdout).toMatch(/re-running as root with sudo -n/);
    expect(docrootOf(readFileSync(w.conf, 'utf8'), 'xfer2').absolute).toBe(XFER2_DOCROOT);
    const state = statSync(join(w.dir, 'etc', STATE));
    expect([state.uid, state.mode & 0o777]).toEqual([0, 0o600]);
    expect(fakes.calls().slice(calls)).toEqual([RESTART]);
    expect(statSync(join(home, installed.file)).size).toBe(0);

    // Rendered for the default path, which does not exist here: only ASPERA_CONF, carried
    // through sudo, can point the uninstall at the file. The session has it from the start, so
    // the command stays the one Terraform runs.
    const elsewhere = renderHostScripts(config, { ...config.asperaHosts[0], user }).uninstall;
    expect(existsSync(config.asperaHosts[0].asperaConfPath)).toBe(false);
    const removed = await remoteExec(user, elsewhere, { ASPERA_CONF: w.conf });
    expect(removed.status).toBe(0);
    expect(readFileSync(w.conf, 'utf8')).toBe(original);
    expect(fakes.calls().slice(calls)).toEqual([RESTART, RESTART]);
  });

  test('a home directory others may enter: refuses before sudo (they could have rewritten the 0777 file) and says how to fix it', async () => {
    expect(sudo).toBe(true);
    const original = fixture('no-aaa.conf');
    const w = workdir(root, 'open-home', original);
    const config = testConfig();
    const scripts = renderHostScripts(config, { ...config.asperaHosts[0], user, asperaConfPath: w.conf });
    const calls = fakes.calls().length;
    chmodSync(home, 0o755);
    try {
      const r = await remoteExec(user, scripts.install);
      expect(r.status).not.toBe(0);
      expect(r.stdout).toMatch(/refusing to run \.\/\.aspera-cross-account-\d+\.sh as root: every user can rewrite it \(file -rwxrwxrwx, directory drwxr-xr-x\)/);
      expect(r.stdout).toContain(`chmod 700 ${home}`);
      expect(r.stdout).not.toMatch(/sudo/);
      expect(readFileSync(w.conf, 'utf8')).toBe(original);
      expect(fakes.calls().slice(calls)).toEqual([]);
    } finally {
      chmodSync(home, 0o700);
    }
  });
});
