/**
 * The bad-input corpus of configs that used to synthesize and fail at apply, open a hole or crash
 * (helpers/apply-guard-fixtures.ts), through the real entry point: the app command from
 * cdktf.json, one process per config, as `cdktf synth` runs it. Each must exit 1, print exactly
 * the expected lines (one per problem, naming the field), no stack trace, and write nothing under
 * the output directory. Plus the two inputs too large to keep as fixtures: a 20 MB config and a
 * value nested 200,000 levels deep.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPLY_GUARD_EXPECTED } from './helpers/apply-guard-fixtures';
import { EXAMPLE_CONFIG_PATH, invalidFixtureText, REPO_ROOT } from './helpers/invalid-configs';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Whether the run created its output directory at all. */
  wroteOutdir: boolean;
  ms: number;
}

const APP_COMMAND = (JSON.parse(readFileSync(join(REPO_ROOT, 'cdktf.json'), 'utf8')).app as string).split(' ');

let work: string;
const runs: Record<string, Run> = {};
const configPaths: Record<string, string> = {};

function app(name: string, configPath: string): Promise<void> {
  const outdir = join(work, 'out', name);
  const [command, ...args] = APP_COMMAND;
  const env = { ...process.env, ASPERA_CONFIG: configPath, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: '1' };
  const started = Date.now();
  return new Promise((done) => {
    execFile(command, args, { cwd: REPO_ROOT, env, timeout: 60_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      runs[name] = { code, stdout, stderr, wroteOutdir: existsSync(outdir), ms: Date.now() - started };
      if (process.env.GUARD_TIMES) process.stdout.write(`${name} ${Date.now() - started}\n`);
      done();
    });
  });
}

/** Runs `jobs` two at a time (the machine has two cores, and other suites run beside this one). */
async function twoAtATime(jobs: (() => Promise<void>)[]): Promise<void> {
  const queue = [...jobs];
  const worker = async () => {
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) await job();
  };
  await Promise.all([worker(), worker()]);
}

const GENERATED = {
  // 160,000 grants, about 20 MB: refused by its size before it is even read.
  'twenty-megabytes.json': (): string => {
    const example = JSON.parse(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8'));
    const grant = (i: number) => ({ transferUser: `user${i}`, bucket: 'acme-aspera-inbox', prefix: `partners/partner-${i}/incoming/files`, access: 'read-write' });
    return JSON.stringify({ ...example, grants: Array.from({ length: 160_000 }, (_, i) => grant(i)) }, null, 2);
  },
  // Nested 200,000 levels deep: JSON.parse copes, but anything recursing over the value would not.
  'nested-200000-levels.json': (): string => {
    const example = readFileSync(EXAMPLE_CONFIG_PATH, 'utf8').trimEnd();
    return `${example.slice(0, -1)}, "x": ${'['.repeat(200_000)}${']'.repeat(200_000)}}\n`;
  },
} as const;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'aspera-guard-'));
  mkdirSync(join(work, 'out'));
  for (const name of Object.keys(APPLY_GUARD_EXPECTED)) {
    configPaths[name] = join(work, name);
    writeFileSync(configPaths[name], invalidFixtureText(name));
  }
  for (const [name, text] of Object.entries(GENERATED)) {
    configPaths[name] = join(work, name);
    writeFileSync(configPaths[name], text());
  }
  await twoAtATime(Object.keys(configPaths).map((name) => () => app(name, configPaths[name])));
}, 120_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** The problem lines of a refusal, after the "Invalid config <path> (N problems):" header. */
function problemLines(name: string): string[] {
  const [header, ...lines] = runs[name].stderr.trimEnd().split('\n');
  const count = lines.length === 1 ? '1 problem' : `${lines.length} problems`;
  expect(header).toBe(`Invalid config ${configPaths[name]} (${count}):`);
  for (const line of lines) expect(line).toMatch(/^ {2}\S/);
  return lines.map((line) => line.slice(2));
}

function expectRefusedCleanly(name: string): void {
  const r = runs[name];
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.wroteOutdir).toBe(false);
  expect(r.stderr).not.toMatch(/^\s+at |Error\b|node:internal|RangeError|heap/m);
}

describe.each(Object.entries(APPLY_GUARD_EXPECTED))('the app command refuses %s', (name, expected) => {
  test('exit 1, nothing on stdout, no output directory, no stack trace', () => expectRefusedCleanly(name));

  test('exactly the expected lines, each naming its field', () => {
    const lines = problemLines(name);
    expect(lines.map((l) => l.slice(0, l.indexOf(': '))).sort()).toEqual(expected.map(([path]) => path).sort());
    for (const [path, says] of expected) expect(lines.filter((l) => l.startsWith(`${path}: `)).some((l) => l.includes(says))).toBe(true);
  });
});

describe('inputs too large to keep as fixtures', () => {
  test('a 20 MB config: refused by its size, in one line, fast', () => {
    expectRefusedCleanly('twenty-megabytes.json');
    const [line, ...rest] = problemLines('twenty-megabytes.json');
    expect(rest).toEqual([]);
    expect(line).toMatch(/^\(config\): \S+ is [\d,]+ bytes; a config may be at most 4,194,304 bytes \(4 MiB, room for 5,000 grants, IAM's maximum\)$/);
  });

  test('200,000 levels of nesting: refused with the limit, no stack overflow', () => {
    expectRefusedCleanly('nested-200000-levels.json');
    const [line, ...rest] = problemLines('nested-200000-levels.json');
    expect(rest).toEqual([]);
    // The 33rd "[" of the value of "x", on the example's last line.
    const lastLine = readFileSync(EXAMPLE_CONFIG_PATH, 'utf8').trimEnd().split('\n').length;
    expect(line).toBe(
      `(config): ${configPaths['nested-200000-levels.json']} line ${lastLine}, column ${', "x": '.length + 32}: objects and arrays are nested more than 32 levels deep; a config needs 3 (grants[0].prefix)`,
    );
  });
});
