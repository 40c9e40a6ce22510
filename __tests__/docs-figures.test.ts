/**
 * The figures the docs state about how many grants fit, computed here with the same check
 * `cdktf synth` runs (src/iam/limits.ts through validateConfig), and found in every place that
 * states them. When a change to the policies moves a figure, this test names each sentence to fix;
 * the old rounded forms ("about 100 to 160", "about 150") may not come back.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig } from '../src/config-file';
import type { ConfigInput } from '../src/config/schema';
import { baseConfigInput } from './helpers/synth';
import { REPO_ROOT } from './helpers/invalid-configs';

/** The most grants the example config takes with the default host policy, their role names made by `roleName(i)`. */
function mostThatFit(roleName: (i: number) => string | undefined): number {
  const grants = (n: number): ConfigInput['grants'] =>
    Array.from({ length: n }, (_, i) => ({ transferUser: `xfer${i}`, bucket: 'acme-aspera-inbox', prefix: '', access: 'read-write' as const, ...(roleName(i) ? { roleName: roleName(i) } : {}) }));
  let fits = 1;
  let over = 1000;
  while (over - fits > 1) {
    const mid = Math.floor((fits + over) / 2);
    if (validateConfig(baseConfigInput({ grants: grants(mid) })).ok) fits = mid;
    else over = mid;
  }
  return fits;
}

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8').replace(/\s+/g, ' ');
const docs = ['README.md', 'help', ...readdirSync(join(REPO_ROOT, 'docs')).map((f) => `docs/${f}`)];

describe('how many grants the exact host policy takes', () => {
  // Default names "aspera-cross-account-xfer<i>"; the longest: 64 characters each.
  const example = mostThatFit(() => undefined);
  const longest = mostThatFit((i) => `r${String(i).padStart(4, '0')}`.padEnd(64, 'x'));

  test.each([
    ['README.md', `fits ${example} grants with the example config's names, ${longest} when every role name has 64 characters`],
    ['docs/configuration.md', `the example config's names ${example} grants fit; longer role names fit fewer (${longest} when every role name has 64 characters)`],
    ['docs/limitations.md', `${longest} to ${example} grants per stack`],
    ['docs/what-the-stack-creates.md', `${example} grants with the example config's names, ${longest} with 64-character role names`],
    ['docs/what-the-stack-creates.md', `more than ${longest} grants (the most that fit whatever the role names' length`],
    ['docs/what-the-stack-creates.md', `${example} grants with the default names of the example config, ${longest} if every role name uses the full 64 characters`],
    ['docs/configuration-reference.md', `${example} grants with the example config's names, ${longest} with 64-character role names`],
  ])('%s says so: "%s"', (path, sentence) => {
    expect(read(path)).toContain(sentence);
  });

  test.each(docs)('%s has none of the old rounded figures', (path) => {
    expect(read(path)).not.toMatch(/about 1\d0 grants|about 100 to 16\d|about 150 grants|about 100 (when|if|with) (every|64)/);
  });
});
