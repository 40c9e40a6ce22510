/**
 * Helpers of the host end-to-end suite (__tests__/host/, `npm run test:host`), which runs as root
 * on CI: what it needs installed, a stand-in restart command that logs, throwaway SSH users
 * with and without passwordless sudo, and a host reached as root (startRootHost).
 */
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakeTool, tempRoot } from './aspera-host';
import { type Sshd, startSshd } from './sshd';

const onPath = (tool: string): boolean => spawnSync('/bin/sh', ['-c', 'command -v "$1"', 'sh', tool], { encoding: 'utf8' }).status === 0;

/**
 * Throws naming everything the host suite needs and this machine lacks: root, Debian's sshd,
 * sudo, dash, shellcheck, gawk, setfattr and getfattr, chattr, mount, Terraform, useradd.
 * `.ci/run` installs them. A missing tool fails the suite: nothing is skipped.
 */
export function requireHostTools(): void {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (it starts sshd and creates users)');
  if (!existsSync('/usr/sbin/sshd')) missing.push('/usr/sbin/sshd (openssh-server)');
  for (const [tool, pkg] of [
    ['ssh', 'openssh-client'],
    ['ssh-keygen', 'openssh-client'],
    ['sudo', 'sudo'],
    ['visudo', 'sudo'],
    ['dash', 'dash'],
    ['shellcheck', 'shellcheck'],
    ['gawk', 'gawk'],
    // aspera-script-failures.test.ts: extended attributes and an ACL, the immutable flag, tmpfs.
    ['setfattr', 'attr'],
    ['getfattr', 'attr'],
    ['chattr', 'e2fsprogs'],
    ['mount', 'mount'],
    ['umount', 'mount'],
    ['terraform', 'Terraform'],
    ['useradd', 'passwd'],
    ['userdel', 'passwd'],
  ]) {
    if (!onPath(tool)) missing.push(`${tool} (${pkg})`);
  }
  if (missing.length > 0) throw new Error(`the host suite needs ${missing.join(', ')}: run it as root after \`bash .ci/run\` has installed them`);
}

/** A directory with a logging `systemctl`, to put first on the PATH of the "host"'s sessions. */
export interface RestartStub {
  readonly bin: string;
  /** The file the stub appends its calls to (other tools of a test may log events there too). */
  readonly log: string;
  /** Every call so far, one line each ("systemctl restart asperanoded"). */
  calls(): string[];
  /** How many of those restarted asperanoded. */
  restarts(): number;
}

export function restartStub(dir: string): RestartStub {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const log = join(dir, 'restarts.log');
  writeFileSync(log, '');
  fakeTool(bin, 'systemctl', log);
  const calls = () => readFileSync(log, 'utf8').split('\n').filter((l) => l !== '');
  return { bin, log, calls, restarts: () => calls().filter((c) => /\brestart\b/.test(c) && /\basperanoded\b/.test(c)).length };
}

/** A throwaway system user that logs in over `sshd` with the client key. */
export interface TestUser {
  readonly name: string;
  readonly home: string;
  /** Gives the user passwordless sudo, with `secureBin` first on sudo's secure_path. */
  allowSudo(secureBin: string): void;
  /** Takes sudo away, closes its connections, deletes the user (its home goes with `root`). */
  remove(): Promise<void>;
}

/**
 * Creates a user whose home directory lies under `root` (searchable on the way, 0700 at the end,
 * as on Amazon Linux; useradd would make it 0755 here) and authorizes the client key for it.
 */
export function createTestUser(root: string, sshd: Sshd): TestUser {
  const name = `aspt${randomInt(1e6)}`;
  const sudoers = `/etc/sudoers.d/aspera-test-${name}`;
  const homes = join(root, 'homes');
  mkdirSync(homes, { recursive: true });
  chmodSync(root, 0o711);
  chmodSync(homes, 0o711);
  const home = join(homes, name);
  // "*" as the password: no password login, but not a locked account (sshd refuses those).
  const r = spawnSync('useradd', ['-m', '-d', home, '-s', '/bin/sh', '-p', '*', name], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`useradd failed: ${r.stderr}`);
  chmodSync(home, 0o700);
  sshd.authorize(name);
  return {
    name,
    home,
    allowSudo(secureBin) {
      const staged = join(root, `sudoers-${name}`);
      // sudo's secure_path replaces PATH: the stubs go first there too.
      writeFileSync(staged, `Defaults:${name} secure_path="${secureBin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"\n${name} ALL=(root) NOPASSWD: ALL\n`, { mode: 0o440 });
      const check = spawnSync('visudo', ['-c', '-f', staged], { encoding: 'utf8' });
      if (check.status !== 0) throw new Error(`visudo rejects the test sudoers file: ${check.stdout}${check.stderr}`);
      renameSync(staged, sudoers);
    },
    async remove() {
      rmSync(sudoers, { force: true });
      // userdel refuses while the user still has a session open (exit 8): ours is closed here, and
      // sshd's process for a connection Terraform just closed may still be exiting, so wait for it
      // (up to 10 s).
      await sshd.disconnect(name);
      for (let attempt = 1; ; attempt++) {
        const gone = spawnSync('userdel', [name], { encoding: 'utf8' });
        if (gone.status === 0) return;
        if (gone.status !== 8 || attempt >= 100) throw new Error(`userdel ${name} failed (${gone.status}): ${gone.stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

/**
 * A throwaway "Aspera host" the suites reach as root over SSH: a temporary directory, the
 * restart stub first on the SSH session's PATH, an sshd on 127.0.0.1 that accepts root, and an
 * aspera.conf under <root>/etc. stop() removes the scripts Terraform left in root's home
 * directory (it blanks each one it ran and leaves the empty file), stops sshd and deletes it all.
 */
export interface RootHost {
  readonly root: string;
  readonly sshd: Sshd;
  readonly stub: RestartStub;
  /** <root>/etc/aspera.conf, holding `original`. */
  readonly conf: string;
  stop(): Promise<void>;
}

const scriptsLeft = (home: string): string[] => readdirSync(home).filter((f) => /^\.aspera-cross-account-\d+\.sh$/.test(f));

/** `sessionEnv`: variables sshd sets in every session on the "host" (startSshd). */
export async function startRootHost(prefix: string, original: string, options: { sessionEnv?: Readonly<Record<string, string>> } = {}): Promise<RootHost> {
  requireHostTools();
  const root = tempRoot(prefix);
  const stub = restartStub(join(root, 'stub'));
  const sshd = await startSshd(`${stub.bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, options.sessionEnv);
  sshd.authorize('root');
  const rootHome = (await sshd.ssh('root', 'pwd')).stdout.trim();
  // The script rightly refuses to run from a home directory others may enter.
  if ((statSync(rootHome).mode & 0o077) !== 0) throw new Error(`root's home directory ${rootHome} is open to others: this test needs it private, as on any usual system`);
  const leftBefore = new Set(scriptsLeft(rootHome));
  mkdirSync(join(root, 'etc'));
  const conf = join(root, 'etc', 'aspera.conf');
  writeFileSync(conf, original);
  return {
    root,
    sshd,
    stub,
    conf,
    async stop() {
      for (const f of scriptsLeft(rootHome)) if (!leftBefore.has(f)) rmSync(join(rootHome, f), { force: true });
      await sshd.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
