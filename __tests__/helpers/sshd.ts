/**
 * A throwaway OpenSSH server for end-to-end tests: Debian's /usr/sbin/sshd on 127.0.0.1 with its
 * own port, host key, authorized_keys and config in a temp directory. Needs root (as on CI).
 * The client pins the server's host key (StrictHostKeyChecking=yes with a known_hosts of one line).
 * sshd logs to a file in that directory, one line per accepted login: connections are counted there.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { runAsync, type RunResult } from './aspera-host';

export interface Sshd {
  readonly port: number;
  readonly dir: string;
  /** The client's private key (authorized for every user that `authorize` names). */
  readonly clientKey: string;
  /** The server's public host key, "ssh-ed25519 AAAA..." (no comment), as a config's hostKey. */
  readonly hostKey: string;
  /** How many logins sshd has accepted so far (one per SSH connection that authenticated), of `user` if given. */
  connections(user?: string): number;
  /** Lets `user` log in with the client key. */
  authorize(user: string): void;
  /**
   * Runs `command` in one SSH session as `user`. `terminal`: on a pseudo-terminal, as Terraform
   * runs commands (stderr then arrives in stdout). `env`: variables the session starts with.
   */
  ssh(user: string, command: string, options?: { terminal?: boolean; env?: Record<string, string> }): Promise<RunResult>;
  /**
   * Uploads `content` to `path` on the server exactly as Terraform's SSH communicator does: one
   * session running `scp -vt <directory of path>` (relative to the user's home directory, like
   * the command), fed the SCP protocol with mode 0644 and the file's base name.
   */
  upload(user: string, path: string, content: string): Promise<RunResult>;
  /** Closes the connection kept open for `user` (before the user is deleted, say). */
  disconnect(user: string): Promise<void>;
  /** Stops the daemon and keeps its directory (keys and log): the host is down, its keys remain. */
  kill(): Promise<void>;
  /** Stops the daemon and removes its directory. */
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

/**
 * Starts sshd. `sessionPath` becomes PATH in every session (so fake system tools come first).
 * `extraEnv`: more variables every session starts with, set by sshd itself (its SetEnv), so that
 * they reach the sessions Terraform opens, which send no environment of their own; e.g.
 * ASPERA_NODE_API_URL, which the host script honours. Names and values without spaces or quotes.
 */
export async function startSshd(sessionPath: string, extraEnv: Readonly<Record<string, string>> = {}): Promise<Sshd> {
  if (process.getuid?.() !== 0) throw new Error('the SSH end-to-end tests start sshd and create a user: run them as root (as CI does)');
  for (const [name, value] of Object.entries(extraEnv)) {
    // sshd_config splits SetEnv on spaces and reads quotes: keep both out rather than quote.
    if (!/^[A-Z_][A-Z0-9_]*$/.test(name) || ['PATH', 'SHLVL'].includes(name) || !/^[^\s"'\\]*$/.test(value)) throw new Error(`startSshd: cannot set ${name}=${value} in the sessions`);
  }
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
      `SetEnv ${[`PATH=${sessionPath}`, 'SHLVL=1', ...Object.entries(extraEnv).map(([name, value]) => `${name}=${value}`)].join(' ')}`,
      // Lets a test hand a session an environment variable (ASPERA_CONF) without changing the
      // command Terraform would run.
      'AcceptEnv ASPERA_CONF',
      // INFO: one "Accepted publickey for <user>" line per login, which connections() counts.
      'LogLevel INFO',
      '',
    ].join('\n'),
  );
  // Debian's sshd refuses to start without its privilege separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  // -E: the daemon and every connection's process append to one file, unbuffered, so a count read
  // after a client has finished includes its login.
  const logFile = join(dir, 'sshd.log');
  writeFileSync(logFile, '');
  const log = () => readFileSync(logFile, 'utf8');
  const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-E', logFile, '-f', config], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; !(await accepting(port)); i++) {
    if (i > 100 || child.exitCode !== null) throw new Error(`sshd did not start: ${log()}`);
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
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  const server: Sshd = {
    port,
    dir,
    clientKey: join(dir, 'client_ed25519'),
    hostKey: hostPub,
    connections: (user?: string) =>
      log()
        .split('\n')
        .map((line) => /\bAccepted publickey for (\S+) from 127\.0\.0\.1 port \d+\b/.exec(line)?.[1])
        .filter((who) => who !== undefined && (user === undefined || who === user)).length,
    authorize(user) {
      writeFileSync(join(keys, user), clientPub, { mode: 0o644 });
    },
    ssh(user, command, options = {}) {
      connected.add(user);
      // A session started over the shared connection gets no SetEnv variables (OpenSSH 9.2):
      // with any, this one gets a connection of its own (ssh takes the first value it is given).
      const vars = Object.entries(options.env ?? {});
      const sessionEnv = vars.length === 0 ? [] : ['-o', 'ControlPath=none', ...vars.flatMap(([name, value]) => ['-o', `SetEnv=${name}=${value}`])];
      // -tt: a terminal even though this client's stdin is not one (Terraform asks for a pty).
      const terminal = options.terminal === true ? ['-tt'] : [];
      return runAsync('/usr/bin/ssh', [...sessionEnv, ...clientOptions, ...terminal, '-p', String(port), `${user}@127.0.0.1`, command], env);
    },
    upload(user, path, content) {
      connected.add(user);
      const data = Buffer.from(content, 'utf8');
      // Terraform's scpUploadFile: "C0644 <size> <name>", the bytes, a NUL; the sink answers each
      // step with a NUL. Its command is shquot.POSIXShell(["scp", "-vt", dir]), which Terraform's
      // debug log shows as: 'scp' -vt .
      const dir = posix.dirname(path);
      if (!/^[A-Za-z0-9_./-]+$/.test(dir)) throw new Error(`upload: quote ${dir} as Terraform does before using it here`);
      const protocol = Buffer.concat([Buffer.from(`C0644 ${data.length} ${posix.basename(path)}\n`), data, Buffer.from([0])]);
      return new Promise((resolve, reject) => {
        const child = execFile('/usr/bin/ssh', [...clientOptions, '-p', String(port), `${user}@127.0.0.1`, `'scp' -vt ${dir}`], { env, encoding: 'latin1', timeout: 30000 }, (error, stdout, stderr) => {
          if (error !== null && typeof error.code === 'string') {
            reject(error);
            return;
          }
          const status = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
          // Three NULs: ready, header accepted, data written. Anything else is the sink's complaint.
          const accepted = status === 0 && stdout === '\0\0\0';
          resolve({ status: accepted ? 0 : status === 0 || status === null ? 1 : status, stdout, stderr });
        });
        child.stdin?.end(protocol);
      });
    },
    // Ends the background connection this helper opened for the user (by its control socket).
    async disconnect(user) {
      if (connected.delete(user)) await runAsync('/usr/bin/ssh', [...clientOptions, '-p', String(port), '-O', 'exit', `${user}@127.0.0.1`], env);
    },
    kill,
    async stop() {
      for (const user of [...connected]) await server.disconnect(user);
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}
