/**
 * Checks of the host scripts that need tools `npm test` does not assume: shellcheck on every script
 * the stack renders, and Debian's coreutils for the minimal-PATH run of aspera-scripts.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EXTERNAL_ID_MARKER, renderHostScripts, sampleHexExternalId } from '../../src/aspera/host-scripts';
import { runAsync, scriptFile, tempRoot, testConfig } from '../helpers/aspera-host';
import { requireHostTools } from '../helpers/host-suite';
import { fixtureConfigInput, halvesOf, synthConfigToDir, validFixtureNames } from '../helpers/synth';
import { COREUTILS_FOR_SCRIPTS } from '../helpers/unprivileged';

const root = tempRoot('script-tools');
const synthDirs: string[] = [];
afterAll(() => [root, ...synthDirs].forEach((d) => rmSync(d, { recursive: true, force: true })));

beforeAll(() => requireHostTools());

const shFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? shFiles(join(dir, e.name)) : e.name.endsWith('.sh') ? [join(dir, e.name)] : []));

test('shellcheck (POSIX sh) passes on every script the stack renders', async () => {
  const files: string[] = [];
  // What cdktf synth writes for each example config, and for a generated External ID (the file
  // with its marker, and the text Terraform uploads once the value is spliced in).
  const generated = halvesOf(fixtureConfigInput('two-buckets-prefixes.json'), { generateExternalId: true }).transferHost;
  for (const input of [...validFixtureNames().map(fixtureConfigInput), generated]) {
    const synth = synthConfigToDir(input);
    synthDirs.push(synth.outdir);
    files.push(...shFiles(synth.stackDir));
  }
  const marked = files.filter((f) => readFileSync(f, 'utf8').includes(EXTERNAL_ID_MARKER));
  expect(marked.length).toBeGreaterThan(0);
  marked.forEach((f, i) => files.push(scriptFile(root, `uploaded-${i}.sh`, `${readFileSync(f, 'utf8').split(EXTERNAL_ID_MARKER).join(sampleHexExternalId(32))}\n`)));
  // Values at the edge of what the schema allows.
  const edge = testConfig({
    stackName: 'Other-Stack',
    externalId: 'Ext+ID=1,2.3@host:path/x-y_z',
    asperaHosts: [{ host: 'aspera.example.com', user: 'root', asperaConfPath: '/etc/aspera/aspera.conf', hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl' }],
  });
  const edgeScripts = renderHostScripts(edge, edge.asperaHosts[0]);
  files.push(scriptFile(root, 'install-edge.sh', edgeScripts.install), scriptFile(root, 'uninstall-edge.sh', edgeScripts.uninstall));
  // Every example config has hosts: an install and an uninstall each, at least.
  expect(files.length).toBeGreaterThanOrEqual(2 * validFixtureNames().length + 2);

  // Scripts with the same bytes (two hosts of one config, say) are checked once: shellcheck takes
  // about half a second per script, and the test's run is bounded to 30 s.
  const seen = new Set<string>();
  const unique = files.filter((f) => {
    const hash = createHash('sha256').update(readFileSync(f)).digest('hex');
    if (seen.has(hash)) return false;
    seen.add(hash);
    return true;
  });
  const r = await runAsync('shellcheck', ['--shell=sh', '--severity=style', ...unique], { PATH: process.env.PATH ?? '/usr/bin:/bin' });
  expect(`${r.stdout}${r.stderr}`).toBe('');
  expect(r.status).toBe(0);
});

test('the programs the minimal-PATH test gives the scripts are Debian\'s coreutils', () => {
  const packaged = spawnSync('dpkg', ['-L', 'coreutils'], { encoding: 'utf8' }).stdout.split('\n');
  for (const tool of COREUTILS_FOR_SCRIPTS) expect([tool, packaged.some((f) => f === `/bin/${tool}` || f === `/usr/bin/${tool}`)]).toEqual([tool, true]);
});
