/**
 * src/synth/token-stack-traces.ts: cdktf's token stack-trace capture is off exactly while the
 * build runs, for the cdktf installed here (the replacement reaches cdktf's own token classes).
 */
import { Lazy } from 'cdktf';
import { withoutTokenStackTraces } from '../src/synth/token-stack-traces';

const creationStackOfNewToken = (): string[] => Lazy.anyValue({ produce: () => 'x' }).creationStack;

test('tokens created inside the build carry no stack trace; before and after they do', () => {
  expect(creationStackOfNewToken().length).toBeGreaterThan(0);
  expect(withoutTokenStackTraces(creationStackOfNewToken)).toEqual([]);
  expect(creationStackOfNewToken().length).toBeGreaterThan(0);
});

test('capture is restored when the build throws, and the error comes through unchanged', () => {
  const failure = new Error('construct failed');
  expect(() =>
    withoutTokenStackTraces(() => {
      throw failure;
    }),
  ).toThrow(failure);
  expect(creationStackOfNewToken().length).toBeGreaterThan(0);
});

test('the build returns its value', () => {
  expect(withoutTokenStackTraces(() => 42)).toBe(42);
});
