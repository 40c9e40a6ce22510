/**
 * `npm run golden`: rewrites __tests__/golden/ from what the stack synthesizes now for every golden
 * case (__tests__/helpers/golden.ts), and removes goldens of cases that no longer exist.
 *
 * Run it only when a change to the synthesized output is intended, then review `git diff
 * __tests__/golden` like code: it is exactly what changes in every fixture's cdk.tf.json and host
 * scripts. golden.test.ts fails until the goldens match the code again.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { currentScriptLogic, GOLDEN_DIR, goldenCases, SCRIPT_LOGIC_GOLDEN, synthesizeGolden } from '../__tests__/helpers/golden';

const cases = goldenCases();
mkdirSync(GOLDEN_DIR, { recursive: true });
writeFileSync(SCRIPT_LOGIC_GOLDEN, currentScriptLogic());
for (const entry of readdirSync(GOLDEN_DIR)) {
  if (join(GOLDEN_DIR, entry) !== SCRIPT_LOGIC_GOLDEN && !cases.some((c) => c.name === entry)) rmSync(join(GOLDEN_DIR, entry), { recursive: true, force: true });
}
for (const c of cases) {
  const dir = join(GOLDEN_DIR, c.name);
  rmSync(dir, { recursive: true, force: true });
  for (const [path, text] of synthesizeGolden(c.config)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}
console.log(`golden: wrote ${cases.length} cases to ${GOLDEN_DIR}; review them with: git diff --stat -- __tests__/golden`);
