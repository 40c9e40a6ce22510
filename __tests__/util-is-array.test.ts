/**
 * src/synth/util-is-array.ts: util.isArray is Array.isArray exactly while the build runs, and the
 * cdktf installed here reads it from the util module at synth time, so the replacement reaches it
 * (on Node 22 and later the original prints DEP0044; cli.test.ts and app-command.test.ts check
 * that a real synth's stderr stays empty).
 */
import { TerraformOutput, TerraformStack, Testing } from 'cdktf';
import { withoutUtilIsArrayWarning } from '../src/synth/util-is-array';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const util = require('node:util') as { isArray: (value: unknown) => boolean };
const original = util.isArray;
let calls = 0;
const counting = (value: unknown): boolean => {
  calls += 1;
  return Array.isArray(value);
};

beforeEach(() => {
  calls = 0;
  util.isArray = counting;
});

afterEach(() => {
  util.isArray = original;
});

/** Synthesizes a stack whose one output has an object value, the case cdktf tests with util.isArray. */
function synthObjectOutput(): void {
  const stack = new TerraformStack(Testing.app(), 'outputs');
  new TerraformOutput(stack, 'map', { value: { a: ['x'], b: 1 } });
  expect(JSON.parse(Testing.synth(stack)).output.map.value).toEqual({ a: ['x'], b: 1 });
}

test('cdktf calls util.isArray through the util module when it synthesizes an object-valued output', () => {
  synthObjectOutput();
  expect(calls).toBeGreaterThan(0);
});

test('inside the build util.isArray is Array.isArray, so cdktf does not call the original; afterwards it is back', () => {
  withoutUtilIsArrayWarning(() => {
    expect(util.isArray).toBe(Array.isArray);
    synthObjectOutput();
  });
  expect(calls).toBe(0);
  expect(util.isArray).toBe(counting);
});

test('util.isArray is restored when the build throws, and the error comes through unchanged', () => {
  const failure = new Error('construct failed');
  expect(() =>
    withoutUtilIsArrayWarning(() => {
      throw failure;
    }),
  ).toThrow(failure);
  expect(util.isArray).toBe(counting);
});

test('the build returns its value', () => {
  expect(withoutUtilIsArrayWarning(() => 42)).toBe(42);
});
