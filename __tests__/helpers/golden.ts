/**
 * Golden files: what `cdktf synth` writes for every fixture config (cdk.tf.json and the host
 * scripts next to it), kept under __tests__/golden/<case>/ so that any change to the synthesized
 * output shows up as a diff in review. golden.test.ts fails when a synth differs from its golden;
 * `npm run golden` (scripts/golden.ts) rewrites them. Regenerate only for an intended output change,
 * and review the diff like code.
 *
 * The cases are every config file the tests read (aspera.config.json, fixtures/configs/valid/ and
 * two-organizations/), the base config of the host-script suites, and the configs the test helpers
 * derive from them (the two halves of a config, a config with many grants).
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SCRIPT_LOGIC } from '../../src/aspera/host-scripts';
import type { ConfigInput } from '../../src/config/schema';
import { BASE as HOST_SCRIPTS_BASE_CONFIG } from './aspera-host';
import { fixtureConfigInput, halvesOf, manyGrantsConfigInput, synthConfigToDir, twoOrganizationsConfigInput, validFixtureNames } from './synth';

export const REPO_ROOT = join(__dirname, '..', '..');
export const GOLDEN_DIR = join(REPO_ROOT, '__tests__', 'golden');

/**
 * Stands for the repository's directory in golden files: the default local state path is
 * absolute (resolved where cdktf runs), and the goldens must not depend on where the clone is.
 */
export const REPO_ROOT_MARKER = '<repo-root>';

/**
 * Every host script ends in the same constant logic (src/aspera/aspera-conf-edit.sh with its awk
 * embedded, some 800 lines). The goldens keep it once, in SCRIPT_LOGIC_GOLDEN, and each script's
 * golden has this line in its place: a script whose logic differed in any byte would keep its
 * whole text and so differ from its golden.
 */
export const SCRIPT_LOGIC_MARKER = '@golden: the constant script logic, as in __tests__/golden/script-logic.sh@\n';
export const SCRIPT_LOGIC_GOLDEN = join(GOLDEN_DIR, 'script-logic.sh');
export const currentScriptLogic = (): string => SCRIPT_LOGIC;

export interface GoldenCase {
  /** Directory name under __tests__/golden/. */
  readonly name: string;
  readonly config: ConfigInput;
}

const stem = (file: string) => file.replace(/\.json$/, '');

export function goldenCases(): GoldenCase[] {
  const cases: GoldenCase[] = [{ name: 'aspera.config', config: JSON.parse(readFileSync(join(REPO_ROOT, 'aspera.config.json'), 'utf8')) }];
  for (const file of validFixtureNames()) cases.push({ name: `valid-${stem(file)}`, config: fixtureConfigInput(file) });
  const twoOrganizations = join(REPO_ROOT, '__tests__', 'fixtures', 'configs', 'two-organizations');
  for (const file of readdirSync(twoOrganizations).filter((f) => f.endsWith('.json')).sort()) {
    cases.push({ name: `two-organizations-${stem(file)}`, config: twoOrganizationsConfigInput(file) });
  }
  for (const file of ['minimal.json', 'two-buckets-prefixes.json']) {
    for (const [variant, options] of [
      ['', {}],
      ['-remote-state-generated-id', { otherHalfState: true, generateExternalId: true }],
    ] as const) {
      const halves = halvesOf(fixtureConfigInput(file), options);
      cases.push({ name: `halves-${stem(file)}${variant}-bucket-owner`, config: halves.bucketOwner });
      cases.push({ name: `halves-${stem(file)}${variant}-transfer-host`, config: halves.transferHost });
    }
  }
  cases.push({ name: 'host-scripts-base', config: HOST_SCRIPTS_BASE_CONFIG });
  cases.push({ name: 'many-grants-12', config: manyGrantsConfigInput(12) });
  return cases;
}

/** Every file under `dir`, by path relative to it (with "/"), sorted. */
function filesUnder(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}

/** What one case synthesizes into its stack directory: relative path -> contents (repository path replaced by the marker). */
export function synthesizeGolden(config: ConfigInput): Map<string, string> {
  const { outdir, stackDir } = synthConfigToDir(config);
  try {
    return new Map(
      filesUnder(stackDir).map((path) => [path, readFileSync(join(stackDir, path), 'utf8').split(REPO_ROOT).join(REPO_ROOT_MARKER).split(SCRIPT_LOGIC).join(SCRIPT_LOGIC_MARKER)]),
    );
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The committed golden files of one case (empty when the case has none yet). */
export function readGolden(name: string): Map<string, string> {
  const dir = join(GOLDEN_DIR, name);
  return new Map(filesUnder(dir).map((path) => [path, readFileSync(join(dir, path), 'utf8')]));
}
