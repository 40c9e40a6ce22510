/**
 * `npm run review [-- --base <file or git ref>]`: the access review report as Markdown on stdout.
 *
 * Reads $ASPERA_CONFIG or ./aspera.config.json, like every other command. With --base, compares
 * the access with another config: a file path, or a git ref, in which case the same config path
 * is read at that ref (`git show <ref>:<path>`). A file wins when both exist.
 * Exit codes: 0 report written; 1 a config is invalid or unreadable; 2 wrong usage.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../src/config/schema';
import { configPathFromEnv, loadConfigFile, parseConfig, type ConfigResult } from '../src/config-file';
import { reviewReport, type ReviewBase } from '../src/report/markdown';

export const USAGE = `Usage: npm run --silent review [-- --base <file or git ref>] [--max-chars <n>]

Writes the access review of $ASPERA_CONFIG (default ./aspera.config.json) as Markdown to stdout.
In mode "bucket-owner" or "transfer-host" it describes that half and marks the other party's parts.
  --base <file>     compare with another config file
  --base <ref>      compare with the same config path at a git ref, e.g. origin/main
  --max-chars <n>   shorten the report to at most n characters (a GitHub comment holds 65536);
                    the access diff is kept first
`;

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** A usage or environment problem with a message a person can act on. */
class ReviewError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

const invalid = (what: string, result: Extract<ConfigResult, { ok: false }>) =>
  // Same "path: message" lines as main.ts, so a problem reads the same wherever it shows up.
  new ReviewError(`Invalid ${what}:\n${result.problems.map((p) => `  ${p}`).join('\n')}`, 1);

function git(args: string[], cwd: string): { ok: true; stdout: string } | { ok: false; stderr: string } {
  try {
    return { ok: true, stdout: execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024 }) };
  } catch (error) {
    const err = error as { stderr?: string; message: string };
    return { ok: false, stderr: (err.stderr ?? err.message).trim() };
  }
}

/** The base config from a git ref: the config's path in the repository, read at that ref. */
export function baseFromGitRef(ref: string, configPath: string, cwd: string): ReviewBase {
  // A ref is handed to git as an argument, never to a shell; one starting with "-" would be an option.
  if (ref.startsWith('-') || ref.includes(':') || /\s/.test(ref)) {
    throw new ReviewError(`--base ${JSON.stringify(ref)}: not a file, and not usable as a git ref`, 2);
  }
  const commit = git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], cwd);
  if (!commit.ok) {
    throw new ReviewError(
      `--base ${ref}: no such file, and not a git commit here. For a branch on CI, check out with full history (actions/checkout with fetch-depth: 0) and use origin/<branch>.`,
      2,
    );
  }
  const top = git(['rev-parse', '--show-toplevel'], cwd);
  if (!top.ok) throw new ReviewError(`--base ${ref}: ${cwd} is not inside a git repository (${top.stderr})`, 2);
  const inRepo = relative(top.stdout.trim(), configPath);
  if (inRepo.startsWith('..') || resolve(top.stdout.trim(), inRepo) !== configPath) {
    throw new ReviewError(`--base ${ref}: the config ${configPath} is outside the git repository, so it has no version at ${ref}; pass a file instead`, 2);
  }
  const gitPath = inRepo.split(sep).join('/');
  const label = `${ref}:${gitPath}`;
  const exists = git(['cat-file', '-e', `${commit.stdout.trim()}:${gitPath}`], cwd);
  if (!exists.ok) return { config: undefined, label };
  const shown = git(['show', `${commit.stdout.trim()}:${gitPath}`], cwd);
  if (!shown.ok) throw new ReviewError(`--base ${ref}: git show failed: ${shown.stderr}`, 1);
  const result = parseConfig(shown.stdout, label);
  if (!result.ok) throw invalid(`base config ${label}`, result);
  return { config: result.config, label };
}

export function loadBase(base: string, configPath: string, cwd: string): ReviewBase {
  const asFile = resolve(cwd, base);
  if (existsSync(asFile) && statSync(asFile).isFile()) {
    const result = loadConfigFile(asFile);
    if (!result.ok) throw invalid(`base config ${asFile}`, result);
    return { config: result.config, label: base };
  }
  return baseFromGitRef(base, configPath, cwd);
}

/** The CLI, with its world passed in so that tests can run it in-process. Returns the exit code. */
export function runReview(argv: string[], env: NodeJS.ProcessEnv, cwd: string, io: Io): number {
  try {
    let values: { base?: string; 'max-chars'?: string; help?: boolean };
    try {
      ({ values } = parseArgs({
        args: argv,
        options: { base: { type: 'string' }, 'max-chars': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
        strict: true,
        allowPositionals: false,
      }));
    } catch (error) {
      throw new ReviewError(`${(error as Error).message}\n\n${USAGE}`, 2);
    }
    if (values.help) {
      io.stdout(USAGE);
      return 0;
    }
    const maxChars = values['max-chars'] === undefined ? undefined : Number(values['max-chars']);
    if (maxChars !== undefined && !(Number.isInteger(maxChars) && maxChars >= 1000)) {
      throw new ReviewError(`--max-chars ${values['max-chars']}: must be a whole number of at least 1000\n\n${USAGE}`, 2);
    }
    const configPath = configPathFromEnv(env, cwd);
    const loaded = loadConfigFile(configPath);
    if (!loaded.ok) throw invalid(`config ${configPath}`, loaded);
    const config: Config = loaded.config;
    const base = values.base === undefined ? undefined : loadBase(values.base, configPath, cwd);
    const source = relative(cwd, configPath) || configPath;
    const input = { config, source: source.startsWith('..') ? configPath : source, ...(base === undefined ? {} : { base }) };
    io.stdout(reviewReport(input, maxChars === undefined ? {} : { maxChars }));
    return 0;
  } catch (error) {
    if (error instanceof ReviewError) {
      io.stderr(`${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}

if (require.main === module) {
  process.exitCode = runReview(process.argv.slice(2), process.env, process.cwd(), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
}
