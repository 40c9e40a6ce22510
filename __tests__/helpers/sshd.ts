/**
 * A throwaway OpenSSH server for end-to-end tests: Debian's /usr/sbin/sshd on 127.0.0.1 with its
 * own port, host key, authorized_keys and config in a temp directory. Needs root (as on CI).
 * The client pins the server's host key (StrictHostKeyChecking=yes with a known_hosts of one line).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAsync, type RunResult } from './aspera-host';

export interface Sshd {
  readonly port: number;
  readonly dir: string;
  /** Lets `user` log in with the client key. */
  authorize(user: string): void;
  /** Runs `command` in one SSH session as `user`. */
  ssh(user: string, command: string): Promise<RunResult>;
  /** Uploads a local file with the SCP protocol, as Terraform's remote-exec does. */
  upload(user: string, local: string, remote: string): Promise<RunResult>;
  /** Closes the connection kept open for `user` (before the user is deleted, say). */
  disconnect(user: string): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function keygen(file: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'aspera-test', '-f', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
}

/** Starts sshd. `sessionPath` becomes PATH in every session (so fake system tools come first). */
export async function startSshd(sessionPath: string): Promise<Sshd> {
  if (process.getuid?.() !== 0) throw new Error('the SSH end-to-end tests start sshd and create a user: run them as root (as CI does)');
  const dir = mkdtempSync(join(tmpdir(), 'aspera-test-sshd-'));
  // sshd reads authorized_keys as the logging-in user: the path to them must be readable.
  chmodSync(dir, 0o755);
  const keys = join(dir, 'authorized_keys');
  mkdirSync(keys, { mode: 0o755 });
  keygen(join(dir, 'host_ed25519'));
  keygen(join(dir, 'client_ed25519'));
  const clientPub = readFileSync(join(dir, 'client_ed25519.pub'), 'utf8');
  const hostPub = readFileSync(join(dir, 'host_ed25519.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const port = await freePort();
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostPub}\n`);
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_ed25519')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${keys}/%u`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      // SHLVL=1: bash then skips ~/.bashrc for SSH commands, so the machine's own dotfiles
      // (root's may be slow, or change PATH) stay out of the sessions.
      `SetEnv PATH=${sessionPath} SHLVL=1`,
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  // Debian's sshd refuses to start without its privilege separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d) => (log += String(d)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; !(await accepting(port)); i++) {
    if (i > 100 || child.exitCode !== null) throw new Error(`sshd did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  const clientOptions = [
    '-F', '/dev/null',
    '-i', join(dir, 'client_ed25519'),
    '-o', 'IdentitiesOnly=yes',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'LogLevel=ERROR',
    // One connection per user, several sessions over it: as Terraform does, and much faster.
    '-o', 'ControlMaster=auto',
    '-o', `ControlPath=${join(dir, 'control-%r')}`,
    '-o', 'ControlPersist=60',
  ];
  const connected = new Set<string>();
  const env = { PATH: '/usr/bin:/bin' };
  const server: Sshd = {
    port,
    dir,
    authorize(user) {
      writeFileSync(join(keys, user), clientPub, { mode: 0o644 });
    },
    ssh(user, command) {
      connected.add(user);
      return runAsync('/usr/bin/ssh', [...clientOptions, '-p', String(port), `${user}@127.0.0.1`, command], env);
    },
    // -O: the classic SCP protocol ("scp -t" on the server), which is what Terraform speaks.
    upload(user, local, remote) {
      connected.add(user);
      return runAsync('/usr/bin/scp', ['-O', ...clientOptions, '-P', String(port), local, `${user}@127.0.0.1:${remote}`], env);
    },
    // Ends the background connection this helper opened for the user (by its control socket).
    async disconnect(user) {
      if (connected.delete(user)) await runAsync('/usr/bin/ssh', [...clientOptions, '-p', String(port), '-O', 'exit', `${user}@127.0.0.1`], env);
    },
    async stop() {
      for (const user of [...connected]) await server.disconnect(user);
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}
