/**
 * Test helpers for the Aspera host scripts: configs, throwaway directories with fake system tools
 * (systemctl, service, asuserdata) that log their calls, script runs, and aspera.conf read with
 * a real XML parser (aspera-conf-oracle.ts).
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docrootPaths, realmUsers } from './aspera-conf-oracle';
import type { Config, ConfigInput } from '../../src/config/schema';
import { validateConfig } from '../../src/config-file';
import { fakeRootId } from './unprivileged';

export const FIXTURES = join(__dirname, '..', 'fixtures', 'aspera-conf');
export const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

/** The config the host-script suites start from (testConfig), as written in a file. */
export const BASE: ConfigInput = {
  stackName: 'aspera-cross-account',
  externalId: 'aspera-7f3c9e21',
  myAccount: { accountId: '111111111111', region: 'us-east-1', profile: 'my-account' },
  otherAccount: { accountId: '222222222222', region: 'us-east-1', profile: 'other-account' },
  hostRole: { name: 'aspera-transfer-host' },
  buckets: [
    { name: 'acme-aspera-inbox', create: true },
    { name: 'partner.reports.example', create: false },
  ],
  grants: [
    { transferUser: 'xfer2', bucket: 'acme-aspera-inbox', prefix: '', access: 'read-write' },
    { transferUser: 'xfer3', bucket: 'partner.reports.example', prefix: 'outgoing/2024.q1', access: 'read-only' },
  ],
  asperaHosts: [{ host: '203.0.113.10', port: 33001, user: 'ec2-user', privateKeyPath: '~/.ssh/aspera.pem', asperaConfPath: '/opt/aspera/etc/aspera.conf' }],
  state: { backend: 'local' },
};

/** A schema-validated config: the base above with top-level fields replaced. */
export function testConfig(overrides: Partial<ConfigInput> = {}): Config {
  const result = validateConfig({ ...BASE, ...overrides });
  if (!result.ok) throw new Error(`test config is invalid:\n${result.problems.join('\n')}`);
  return result.config;
}

// Written by hand from the README's default docroot form, not computed by the code under test.
export const XFER2_DOCROOT =
  's3://arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Faspera-cross-account-xfer2@s3.amazonaws.com/acme-aspera-inbox;iam-role.external-id=aspera-7f3c9e21';
export const XFER3_DOCROOT =
  's3://arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Faspera-cross-account-xfer3@s3.amazonaws.com/partner.reports.example/outgoing/2024.q1;iam-role.external-id=aspera-7f3c9e21';

export interface Workdir {
  readonly dir: string;
  /** Directory with the fake system tools; put it first on PATH. */
  readonly bin: string;
  readonly conf: string;
  /** Calls made to the fake tools, one line each ("systemctl restart asperanoded"). */
  calls(): string[];
  /** Files next to aspera.conf other than aspera.conf itself. */
  siblings(): string[];
  remove(): void;
}

export function tempRoot(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `aspera-test-${prefix}-`));
}

/** A fake tool: logs "<name> <args>" and exits with `exitCode`, after an optional shell snippet. */
export function fakeTool(bin: string, name: string, log: string, exitCode = 0, snippet = ''): void {
  const file = join(bin, name);
  writeFileSync(file, `#!/bin/sh\nprintf '%s\\n' "${name} $*" >> '${log}'\n${snippet}\nexit ${exitCode}\n`);
  chmodSync(file, 0o755);
}

/**
 * A directory holding aspera.conf (from `content`) and a bin/ with a logging fake systemctl and an
 * `id` that says root (./unprivileged.ts): the scripts run as the test user, on its own files.
 */
export function workdir(root: string, name: string, content: string | Buffer): Workdir {
  const dir = join(root, name);
  const bin = join(dir, 'bin');
  const etc = join(dir, 'etc');
  mkdirSync(bin, { recursive: true });
  mkdirSync(etc, { recursive: true });
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  fakeTool(bin, 'systemctl', log);
  fakeRootId(bin);
  const conf = join(etc, 'aspera.conf');
  writeFileSync(conf, content);
  return {
    dir,
    bin,
    conf,
    calls: () => readFileSync(log, 'utf8').split('\n').filter((l) => l !== ''),
    siblings: () => readdirSync(etc).filter((f) => f !== 'aspera.conf').sort(),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command asynchronously (so that tests can overlap); never rejects on a non-zero exit. */
export function runAsync(command: string, args: string[], env: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, encoding: 'utf8', timeout: 30000 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code === 'string') {
        reject(error);
        return;
      }
      resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

/** One script run in a batch: `shell script` with PATH and ASPERA_CONF from the workdir. */
export interface Step {
  readonly shell: string;
  readonly script: string;
  readonly w: Workdir;
}

/** A step's outcome and what it left behind: aspera.conf, the files next to it, the tool calls. */
export interface StepResult extends RunResult {
  /** aspera.conf after the step (null when absent). */
  readonly conf: Buffer | null;
  readonly text: string;
  readonly siblings: string[];
  readonly calls: string[];
}

// Forking the Jest worker is the costly part of a script run, so a test hands all its steps to
// one small shell that runs them in order and snapshots the results after each.
const DRIVER = `#!/bin/sh
out=$1
shift
i=0
while [ "$#" -ge 3 ]; do
  i=$((i + 1))
  rc=0
  PATH="$3/bin:/usr/local/bin:/usr/bin:/bin" ASPERA_CONF="$3/etc/aspera.conf" "$1" "$2" >"$out/$i.stdout" 2>"$out/$i.stderr" || rc=$?
  echo "$rc" >"$out/$i.status"
  # Shell builtins only from here on: each process costs more than the rest of a step. The copy
  # is exact for text without NUL bytes, a missing final newline included.
  if [ -f "$3/etc/aspera.conf" ]; then
    l=
    while IFS= read -r l; do printf '%s\\n' "$l"; done <"$3/etc/aspera.conf" >"$out/$i.conf"
    if [ -n "$l" ]; then printf '%s' "$l" >>"$out/$i.conf"; fi
  fi
  for f in "$3"/etc/* "$3"/etc/.[!.]*; do
    if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\\n' "\${f##*/}"; fi
  done >"$out/$i.ls"
  n=0
  while IFS= read -r _; do n=$((n + 1)); done <"$3/calls.log"
  echo "$n" >"$out/$i.calls"
  shift 3
done
`;

let batches = 0;
export async function runSteps(root: string, steps: readonly Step[]): Promise<StepResult[]> {
  const out = join(root, `batch-${++batches}`);
  mkdirSync(out);
  const driver = join(out, 'driver.sh');
  writeFileSync(driver, DRIVER, { mode: 0o755 });
  const r = await runAsync('/bin/sh', [driver, out, ...steps.flatMap((s) => [s.shell, s.script, s.w.dir])], { PATH: '/usr/bin:/bin' });
  if (r.status !== 0) throw new Error(`step driver failed: ${r.stderr}`);
  return steps.map((step, k) => {
    const file = (ext: string) => join(out, `${k + 1}.${ext}`);
    const lines = (ext: string) => readFileSync(file(ext), 'utf8').split('\n').filter((l) => l !== '');
    const conf = existsSync(file('conf')) ? readFileSync(file('conf')) : null;
    return {
      status: Number(readFileSync(file('status'), 'utf8')),
      stdout: readFileSync(file('stdout'), 'utf8'),
      stderr: readFileSync(file('stderr'), 'utf8'),
      conf,
      text: conf === null ? '' : conf.toString('utf8'),
      siblings: lines('ls').filter((f) => f !== 'aspera.conf').sort(),
      // The log only grows: the calls up to this step are its first n lines.
      calls: step.w.calls().slice(0, Number(readFileSync(file('calls'), 'utf8'))),
    };
  });
}

/** Writes the script text to a file in `dir` and returns its path. */
export function scriptFile(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text, { mode: 0o755 });
  return file;
}

/** Standard env for a run: fake tools first, then the system, ASPERA_CONF pointing at the copy. */
export const envFor = (w: Workdir, extra: Record<string, string> = {}): Record<string, string> => ({
  PATH: `${w.bin}:/usr/local/bin:/usr/bin:/bin`,
  ASPERA_CONF: w.conf,
  ...extra,
});

export interface ParsedPath {
  absolute?: string;
  read_allowed?: string;
  write_allowed?: string;
  dir_allowed?: string;
}

/** Every <user> stanza in the realm section (where the server reads users), by name, as parsed. */
export function usersOf(xml: string): Map<string, Record<string, unknown>> {
  return new Map(realmUsers(xml).map((u) => [u.name, u.stanza]));
}

/**
 * The docroot of a user in the realm section: its one <path>, with one unconditional <absolute>.
 * Throws when the user is not there exactly once, or has another shape.
 */
export function docrootOf(xml: string, user: string): ParsedPath {
  const paths = docrootPaths(xml, user);
  if (paths.length !== 1) throw new Error(`user ${user} has ${paths.length} paths`);
  const [{ absolute, ...flags }] = paths;
  if (absolute.length !== 1 || Object.keys(absolute[0].attributes).length > 0) throw new Error(`user ${user} has ${JSON.stringify(absolute)} as <absolute>`);
  return { absolute: absolute[0].text, ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) };
}

/** Raw <user>...</user> stanzas naming `user` (comments and CDATA blanked first), byte for byte. */
export function rawStanzas(xml: string, user: string): string[] {
  const out: string[] = [];
  const uncommented = xml.replace(/<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>/g, (c) => ' '.repeat(c.length));
  const re = /<user>[\s\S]*?<\/user>/g;
  for (let m = re.exec(uncommented); m !== null; m = re.exec(uncommented)) {
    const text = xml.slice(m.index, m.index + m[0].length);
    if (new RegExp(`<name>\\s*${user}\\s*</name>`).test(m[0])) out.push(text);
  }
  return out;
}

