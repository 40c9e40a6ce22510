/** src/number-format.ts writes whole numbers as en-US does, checked against Intl itself. */
import { withThousands } from '../src/number-format';

const values = [0, 7, 42, 999, 1000, 1224, 2048, 10240, 10241, 99999, 100000, 999999, 1000000, 4194304, 123456789, -1, -999, -1000, -1234567, Number.MAX_SAFE_INTEGER];

test.each(values)('%d as en-US writes it', (value) => {
  expect(withThousands(value)).toBe(new Intl.NumberFormat('en-US').format(value));
});

test('refuses what is not a whole number', () => {
  expect(() => withThousands(1.5)).toThrow('withThousands: 1.5 is not a whole number');
  expect(() => withThousands(Number.NaN)).toThrow('is not a whole number');
});
