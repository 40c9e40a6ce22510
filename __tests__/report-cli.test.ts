/**
 * `npm run review`: which configs it reads (ASPERA_CONFIG, a --base file, the same path at a git
 * ref), and how it refuses invalid ones (the loader's "path: message" lines, non-zero exit).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../src/config-file';
import type { ConfigInput } from '../src/config/schema';
import { REPORT_MARKER } from '../src/report/markdown';
import { runReview } from '../scripts/review';
import { ONE_GRANT } from './helpers/report-fixtures';

const ROOT = join(__dirname, '..');

function run(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = runReview(argv, env, cwd, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
const withGrant = (input: ConfigInput, user: string): ConfigInput => ({
  ...input,
  grants: [...(input.grants ?? []), { transferUser: user, bucket: 'acme-aspera-inbox', prefix: 'drop', access: 'read-write' }],
});
const INVALID = { ...ONE_GRANT, myAccount: { accountId: '1234', region: 'us-east-1' }, grants: [{ transferUser: 'xfer2', bucket: 'nope', access: 'read-write' }] };

let dir: string;
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd: dir, stdio: 'pipe' });

beforeAll(() => {
  // A repository whose first commit has no config, whose second adds one, and whose work tree adds a grant.
  dir = mkdtempSync(join(tmpdir(), 'review-cli-'));
  git('init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'README'), 'x\n');
  git('add', 'README');
  git('commit', '-q', '-m', 'no config yet');
  mkdirSync(join(dir, 'configs'));
  writeFileSync(join(dir, 'configs', 'prod.json'), json(ONE_GRANT));
  git('add', 'configs/prod.json');
  git('commit', '-q', '-m', 'config');
  writeFileSync(join(dir, 'configs', 'prod.json'), json(withGrant(ONE_GRANT, 'xfer3')));
  writeFileSync(join(dir, 'invalid.json'), json(INVALID));
  mkdirSync(join(dir, 'sub'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('review CLI', () => {
  test('reads ASPERA_CONFIG and compares with the same path at a git ref, from any directory in the repository', () => {
    const { code, stdout, stderr } = run(['--base', 'HEAD'], join(dir, 'sub'), { ASPERA_CONFIG: '../configs/prod.json' });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.startsWith(REPORT_MARKER)).toBe(true);
    expect(stdout).toContain('## Access changes compared with `HEAD:configs/prod.json`');
    expect(stdout).toContain('⚠️ **Added:** **xfer3** gets **read-write** access to `s3://acme-aspera-inbox/drop/`');
    // Only the new grant is a change: xfer2 is in both.
    expect(stdout).not.toContain('**xfer2** gets');
  });

  test('a ref without the config file means everything is new', () => {
    const { code, stdout } = run(['--base', 'HEAD~1'], dir, { ASPERA_CONFIG: 'configs/prod.json' });
    expect(code).toBe(0);
    expect(stdout).toContain('The base has no config file');
    expect(stdout).toContain('**Added:** **xfer2**');
    expect(stdout).toContain('**Added:** **xfer3**');
  });

  test('a file given as --base wins over a ref of the same name', () => {
    writeFileSync(join(dir, 'HEAD'), json(withGrant(withGrant(ONE_GRANT, 'xfer3'), 'xfer4')));
    try {
      const { code, stdout } = run(['--base', 'HEAD'], dir, { ASPERA_CONFIG: 'configs/prod.json' });
      expect(code).toBe(0);
      expect(stdout).toContain('## Access changes compared with `HEAD`');
      expect(stdout).toContain('**Removed:** **xfer4**');
    } finally {
      rmSync(join(dir, 'HEAD'));
    }
  });

  test('an unknown ref, or one that looks like an option, is a usage error that says what to do', () => {
    const unknown = run(['--base', 'origin/nowhere'], dir, { ASPERA_CONFIG: 'configs/prod.json' });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--base origin/nowhere: no such file, and not a git commit here');
    expect(unknown.stderr).toContain('fetch-depth: 0');
    // git would take "--output=..." as an option of its own, so it is never passed on.
    const option = run(['--base=--output=/tmp/x'], dir, { ASPERA_CONFIG: 'configs/prod.json' });
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('not usable as a git ref');
    expect(option.stdout).toBe('');
  });

  test('an invalid config is refused with the loader\'s "path: message" lines, like main.ts', () => {
    const expected = validateConfig(INVALID);
    if (expected.ok) throw new Error('INVALID should be invalid');
    expect(expected.problems.some((p) => p.startsWith('myAccount.accountId: '))).toBe(true);
    const { code, stdout, stderr } = run([], dir, { ASPERA_CONFIG: 'invalid.json' });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(`Invalid config ${join(dir, 'invalid.json')}:\n${expected.problems.map((p) => `  ${p}`).join('\n')}\n`);
  });

  test('an invalid base is refused the same way, and named as the base', () => {
    const expected = validateConfig(INVALID);
    if (expected.ok) throw new Error('INVALID should be invalid');
    const { code, stdout, stderr } = run(['--base', 'invalid.json'], dir, { ASPERA_CONFIG: 'configs/prod.json' });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(`Invalid base config ${join(dir, 'invalid.json')}:\n${expected.problems.map((p) => `  ${p}`).join('\n')}\n`);
  });

  test('--max-chars must be a sensible whole number', () => {
    for (const value of ['999', '12.5', 'many']) {
      const { code, stderr } = run([`--max-chars=${value}`], dir, { ASPERA_CONFIG: 'configs/prod.json' });
      expect([value, code]).toEqual([value, 2]);
      expect(stderr).toContain('must be a whole number of at least 1000');
    }
    const { code, stdout } = run(['--max-chars', '2000'], dir, { ASPERA_CONFIG: 'configs/prod.json' });
    expect(code).toBe(0);
    expect(stdout.length).toBeLessThanOrEqual(2000);
  });

  test('an unknown option is a usage error', () => {
    const { code, stderr } = run(['--bsae', 'x'], dir);
    expect(code).toBe(2);
    expect(stderr).toContain('Usage: npm run --silent review');
  });

  test('the npm script runs the CLI and writes the report to stdout', () => {
    // One process only (tsx startup costs over a second); the exit codes are runReview's, tested above.
    const ok = spawnSync('npm', ['run', '--silent', 'review', '--', '--base', join(dir, 'configs', 'prod.json')], {
      cwd: ROOT,
      env: { ...process.env, ASPERA_CONFIG: join(dir, 'configs', 'prod.json') },
      encoding: 'utf8',
      timeout: 20000,
    });
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout.startsWith(REPORT_MARKER)).toBe(true);
    expect(ok.stdout).toContain('No access changes.');
  });
});
