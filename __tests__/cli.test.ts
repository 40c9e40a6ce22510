/**
 * The real entry points, as an operator runs them: the app command from cdktf.json
 * (`node scripts/app.js`, which bundles main.ts from the current sources) and, once, `npx cdktf synth` itself. Each process costs about a
 * second (the cdktf CLI about five), so they all start together in beforeAll and the tests only
 * read the results. The config corpus itself is covered in-process by config-validation.test.ts.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config-file';
import { EXAMPLE_CONFIG_PATH, invalidFixtureText, REPO_ROOT } from './helpers/invalid-configs';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** What the run left in its output directory (relative paths), [] when it does not exist. */
  written: string[];
}

function listFiles(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), join(prefix, e.name)) : [join(prefix, e.name)],
  );
}

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; outdir: string; timeout?: number }): Promise<Run> {
  return new Promise((resolvePromise) => {
    execFile(command, args, { cwd: options.cwd, env: options.env, timeout: options.timeout ?? 60_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolvePromise({ code, stdout, stderr, written: listFiles(options.outdir) });
    });
  });
}

/** The command `cdktf synth` runs, e.g. ["node", "--import", "tsx", "main.ts"]. */
const APP_COMMAND = (JSON.parse(readFileSync(join(REPO_ROOT, 'cdktf.json'), 'utf8')).app as string).split(' ');

let work: string;
const runs: Record<string, Run> = {};
const configs: Record<string, string> = {};

/** ASPERA_CONFIG naming something other than a regular file: each run, and what its one line says. */
const NOT_REGULAR_FILES: Record<string, { path: () => string; says: string }> = {
  'dev-zero': { path: () => '/dev/zero', says: 'it is a character device, not a regular file' },
  fifo: { path: () => join(work, 'config.fifo'), says: 'it is a named pipe (FIFO), not a regular file' },
  // The link is followed: what counts is the file it names.
  'link-to-dev-zero': { path: () => join(work, 'zero-link.json'), says: 'it is a character device, not a regular file' },
  directory: { path: () => work, says: 'it is a directory' },
};
/** A refusal takes well under a second; a run still going after this long is killed and fails. */
const NOT_REGULAR_FILE_TIMEOUT = 30_000;

/**
 * Runs the app command with ASPERA_CONFIG=config and CDKTF_OUTDIR=<work>/<name>/out; a run that
 * takes longer than `timeout` is killed (code null), so a hang fails its test instead of the suite.
 */
function app(name: string, config: string, timeout?: number): Promise<void> {
  const outdir = join(work, name, 'out');
  mkdirSync(join(work, name), { recursive: true });
  const [command, ...args] = APP_COMMAND;
  const env = { ...process.env, ASPERA_CONFIG: config, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: '1' };
  return run(command, args, { cwd: REPO_ROOT, env, outdir, timeout }).then((r) => {
    runs[name] = r;
  });
}

/**
 * `npx cdktf synth` in a fresh project directory (links to this repo's files, no cdktf.out), with
 * the default output directory: what an operator gets with a bad config.
 */
function cdktfSynth(name: string, config: string): Promise<void> {
  const project = join(work, name);
  mkdirSync(project);
  for (const entry of ['main.ts', 'src', 'scripts', 'node_modules', 'cdktf.json', 'package.json', 'tsconfig.json']) symlinkSync(join(REPO_ROOT, entry), join(project, entry));
  const env = { ...process.env, ASPERA_CONFIG: config, CHECKPOINT_DISABLE: '1' };
  return run('npx', ['--no-install', 'cdktf', 'synth'], { cwd: project, env, outdir: join(project, 'cdktf.out') }).then((r) => {
    runs[name] = r;
  });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'aspera-cli-'));
  const write = (file: string, text: string) => {
    configs[file] = join(work, file);
    writeFileSync(configs[file], text);
  };
  write('several-problems.json', invalidFixtureText('several-problems-at-once.patch.json'));
  write('accounts-identical.json', invalidFixtureText('accounts-identical.patch.json'));
  // A valid config other than the default, to see that ASPERA_CONFIG selects it.
  const example = JSON.parse(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8'));
  write('selected.json', JSON.stringify({ ...example, $schema: undefined, stackName: 'selected-by-env' }));
  // Paths that are not regular files: reading /dev/zero never ends and opening a FIFO without a
  // writer never returns, so each must be refused before it is read.
  execFileSync('mkfifo', [join(work, 'config.fifo')]);
  symlinkSync('/dev/zero', join(work, 'zero-link.json'));
  await Promise.all([
    cdktfSynth('cdktf-synth-bad', configs['accounts-identical.json']),
    app('several-problems', configs['several-problems.json']),
    app('missing', join(work, 'does-not-exist.json')),
    app('selected', configs['selected.json']),
    ...Object.entries(NOT_REGULAR_FILES).map(([name, { path }]) => app(name, path(), NOT_REGULAR_FILE_TIMEOUT)),
  ]);
}, 90_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** The problem lines of a refusal: "Invalid config <path> (N problems):" then "  <line>" each. */
function problemLines(r: Run, configPath: string): string[] {
  const [header, ...lines] = r.stderr.trimEnd().split('\n');
  expect(header).toMatch(new RegExp(`^Invalid config ${configPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+ problems?\\):$`));
  for (const line of lines) expect(line).toMatch(/^ {2}\S/);
  return lines.map((line) => line.slice(2));
}

describe('the app command refuses a config with several problems', () => {
  test('exits 1, writes nothing to the output directory and nothing to stdout', () => {
    const r = runs['several-problems'];
    expect(r.code).toBe(1);
    expect(r.written).toEqual([]);
    expect(existsSync(join(work, 'several-problems', 'out'))).toBe(false);
    expect(r.stdout).toBe('');
  });

  test('prints exactly the validator\'s lines, one per problem, with no stack trace', () => {
    const file = configs['several-problems.json'];
    const expected = parseConfig(readFileSync(file, 'utf8'), file);
    if (expected.ok) throw new Error(`${file} is valid`);
    expect(problemLines(runs['several-problems'], file)).toEqual(expected.problems);
    expect(runs['several-problems'].stderr).not.toMatch(/^\s+at |Error:|node:internal/m);
  });

  test('names every field in one run, including the cross-field problems', () => {
    const lines = problemLines(runs['several-problems'], configs['several-problems.json']);
    expect(lines.map((l) => l.slice(0, l.indexOf(': '))).sort()).toEqual(
      ['asperaHosts[0].port', 'grants[0].acess', 'grants[0].bucket', 'hostRole.name', 'otherAccount.accountId'].sort(),
    );
  });
});

test('a missing file: exit 1, one line naming the file and ASPERA_CONFIG', () => {
  const missing = join(work, 'does-not-exist.json');
  expect(runs.missing.code).toBe(1);
  expect(problemLines(runs.missing, missing)).toEqual([`(config): cannot read ${missing}: file not found (set ASPERA_CONFIG to choose another file)`]);
  expect(runs.missing.written).toEqual([]);
});

describe.each(Object.entries(NOT_REGULAR_FILES))('ASPERA_CONFIG naming something other than a regular file: %s', (name, { path, says }) => {
  test('refused before it is read: exit 1 within the timeout, one line naming it, nothing written, no stack trace', () => {
    const r = runs[name];
    // null: killed by the timeout, i.e. the app read (or waited on) it instead of refusing it.
    expect(r.code).toBe(1);
    expect(problemLines(r, path())).toEqual([`(config): cannot read ${path()}: ${says} (set ASPERA_CONFIG to choose another file)`]);
    expect(r.stdout).toBe('');
    expect(r.written).toEqual([]);
    expect(existsSync(join(work, name, 'out'))).toBe(false);
    expect(r.stderr).not.toMatch(/^\s+at |Error:|node:internal/m);
  });
});

test('ASPERA_CONFIG selects the config: the stack is named from that file', () => {
  const r = runs.selected;
  if (r.code !== 0) throw new Error(r.stderr);
  expect(r.written).toContain(join('stacks', 'selected-by-env', 'cdk.tf.json'));
  expect(r.stderr).toBe('');
});

describe('`npx cdktf synth` with an invalid config', () => {
  test('fails, and shows the problem line', () => {
    const r = runs['cdktf-synth-bad'];
    expect(r.code).not.toBe(0);
    expect(`${r.stdout}\n${r.stderr}`).toContain('otherAccount.accountId: must differ from myAccount.accountId');
  });

  test('leaves no cdktf.out behind (the CLI creates it only when the app writes it)', () => {
    expect(runs['cdktf-synth-bad'].written).toEqual([]);
    expect(existsSync(join(work, 'cdktf-synth-bad', 'cdktf.out'))).toBe(false);
  });
});
