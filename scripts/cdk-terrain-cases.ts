/**
 * The golden half of scripts/cdk-terrain-check.mjs, bundled by it against CDK Terrain (every
 * `cdktf` import is `cdktn` there, see that file) and run under Node 22: what scripts/golden.ts
 * does for every golden case, but written to a directory of its own instead of __tests__/golden/.
 *
 *   node cases.js <out>
 *
 * writes <out>/cases.json (each case's name and stackName), <out>/configs/<case>.json (the config,
 * for the app run that follows), <out>/golden-path/<case>/... (what synthesizeGolden() returns, the
 * same function and the same calls as `npm run golden`) and <out>/script-logic.txt (the host
 * scripts' constant logic that the goldens keep once). Nothing under __tests__/golden/ is read or
 * written here: the comparison is the check's.
 *
 * Under cdktf (tsx, `npm test`) it would write what the goldens hold; it is not run that way.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { currentScriptLogic, goldenCases, synthesizeGolden } from '../__tests__/helpers/golden';
import { validConfig } from '../__tests__/helpers/synth';

const out = process.argv[2];
if (out === undefined) {
  process.stderr.write('usage: node cases.js <output directory>\n');
  process.exit(2);
}

const cases = goldenCases();
mkdirSync(join(out, 'configs'), { recursive: true });
writeFileSync(join(out, 'script-logic.txt'), currentScriptLogic());
const index: Array<{ name: string; stackName: string }> = [];
for (const c of cases) {
  writeFileSync(join(out, 'configs', `${c.name}.json`), `${JSON.stringify(c.config, null, 2)}\n`);
  for (const [path, text] of synthesizeGolden(c.config)) {
    const file = join(out, 'golden-path', c.name, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  index.push({ name: c.name, stackName: validConfig(c.config).stackName });
}
writeFileSync(join(out, 'cases.json'), `${JSON.stringify(index, null, 2)}\n`);
