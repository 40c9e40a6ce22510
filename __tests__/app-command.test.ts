/**
 * The app command (scripts/app.js) runs a bundle of the current sources, never a stale one, and a
 * crash still names TypeScript files and lines. Run in a copy of the project (main.ts, src/,
 * tsconfig.json, scripts/app.js; node_modules linked) so that its sources can be edited between
 * synths, the way a developer edits them between two `cdktf synth`.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGolden, REPO_ROOT, REPO_ROOT_MARKER } from './helpers/golden';

interface Run {
  code: number | null;
  stderr: string;
}

let project: string;

/** `cdktf synth`'s app command in the project copy at `dir`, writing to `outdir` there. */
function synthIn(dir: string, outdir: string): Promise<Run> {
  const env = { ...process.env, ASPERA_CONFIG: join(REPO_ROOT, 'aspera.config.json'), CDKTF_OUTDIR: join(dir, outdir), CHECKPOINT_DISABLE: '1' };
  return new Promise((resolve) => {
    execFile(process.execPath, ['scripts/app.js'], { cwd: dir, env, timeout: 60_000 }, (error, _stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stderr });
    });
  });
}

const synth = (outdir: string): Promise<Run> => synthIn(project, outdir);

const stackFile = (outdir: string) => readFileSync(join(project, outdir, 'stacks', 'aspera-cross-account', 'cdk.tf.json'), 'utf8');

/** Replaces `from` by `to` in one source file of the copy; fails if `from` is not there. */
function edit(file: string, from: string, to: string): void {
  const path = join(project, file);
  const text = readFileSync(path, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} no longer contains ${JSON.stringify(from)}: update this test`);
  writeFileSync(path, text.replace(from, to));
}

/**
 * A copy of the project's sources and app command in a new directory, node_modules linked: whole,
 * or (`ownCopyOf`) with those packages copied so that the test can change them.
 */
function copyProject(prefix: string, ownCopyOf: readonly string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const entry of ['main.ts', 'tsconfig.json', 'src']) cpSync(join(REPO_ROOT, entry), join(dir, entry), { recursive: true });
  mkdirSync(join(dir, 'scripts'));
  cpSync(join(REPO_ROOT, 'scripts', 'app.js'), join(dir, 'scripts', 'app.js'));
  if (ownCopyOf.length === 0) {
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
    return dir;
  }
  mkdirSync(join(dir, 'node_modules'));
  for (const entry of readdirSync(join(REPO_ROOT, 'node_modules'))) {
    if (ownCopyOf.includes(entry)) cpSync(join(REPO_ROOT, 'node_modules', entry), join(dir, 'node_modules', entry), { recursive: true });
    else symlinkSync(join(REPO_ROOT, 'node_modules', entry), join(dir, 'node_modules', entry));
  }
  return dir;
}

beforeAll(() => {
  project = copyProject('aspera-app-');
});

afterAll(() => {
  if (project !== undefined) rmSync(project, { recursive: true, force: true });
});

test('a synth writes the golden output, an edit in src/ takes effect on the next synth, and a crash names the TypeScript line', async () => {
  const first = await synth('out-first');
  expect(first).toEqual({ code: 0, stderr: '' });
  expect(stackFile('out-first').split(project).join(REPO_ROOT_MARKER)).toBe(readGolden('aspera.config').get('cdk.tf.json'));

  edit('src/modes/compose.ts', "description: 'S3 docroot per Aspera transfer user, as installed in aspera.conf'", "description: 'edited between two synths'");
  const edited = await synth('out-edited');
  expect(edited).toEqual({ code: 0, stderr: '' });
  expect(stackFile('out-edited')).toContain('"description": "edited between two synths"');

  const marker = 'const grantRoles = new Map<string, CreatedGrantRole>();';
  edit('src/constructs/bucket-owner-access.ts', marker, `${marker} throw new Error('injected failure');`);
  const lines = readFileSync(join(project, 'src/constructs/bucket-owner-access.ts'), 'utf8').split('\n');
  const line = lines.findIndex((l) => l.includes('injected failure')) + 1;
  const column = lines[line - 1].indexOf('throw new Error') + 'throw '.length + 1;
  const crashed = await synth('out-crashed');
  expect(crashed.code).not.toBe(0);
  expect(crashed.stderr).toContain('Error: injected failure');
  expect(crashed.stderr).toContain(`at new BucketOwnerAccess (${join(project, 'src/constructs/bucket-owner-access.ts')}:${line}:${column})`);
  expect(crashed.stderr).toMatch(new RegExp(`at new AsperaCrossAccountStack \\(${join(project, 'src/stack.ts').replace(/[.]/g, '\\.')}:\\d+:\\d+\\)`));

  // One bundle per version of the sources.
  expect(readdirSync(join(project, '.cache', 'aspera-synth'))).toHaveLength(3);

  // A source that does not compile: refused with its file, line and column, nothing written, nothing cached.
  writeFileSync(join(project, 'src/iam/arns.ts'), `${readFileSync(join(project, 'src/iam/arns.ts'), 'utf8')}export const broken = (;\n`);
  const brokenLine = readFileSync(join(project, 'src/iam/arns.ts'), 'utf8').split('\n').length - 1;
  const broken = await synth('out-broken');
  expect(broken.code).toBe(1);
  expect(broken.stderr).toContain(`src/iam/arns.ts:${brokenLine}:`);
  expect(existsSync(join(project, 'out-broken'))).toBe(false);
  expect(readdirSync(join(project, '.cache', 'aspera-synth'))).toHaveLength(3);
}, 90_000);

test('zod is bundled with the sources, and another installed version of it gives a new bundle', async () => {
  // A second copy whose node_modules holds its own zod (every other package linked), to change it.
  const own = copyProject('aspera-app-zod-', ['zod']);
  try {
    const run = (outdir: string) => synthIn(own, outdir);
    const bundles = () => readdirSync(join(own, '.cache', 'aspera-synth'));

    expect(await run('out-1')).toEqual({ code: 0, stderr: '' });
    const [first] = bundles();
    expect(readFileSync(join(own, '.cache', 'aspera-synth', first, 'sources.txt'), 'utf8').split('\n')).toContain('node_modules/zod/package.json');
    const bundle = readFileSync(join(own, '.cache', 'aspera-synth', first, 'main.js'), 'utf8');
    expect(bundle).not.toMatch(/require\("zod(\/[^"]*)?"\)/);
    expect(bundle).toMatch(/require\("cdktf"\)/);

    const manifest = join(own, 'node_modules', 'zod', 'package.json');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(/"version": "([^"]+)"/, '"version": "$1-local"'));
    expect(await run('out-2')).toEqual({ code: 0, stderr: '' });
    expect(bundles()).toHaveLength(2);
    const golden = readGolden('aspera.config').get('cdk.tf.json');
    for (const outdir of ['out-1', 'out-2']) {
      expect(readFileSync(join(own, outdir, 'stacks', 'aspera-cross-account', 'cdk.tf.json'), 'utf8').split(own).join(REPO_ROOT_MARKER)).toBe(golden);
    }
  } finally {
    rmSync(own, { recursive: true, force: true });
  }
}, 90_000);
