/**
 * What lets `npm test` run the host scripts for real as any user, on any machine with `sh`:
 * the shells to run them under, and a stand-in `id` that makes the scripts take their root path.
 *
 * The scripts decide whether they are root with `id -u` (and re-execute with `sudo -n` if not).
 * Tests put this `id` first on PATH instead of running as root: the scripts stay as they ship,
 * they edit files the test user owns, and the real root and `sudo -n` paths are proven by the
 * host suite (`npm run test:host`) over a real sshd.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const firstExisting = (paths: readonly string[]): string | undefined => paths.find((p) => existsSync(p));

/** dash where it is installed (Debian's /bin/sh), else the system's sh. */
export const POSIX_SHELL: string = firstExisting(['/usr/bin/dash', '/bin/dash']) ?? '/bin/sh';

/** bash where it is installed. */
export const BASH: string | undefined = firstExisting(['/usr/bin/bash', '/bin/bash']);

/** Every shell the scripts are run under: the POSIX shell, and bash when the machine has it. */
export const SHELLS: readonly string[] = BASH === undefined || BASH === POSIX_SHELL ? [POSIX_SHELL] : [POSIX_SHELL, BASH];

/** The machine's own `id`, which the stand-in hands everything but `-u` to. */
export const SYSTEM_ID: string = firstExisting(['/usr/bin/id', '/bin/id']) ?? 'id';

/** Finds a program the way a shell would on a minimal PATH (for sandboxes of chosen tools). */
export function systemTool(name: string): string {
  const found = firstExisting(['/usr/bin', '/bin', '/usr/sbin', '/sbin'].map((dir) => join(dir, name)));
  if (found === undefined) throw new Error(`${name} is not installed in /usr/bin or /bin`);
  return found;
}

/**
 * Writes `bin/id`, which answers `id -u` with 0 (so a script under test takes its root path) and
 * runs the system's `id` for anything else. It logs nothing: the tests count other tools' calls.
 */
export function fakeRootId(bin: string): void {
  writeFileSync(join(bin, 'id'), `#!/bin/sh\nif [ "$*" = "-u" ]; then echo 0; exit 0; fi\nexec '${SYSTEM_ID}' "$@"\n`, { mode: 0o755 });
}

/**
 * The programs from coreutils that the minimal-PATH test gives the scripts (with awk and sh). That
 * these are Debian's coreutils is checked on the CI machine by the host suite (`dpkg -L`).
 */
export const COREUTILS_FOR_SCRIPTS = ['cat', 'chmod', 'cp', 'date', 'id', 'ln', 'ls', 'mkdir', 'mv', 'rm', 'uname', 'wc'] as const;

/**
 * A directory to be the whole PATH of a script run: COREUTILS_FOR_SCRIPTS (with the stand-in
 * `id`) and awk, nothing else. Tests add the restart tools a case needs. Returns its path.
 */
export function minimalPath(parent: string): string {
  const dir = join(parent, 'sandbox');
  mkdirSync(dir);
  for (const tool of COREUTILS_FOR_SCRIPTS) {
    if (tool === 'id') fakeRootId(dir);
    else symlinkSync(systemTool(tool), join(dir, tool));
  }
  symlinkSync(systemTool('awk'), join(dir, 'awk'));
  return dir;
}

/**
 * Writes a real, throwaway ed25519 private key (PEM) to `path`, made by Node itself: no ssh-keygen
 * needed. For tests that check that a key's bytes never reach synthesized files.
 */
export function writeThrowawayPrivateKey(path: string): void {
  writeFileSync(path, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
}
