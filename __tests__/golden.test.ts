/**
 * The synthesized output of every fixture config, byte for byte, against the goldens committed
 * under __tests__/golden/ (see helpers/golden.ts). A difference is either a regression or an
 * intended change: for the latter, run `npm run golden` and review the diff.
 */
import { readFileSync } from 'node:fs';
import { currentScriptLogic, goldenCases, readGolden, SCRIPT_LOGIC_GOLDEN, synthesizeGolden } from './helpers/golden';

const REGENERATE = 'if this change to the synthesized output is intended, run `npm run golden` and review the diff';

test('the host scripts\' constant logic is byte-identical to its golden (kept once, see helpers/golden.ts)', () => {
  const same = currentScriptLogic() === readFileSync(SCRIPT_LOGIC_GOLDEN, 'utf8');
  if (!same) expect({ text: currentScriptLogic(), hint: REGENERATE }).toEqual({ text: readFileSync(SCRIPT_LOGIC_GOLDEN, 'utf8'), hint: REGENERATE });
  expect(same).toBe(true);
});

describe.each(goldenCases())('golden synth output: $name', ({ name, config }) => {
  const actual = synthesizeGolden(config);
  const golden = readGolden(name);

  test('writes exactly the files of its golden', () => {
    expect({ files: [...actual.keys()], hint: REGENERATE }).toEqual({ files: [...golden.keys()], hint: REGENERATE });
  });

  test.each([...golden.keys()])('%s is byte-identical to its golden', (path) => {
    const same = actual.get(path) === golden.get(path);
    if (!same) expect({ file: `${name}/${path}`, text: actual.get(path), hint: REGENERATE }).toEqual({ file: `${name}/${path}`, text: golden.get(path), hint: REGENERATE });
    expect(same).toBe(true);
  });
});
