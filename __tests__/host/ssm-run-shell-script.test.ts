/**
 * A fleet's SSM documents run for real, fed the way SSM Agent's aws:runShellScript runs them
 * (amazon-ssm-agent, agent/plugins/runscript/runscript.go and runshellscript.go, pluginutil
 * CreateScriptFile): as root, the runCommand lines joined with "\n" plus a final "\n" written to
 * `_script.sh` (mode 0700) in the command's orchestration directory (created 0700), then
 * `sh -c <that file> <exit-code trap>`. The same file is also read by dash and by bash directly.
 *
 * Per run: the install puts the docroots into aspera.conf, the uninstall restores it byte for
 * byte, and neither writes the External ID or a docroot to its output (which SSM keeps as the
 * command output, in the console and in the S3 output location).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { docrootOf, fakeTool, fixture, tempRoot, XFER2_DOCROOT } from '../helpers/aspera-host';
import { requireHostTools } from '../helpers/host-suite';
import { baseConfigInput, synthConfigToDir } from '../helpers/synth';

const EXTERNAL_ID = 'aspera-7f3c9e21';
const ORIGINAL = fixture('hsts-realm.conf');
const RUNS = [
  { how: 'sh -c <file> (as SSM Agent does)', command: (file: string) => ['/bin/sh', ['-c', file, 'exit-code-trap']] as const },
  { how: 'dash <file>', command: (file: string) => ['/usr/bin/dash', [file]] as const },
  { how: 'bash <file>', command: (file: string) => ['/usr/bin/bash', [file]] as const },
];

let root: string;
beforeAll(() => {
  requireHostTools();
  if (process.getuid?.() !== 0) throw new Error('SSM Agent runs documents as root: run the host suite as root');
  root = tempRoot('ssm');
});
afterAll(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

/** Writes _script.sh from a document as the agent does and returns its path. */
function agentWrites(orchestration: string, documentText: string): string {
  mkdirSync(orchestration, { recursive: true, mode: 0o700 });
  chmodSync(orchestration, 0o700);
  const runCommand = JSON.parse(documentText).mainSteps[0].inputs.runCommand as string[];
  const file = join(orchestration, '_script.sh');
  writeFileSync(file, `${runCommand.join('\n')}\n`, { mode: 0o700 });
  return file;
}

describe.each(RUNS)('$how', ({ how, command }) => {
  test('install, then uninstall: the docroot goes in, aspera.conf comes back byte for byte, the output names no docroot and no External ID', () => {
    const dir = join(root, how.replace(/[^a-z]+/g, '-'));
    const etc = join(dir, 'etc');
    const bin = join(dir, 'bin');
    mkdirSync(etc, { recursive: true });
    mkdirSync(bin, { recursive: true });
    const log = join(dir, 'calls.log');
    writeFileSync(log, '');
    fakeTool(bin, 'systemctl', log);
    const conf = join(etc, 'aspera.conf');
    writeFileSync(conf, ORIGINAL);
    const documents = (docroots: 'installed' | 'removed') => {
      const out = synthConfigToDir(baseConfigInput({ asperaFleets: [{ name: 'transfer-asg', targets: { autoScalingGroupName: 'aspera-asg' }, asperaConfPath: conf, docroots }] } as never));
      const action = docroots === 'installed' ? 'install' : 'uninstall';
      const text = readFileSync(join(out.stackDir, 'aspera-host-scripts/aspera_fleets/transfer-asg', `${action}.ssm-document.json`), 'utf8');
      rmSync(out.outdir, { recursive: true, force: true });
      return text;
    };
    // The agent's environment: no ASPERA_CONF, the document's path is the one used.
    const env = { PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` };
    const run = (documentText: string, commandId: string) => {
      const file = agentWrites(join(dir, 'var/lib/amazon/ssm/i-0123456789abcdef0/document/orchestration', commandId, 'install'), documentText);
      const [shell, args] = command(file);
      return spawnSync(shell, [...args], { env, cwd: join(dir), encoding: 'utf8' });
    };

    const installed = run(documents('installed'), '11111111-aaaa-bbbb-cccc-000000000001');
    expect({ status: installed.status, stderr: installed.stderr }).toEqual({ status: 0, stderr: '' });
    expect(docrootOf(readFileSync(conf, 'utf8'), 'xfer2')).toMatchObject({ absolute: XFER2_DOCROOT, read_allowed: 'true', write_allowed: 'true' });
    expect(installed.stdout).toMatch(/updated /);

    const removed = run(documents('removed'), '11111111-aaaa-bbbb-cccc-000000000002');
    expect({ status: removed.status, stderr: removed.stderr }).toEqual({ status: 0, stderr: 'aspera-cross-account: xfer2: docroot removed; the settings from before this stack are restored\n' });
    expect(readFileSync(conf).equals(Buffer.from(ORIGINAL))).toBe(true);
    expect(readFileSync(log, 'utf8').split('\n').filter((l) => l !== '')).toEqual(['systemctl restart asperanoded', 'systemctl restart asperanoded']);

    for (const output of [installed.stdout, installed.stderr, removed.stdout, removed.stderr]) {
      expect(output).not.toContain(EXTERNAL_ID);
      expect(output).not.toContain('s3://');
    }
  });
});
