/**
 * Host keys as ssh-keygen writes them (written by OpenSSH, not by our code) are accepted, and the
 * same blob under another type name is refused. In the host suite: it needs ssh-keygen, which
 * a newcomer's machine may lack (.ci/run installs openssh-client).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../src/config-file';
import { baseConfigInput } from '../helpers/synth';

const problemsOf = (input: unknown): string[] => {
  const r = validateConfig(input);
  return r.ok ? [] : r.problems;
};

describe('host keys as ssh-keygen writes them', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'aspera-hostkeys-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const keyOf = (type: string, bits?: number): string => {
    const file = join(dir, `${type}-${bits ?? 0}`);
    execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits === undefined ? [] : ['-b', String(bits)]), '-N', '', '-C', '', '-f', file]);
    return readFileSync(`${file}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  };
  const withKey = (hostKey: string) => baseConfigInput({ asperaHosts: [{ host: '203.0.113.10', user: 'ec2-user', hostKey }] });

  test.each([['ed25519', 0], ['rsa', 2048], ['ecdsa', 256], ['ecdsa', 384], ['ecdsa', 521]] as [string, number][])('%s (%i bits, 0: fixed): accepted; with another type name in front: refused', (type, bits) => {
    const key = keyOf(type, bits === 0 ? undefined : bits);
    expect(problemsOf(withKey(key))).toEqual([]);
    const [written, blob] = key.split(' ');
    const other = written === 'ssh-ed25519' ? 'ssh-rsa' : 'ssh-ed25519';
    expect(problemsOf(withKey(`${other} ${blob}`))).toEqual([expect.stringMatching(new RegExp(`^asperaHosts\\[0\\]\\.hostKey: says ${other} but the key itself is "${written}"`))]);
  });
});

