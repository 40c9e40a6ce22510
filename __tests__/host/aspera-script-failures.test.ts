/**
 * The rendered host scripts (as root, under dash and bash) where only root can set the scene:
 * filesystems that fill up or are read-only (a tmpfs mounted for the test), an immutable
 * aspera.conf (chattr +i), extended attributes and an ACL on aspera.conf (setfattr). The restart
 * and validation tools are the logging stand-ins of helpers/aspera-host.ts, first on PATH.
 *
 * Every failure prints a line starting "aspera-cross-account: error:", leaves aspera.conf and the
 * state file byte for byte as they were, leaves no lock, backup or restart marker behind, and
 * restarts nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderHostScripts } from '../../src/aspera/host-scripts';
import type { ConfigInput } from '../../src/config/schema';
import { docrootOf, envFor, fakeTool, fixture, runAsync, runSteps, scriptFile, tempRoot, testConfig, workdir, type RunResult, type Workdir } from '../helpers/aspera-host';
import { requireHostTools } from '../helpers/host-suite';
import { SHELLS } from '../helpers/unprivileged';

// Fails the whole file, loudly, on a machine without root, setfattr, chattr, ...
requireHostTools();

const ORIGINAL = fixture('hsts-realm.conf');
const STATE = 'aspera.conf.aspera-cross-account.state';
const BACKUP = /^aspera\.conf\.bak\./;
const RESTART = 'systemctl restart asperanoded';
const ERROR_LINE = /^aspera-cross-account: error: /m;

const root = tempRoot('failures');
const mounts: string[] = [];
const immutable: string[] = [];

/** Runs a system command; throws with its output when it fails. */
function sys(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Mounts a tmpfs of `size` on `dir` (unmounted after the test, or by afterAll). */
function mountTmpfs(dir: string, size: string): void {
  sys('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
  mounts.push(dir);
}
function unmount(dir: string): void {
  sys('umount', [dir]);
  mounts.splice(mounts.indexOf(dir), 1);
}

afterAll(() => {
  for (const file of immutable) spawnSync('chattr', ['-i', file]);
  for (const dir of [...mounts].reverse()) spawnSync('umount', [dir]);
  rmSync(root, { recursive: true, force: true });
});

/** The install script for `grants` (the test config's two by default), in a file under root. */
let scripts = 0;
function installScript(grants?: ConfigInput['grants']): string {
  const config = testConfig(grants === undefined ? {} : { grants });
  return scriptFile(root, `install-${++scripts}.sh`, renderHostScripts(config, config.asperaHosts[0]).install);
}
const XFER2_READ_ONLY: ConfigInput['grants'] = [{ transferUser: 'xfer2', bucket: 'acme-aspera-inbox', prefix: '', access: 'read-only' }];
/** 30 users with long prefixes: an aspera.conf much larger than with one docroot. */
const MANY_GRANTS: ConfigInput['grants'] = Array.from({ length: 30 }, (_, i) => ({
  transferUser: i === 0 ? 'xfer2' : `partner${String(i).padStart(2, '0')}`,
  bucket: 'acme-aspera-inbox',
  prefix: `partners/${String(i).padStart(2, '0')}/${'incoming-files-of-this-partner/'.repeat(8)}end`,
  access: 'read-write' as const,
}));

const run = (shell: string, script: string, w: Workdir): Promise<RunResult> => runAsync(shell, [script], envFor(w));
const installed = (r: RunResult): void => {
  if (r.status !== 0) throw new Error(`install failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
};
const etcOf = (w: Workdir) => join(w.dir, 'etc');
const stateOf = (w: Workdir) => join(etcOf(w), STATE);
const short = (shell: string) => shell.split('/').pop()!;

/**
 * A workdir whose etc/ (aspera.conf, state, lock, backups) is a tmpfs of `size`: aspera.conf is
 * written again on it.
 */
function onTmpfs(name: string, size: string): Workdir {
  const w = workdir(root, name, ORIGINAL);
  mountTmpfs(etcOf(w), size);
  writeFileSync(w.conf, ORIGINAL);
  return w;
}

describe.each(SHELLS.map((s) => [short(s), s]))('under %s', (name, shell) => {
  test('asuserdata rejects the new file while the filesystem is full: the original is back (a rename, no space needed), the state too, no restart', async () => {
    const w = onTmpfs(`full-${name}`, '256k');
    try {
      // First install (no asuserdata installed yet): many docroots, a state file and a backup.
      installed(await run(shell, installScript(MANY_GRANTS), w));
      const conf = readFileSync(w.conf);
      // The file asuserdata will reject (one docroot) is far smaller than the one it replaces:
      // writing the original back as a copy would need room the full filesystem does not have.
      expect(conf.length).toBeGreaterThan(ORIGINAL.length + 16384);
      const state = readFileSync(stateOf(w));
      const siblings = w.siblings();
      expect(siblings).toEqual([STATE, expect.stringMatching(BACKUP)]);
      const calls = w.calls().length;

      // The validator fills the filesystem, records what is left, and rejects the file.
      const log = join(w.dir, 'calls.log');
      const fill = join(etcOf(w), 'fill');
      fakeTool(w.bin, 'asuserdata', log, 1, `dd if=/dev/zero of='${fill}' bs=4096 2>/dev/null\nprintf 'free blocks after the fill: %s\\n' "$(stat -f -c '%a' '${etcOf(w)}')" >> '${log}'`);
      const r = await run(shell, installScript(XFER2_READ_ONLY), w);

      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^aspera-cross-account: error: asuserdata -v rejected the edited aspera\.conf: the original is back in place, asperanoded was not restarted$/m);
      // The filesystem was full when the original went back, and no restart was tried.
      expect(w.calls().slice(calls)).toEqual(['asuserdata -v', 'free blocks after the fill: 0']);
      expect(readFileSync(w.conf).equals(conf)).toBe(true);
      expect(readFileSync(stateOf(w)).equals(state)).toBe(true);
      // No lock, no new backup, no restart marker: only the filler is new.
      expect(w.siblings()).toEqual([...siblings, 'fill'].sort());
    } finally {
      unmount(etcOf(w));
    }
  });

  test('an immutable aspera.conf (chattr +i): an error line, aspera.conf and the state unchanged, nothing left behind, no restart', async () => {
    const w = workdir(root, `immutable-${name}`, ORIGINAL);
    installed(await run(shell, installScript(), w));
    const conf = readFileSync(w.conf);
    const state = readFileSync(stateOf(w));
    const siblings = w.siblings();
    const calls = w.calls().length;
    const inode = statSync(w.conf).ino;
    sys('chattr', ['+i', w.conf]);
    immutable.push(w.conf);
    try {
      // Linux refuses a hard link to an immutable file (EPERM), so the run stops at the second
      // name it takes for the rollback, before the state or aspera.conf is replaced.
      const r = await run(shell, installScript(XFER2_READ_ONLY), w);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(ERROR_LINE);
      expect(r.stderr).toMatch(new RegExp(`^aspera-cross-account: error: .*${w.conf.replace(/[.]/g, '\\.')}`, 'm'));
      expect(readFileSync(w.conf).equals(conf)).toBe(true);
      expect(readFileSync(stateOf(w)).equals(state)).toBe(true);
      expect(w.siblings()).toEqual(siblings);
      expect(w.calls().slice(calls)).toEqual([]);
      expect(statSync(w.conf).ino).toBe(inode);
    } finally {
      sys('chattr', ['-i', w.conf]);
      immutable.splice(immutable.indexOf(w.conf), 1);
    }
  });

  test('a read-only filesystem: "cannot create the lock" with mkdir\'s reason, nothing changed', async () => {
    const w = onTmpfs(`read-only-${name}`, '256k');
    try {
      sys('mount', ['-o', 'remount,ro', etcOf(w)]);
      const r = await run(shell, installScript(), w);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(ERROR_LINE);
      const lock = `${w.conf}.aspera-cross-account.lock`;
      expect(r.stderr).toContain(`aspera-cross-account: error: cannot create the lock ${lock}: mkdir: cannot create directory '${lock}': Read-only file system. Nothing was changed`);
      expect(readFileSync(w.conf, 'utf8')).toBe(ORIGINAL);
      expect(w.siblings()).toEqual([]);
      expect(w.calls()).toEqual([]);
    } finally {
      unmount(etcOf(w));
    }
  });
});

// ---- Extended attributes, ACL, owner, group and mode of the file that replaces aspera.conf ----

/** Every extended attribute of a file (the ACL among them, as system.posix_acl_access), hex-encoded. */
function xattrs(file: string): Record<string, string> {
  const out = sys('getfattr', ['--absolute-names', '--dump', '--match=-', '--encoding=hex', file]);
  return Object.fromEntries(
    out
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}
const hex = (text: string) => `0x${Buffer.from(text).toString('hex')}`;

/**
 * A POSIX ACL in the kernel's xattr form (setfacl is not installed): version 2, then per entry
 * tag, permissions and id (little-endian u16, u16, u32), sorted by tag. user::rw-, user:4711:r--,
 * group::r--, mask::r--, other::---: the ACL of mode 0640 plus one named user.
 */
const ACL = (() => {
  const entry = (tag: number, perm: number, id: number) => {
    const b = Buffer.alloc(8);
    b.writeUInt16LE(tag, 0);
    b.writeUInt16LE(perm, 2);
    b.writeUInt32LE(id, 4);
    return b;
  };
  const version = Buffer.alloc(4);
  version.writeUInt32LE(2, 0);
  const UNDEFINED_ID = 0xffffffff;
  return `0x${Buffer.concat([version, entry(0x01, 6, UNDEFINED_ID), entry(0x02, 4, 4711), entry(0x04, 4, UNDEFINED_ID), entry(0x10, 4, UNDEFINED_ID), entry(0x20, 0, UNDEFINED_ID)]).toString('hex')}`;
})();

const SELINUX_LABEL = 'system_u:object_r:etc_t:s0';
// Without SELinux in the kernel, security.selinux is stored like any other attribute where the
// filesystem takes it (ext4 does); with SELinux, only a label the policy knows. Probed once, on
// the filesystem the test uses: the test below names what it could set.
const SELINUX_SETTABLE = (() => {
  const probe = join(root, 'selinux-probe');
  writeFileSync(probe, '');
  const r = spawnSync('setfattr', ['-n', 'security.selinux', '-v', SELINUX_LABEL, probe], { encoding: 'utf8' });
  rmSync(probe);
  return r.status === 0;
})();
const SET = {
  'user.aspera_test': hex('kept across the install'),
  'system.posix_acl_access': ACL,
  // Stored as given here; a kernel with SELinux gives the label back with a final NUL.
  ...(SELINUX_SETTABLE ? { 'security.selinux': expect.stringMatching(new RegExp(`^${hex(SELINUX_LABEL)}(00)?$`)) } : {}),
};

describe.each(SHELLS.map((s) => [short(s), s]))('under %s', (name, shell) => {
  test(`the new aspera.conf keeps owner, group, mode, the ACL and the extended attributes ${Object.keys(SET).join(', ')} of the old one`, async () => {
    const w = workdir(root, `xattrs-${name}`, ORIGINAL);
    sys('chown', ['4711:4712', w.conf]);
    sys('chmod', ['0640', w.conf]);
    sys('setfattr', ['-n', 'user.aspera_test', '-v', 'kept across the install', w.conf]);
    sys('setfattr', ['-n', 'system.posix_acl_access', '-v', ACL, w.conf]);
    if (SELINUX_SETTABLE) sys('setfattr', ['-n', 'security.selinux', '-v', SELINUX_LABEL, w.conf]);
    const before = statSync(w.conf);
    const attributes = xattrs(w.conf);
    // What was set is what the file has, and nothing else.
    expect(attributes).toEqual(SET);

    installed(await run(shell, installScript(), w));

    const after = statSync(w.conf);
    // A new file took aspera.conf's place (not an edit in place, which would keep everything).
    expect(after.ino).not.toBe(before.ino);
    expect(readFileSync(w.conf, 'utf8')).not.toBe(ORIGINAL);
    expect(docrootOf(readFileSync(w.conf, 'utf8'), 'xfer2').write_allowed).toBe('true');
    expect([after.uid, after.gid, after.mode & 0o7777]).toEqual([4711, 4712, 0o640]);
    expect(xattrs(w.conf)).toEqual(attributes);
  });
});

// ---- Backups ----------------------------------------------------------------------------------

describe.each(SHELLS.map((s) => [short(s), s]))('under %s', (name, shell) => {
  test('7 installs that each change aspera.conf leave the newest 5 backups, all mode 0600; one an earlier version left readable is made 0600, then pruned as the oldest', async () => {
    const w = workdir(root, `backups-${name}`, ORIGINAL);
    // A backup an earlier version kept (readable), older than every one below.
    const old = join(etcOf(w), 'aspera.conf.bak.20200101T000000Z');
    writeFileSync(old, ORIGINAL, { mode: 0o644 });
    // The backups are named after the time in seconds; a stand-in clock gives each run its own
    // second, in order, so that "newest" is well defined however fast the runs are.
    const clock = join(w.dir, 'clock');
    writeFileSync(clock, '0');
    writeFileSync(
      join(w.bin, 'date'),
      `#!/bin/sh\nif [ "$*" = "-u +%Y%m%dT%H%M%SZ" ]; then\n  n=$(cat '${clock}'); n=$((n + 1)); echo "$n" > '${clock}'\n  printf '20260101T0000%02dZ\\n' "$n"\n  exit 0\nfi\nexec /usr/bin/date "$@"\n`,
      { mode: 0o755 },
    );
    const rounds = [1, 2, 3, 4, 5, 6, 7].map((k) => installScript([{ transferUser: 'xfer2', bucket: 'acme-aspera-inbox', prefix: `round${k}`, access: 'read-write' }]));
    // The first install: two backups, so the old one is kept, and made root's alone.
    const [first] = await runSteps(root, [{ shell, script: rounds[0], w }]);
    expect(first.siblings.filter((f) => BACKUP.test(f))).toEqual(['aspera.conf.bak.20200101T000000Z', 'aspera.conf.bak.20260101T000001Z']);
    expect(statSync(old).mode & 0o777).toBe(0o600);
    const results = [first, ...(await runSteps(root, rounds.slice(1).map((script) => ({ shell, script, w }))))];
    results.forEach((r, k) => {
      if (r.status !== 0) throw new Error(`install ${k + 1} failed:\n${r.stderr}`);
      expect(docrootOf(r.text, 'xfer2').absolute).toMatch(new RegExp(`/acme-aspera-inbox/round${k + 1};`));
    });
    expect(w.calls()).toEqual(Array(7).fill(RESTART));

    const backups = readdirSync(etcOf(w)).filter((f) => BACKUP.test(f)).sort();
    expect(backups).toEqual([3, 4, 5, 6, 7].map((n) => `aspera.conf.bak.20260101T0000${String(n).padStart(2, '0')}Z`));
    expect(existsSync(old)).toBe(false);
    for (const b of backups) expect(statSync(join(etcOf(w), b)).mode & 0o777).toBe(0o600);
    // Each is the file as it was before its install: the result of the install before.
    backups.forEach((b, i) => expect(readFileSync(join(etcOf(w), b)).equals(results[i + 1].conf!)).toBe(true));
  });
});
