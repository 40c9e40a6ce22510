/**
 * A fleet's SSM documents run for real, step by step the way SSM Agent runs a Command document
 * (amazon-ssm-agent: agent/framework/docparser/docparser.go, agent/plugins/downloadcontent/
 * downloadcontent.go, s3resource/s3resource.go and agent/fileutil/artifact/artifact.go for
 * aws:downloadContent; agent/plugins/runscript/runscript.go and runshellscript.go,
 * agent/plugins/pluginutil/pluginutil.go CreateScriptFile and agent/executers/executers.go for
 * aws:runShellScript), as root, in the document's order, in a run directory
 * <orchestration>/<association ID>/<run ID> (0700); each step's own directory is <run dir>/<step name>:
 *
 *  - aws:downloadContent (S3): the object its sourceInfo URL names is the aws_s3_object with that
 *    bucket and key, and its bytes are those of the file the object's `source` names in the stack
 *    directory (what Terraform uploads). A relative destinationPath lands at
 *    <run dir>/downloads/<destinationPath>: directories made 0700, the file written under the
 *    sha1 of its URL (with an .etag file beside it), renamed, then chmod 0700. When the download
 *    fails and the step's onFailure is "exit", the run stops there.
 *  - aws:runShellScript: the runCommand lines joined with "\n" plus a final "\n" written to
 *    <run dir>/<step name>/_script.sh (mode 0700, its directory 0700), run as
 *    `sh -c <that file>` in <run dir>/downloads (the agent's working directory for a step when
 *    that directory exists; else its own, /usr/bin/ as amazon-ssm-agent.service sets it).
 *
 * /bin/sh is dash on Debian and Ubuntu, bash on Amazon Linux and RHEL; each run once with each,
 * the one this machine does not have as /bin/sh bound over it in a private mount namespace.
 *
 * Per run: the install puts the docroots into aspera.conf (and, for a grant installed as an access
 * key, creates it through a stand-in Node API in a process of its own), the uninstall restores it byte for
 * byte (and deletes the key), and neither writes the External ID or a docroot to its output (which SSM keeps as the
 * command output, in the console and in the S3 output location). And when the file the download
 * step should have written is not there, the run fails saying so, and aspera.conf is untouched.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { docrootOf, fakeTool, fixture, tempRoot, XFER2_DOCROOT } from '../helpers/aspera-host';
import { requireHostTools } from '../helpers/host-suite';
import { startNodeApiStandInProcess } from '../helpers/node-api-stand-in-process';
import { baseConfigInput, synthConfigToDir } from '../helpers/synth';

const EXTERNAL_ID = 'aspera-7f3c9e21';
const ORIGINAL = fixture('hsts-realm.conf');
const INSTANCE_ID = 'i-0123456789abcdef0';
const REGION = 'us-east-1';
/** The agent's own working directory (amazon-ssm-agent.service: WorkingDirectory=/usr/bin/). */
const AGENT_CWD = '/usr/bin/';

/** /bin/sh as each family of Linux has it. */
const SHELLS = [
  { how: '/bin/sh is dash (Debian, Ubuntu)', shell: '/usr/bin/dash', name: 'dash' },
  { how: '/bin/sh is bash (Amazon Linux, RHEL)', shell: '/usr/bin/bash', name: 'bash' },
] as const;

interface Step {
  action: string;
  name: string;
  precondition: unknown;
  inputs: Record<string, any>;
}
interface Document {
  schemaVersion: string;
  mainSteps: Step[];
}

/** A fleet as synthesized: its document, and what its S3 object holds, keyed by the object's URL. */
interface Synthesized {
  readonly action: 'install' | 'uninstall';
  readonly document: Document;
  readonly objects: ReadonlyMap<string, Buffer>;
}

/** What the download step does in a run: what the agent does, or (the check under test) not. */
type Download = 'as-the-agent' | 'writes-nothing' | 'writes-a-directory';

interface AgentRun {
  readonly runDir: string;
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

let root: string;
const binShell = realpathSync('/bin/sh');
beforeAll(() => {
  requireHostTools();
  if (process.getuid?.() !== 0) throw new Error('SSM Agent runs documents as root: run the host suite as root');
  root = tempRoot('ssm');
});
afterAll(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

/** The seed Terraform generated (random_bytes.access_key_secret_seed.hex), in the runs with access keys. */
const SEED = '5eed0123456789abcdef0123456789ab';
const SEED_SPLICE = /^\$\{sensitive\(replace\(file\(("[^"]+")\), "ASPERAACCESSKEYSEEDMARKER", nonsensitive\(random_bytes\.access_key_secret_seed\.hex\)\)\)\}$/;

/** An access-key grant, and the fleet's Node API (the stand-in) and credentials file. */
interface AccessKeys {
  readonly url: string;
  readonly credentialsFile: string;
}

function synthesize(conf: string, docroots: 'installed' | 'removed', accessKeys?: AccessKeys): Synthesized {
  const base = baseConfigInput();
  const out = synthConfigToDir({
    ...base,
    ...(accessKeys === undefined ? {} : { grants: base.grants.map((g) => ({ ...g, installAs: ['docroot', 'access-key'] })) }),
    asperaFleets: [
      {
        name: 'transfer-asg',
        targets: { autoScalingGroupName: 'aspera-asg' },
        scriptS3: { bucket: 'media-ops-aspera-scripts' },
        asperaConfPath: conf,
        docroots,
        ...(accessKeys === undefined ? {} : { nodeApi: { url: accessKeys.url, credentialsFile: accessKeys.credentialsFile } }),
      },
    ],
  } as never);
  try {
    const action = docroots === 'installed' ? 'install' : 'uninstall';
    const fleetDir = 'aspera-host-scripts/aspera_fleets/transfer-asg';
    const text = readFileSync(join(out.stackDir, fleetDir, `${action}.ssm-document.json`), 'utf8');
    expect(out.tf.resource!.aws_ssm_document.fleet_transfer_asg.content).toBe(`\${file(${JSON.stringify(`${fleetDir}/${action}.ssm-document.json`)})}`);
    // S3 as Terraform leaves it: each aws_s3_object at its path-style URL, holding its `source` file,
    // or, for an install with access keys, its `content`: that file with the seed in place of the marker.
    const objects = new Map<string, Buffer>();
    for (const [name, object] of Object.entries(out.tf.resource!.aws_s3_object ?? {})) {
      const url = `https://s3.${REGION}.amazonaws.com/${object.bucket}/${object.key}`;
      const spliced = typeof object.content === 'string' ? SEED_SPLICE.exec(object.content) : null;
      if (typeof object.source === 'string') objects.set(url, readFileSync(join(out.stackDir, object.source)));
      else if (spliced !== null) objects.set(url, Buffer.from(readFileSync(join(out.stackDir, JSON.parse(spliced[1]) as string), 'utf8').split('ASPERAACCESSKEYSEEDMARKER').join(SEED)));
      else throw new Error(`aws_s3_object.${name} has neither a source nor the seed splice: ${JSON.stringify(object)}`);
    }
    if (accessKeys === undefined || action === 'uninstall') expect(out.tf.resource!.aws_s3_object.fleet_transfer_asg.source).toBe(`${fleetDir}/${action}.sh`);
    else expect(out.tf.resource!.aws_s3_object.fleet_transfer_asg.content).toMatch(SEED_SPLICE);
    return { action, document: JSON.parse(text) as Document, objects };
  } finally {
    rmSync(out.outdir, { recursive: true, force: true });
  }
}

const mkdir0700 = (dir: string) => {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
};

/**
 * Runs a document as SSM Agent does, under the association's run `runId`, with `shell` as /bin/sh.
 * Returns the runShellScript step's result (or throws if the run stopped before it).
 */
function agentRuns(dir: string, runId: string, synthesized: Synthesized, shell: (typeof SHELLS)[number], env: Record<string, string>, download: Download = 'as-the-agent'): AgentRun {
  const { document, objects } = synthesized;
  expect(document.schemaVersion).toBe('2.2');
  expect(document.mainSteps.map((s) => s.action)).toEqual(['aws:downloadContent', 'aws:runShellScript']);
  const runDir = join(dir, 'var/lib/amazon/ssm', INSTANCE_ID, 'document/orchestration/11111111-2222-3333-4444-555555555555', runId);
  mkdir0700(runDir);
  let result: AgentRun | undefined;
  for (const step of document.mainSteps) {
    // Every step is for Linux, which this is.
    expect(step.precondition).toEqual({ StringEquals: ['platformType', 'Linux'] });
    if (step.action === 'aws:downloadContent') {
      expect(step.inputs.sourceType).toBe('S3');
      const url = (JSON.parse(step.inputs.sourceInfo) as { path: string }).path.trim();
      const destination = isAbsolute(step.inputs.destinationPath) ? step.inputs.destinationPath : `${join(runDir, 'downloads')}/${step.inputs.destinationPath}`;
      const body = objects.get(url);
      if (body === undefined) {
        // GetObject fails: the step fails, and "exit" ends the run.
        expect(step.inputs.onFailure).toBe('exit');
        throw new Error(`the download step's object ${url} is not in S3 (the objects: ${[...objects.keys()].join(', ')})`);
      }
      if (download === 'writes-nothing') continue;
      mkdir0700(dirname(destination));
      if (download === 'writes-a-directory') {
        // What the agent does when it takes the URL for a folder: the object goes into a directory at destinationPath.
        mkdir0700(destination);
        writeFileSync(join(destination, url.slice(url.lastIndexOf('/') + 1)), body, { mode: 0o700 });
        continue;
      }
      const hashed = join(dirname(destination), createHash('sha1').update(url).digest('hex'));
      writeFileSync(hashed, body, { mode: 0o644 });
      writeFileSync(`${hashed}.etag`, `"${createHash('md5').update(body).digest('hex')}"`, { mode: 0o644 });
      renameSync(hashed, destination);
      chmodSync(destination, 0o700);
    } else if (step.action === 'aws:runShellScript') {
      const stepDir = join(runDir, step.name);
      mkdir0700(stepDir);
      const file = join(stepDir, '_script.sh');
      writeFileSync(file, `${(step.inputs.runCommand as string[]).join('\n')}\n`, { mode: 0o700 });
      chmodSync(file, 0o700);
      const downloads = join(runDir, 'downloads');
      const cwd = existsSync(downloads) ? downloads : AGENT_CWD;
      const agentEnv = { ...env, AWS_SSM_INSTANCE_ID: INSTANCE_ID, AWS_SSM_REGION_NAME: REGION };
      const r =
        realpathSync(shell.shell) === binShell
          ? spawnSync('sh', ['-c', file], { env: agentEnv, cwd, encoding: 'utf8' })
          : // A private mount namespace where /bin/sh (the file its links lead to) is `shell`; it checks that it is.
            spawnSync(
              'unshare',
              [
                '--mount',
                '--propagation',
                'private',
                '--',
                '/bin/sh',
                '-c',
                'mount --bind "$1" "$2" || exit 97; [ "$(/bin/sh -c \'if [ -n "${BASH_VERSION-}" ]; then echo bash; else echo dash; fi\')" = "$3" ] || { echo "/bin/sh is not $3 in the namespace" >&2; exit 98; }; exec sh -c "$4"',
                'bind-sh',
                shell.shell,
                binShell,
                shell.name,
                file,
              ],
              { env: agentEnv, cwd, encoding: 'utf8' },
            );
      if (r.error !== undefined) throw r.error;
      result = { runDir, status: r.status, stdout: r.stdout, stderr: r.stderr };
    } else {
      throw new Error(`no simulation of ${step.action}`);
    }
  }
  if (result === undefined) throw new Error('the document has no aws:runShellScript step');
  return result;
}

describe.each(SHELLS)('$how', (shell) => {
  const setup = (name: string) => {
    const dir = join(root, `${shell.name}-${name}`);
    const etc = join(dir, 'etc');
    const bin = join(dir, 'bin');
    mkdirSync(etc, { recursive: true });
    mkdirSync(bin, { recursive: true });
    const log = join(dir, 'calls.log');
    writeFileSync(log, '');
    fakeTool(bin, 'systemctl', log);
    const conf = join(etc, 'aspera.conf');
    writeFileSync(conf, ORIGINAL);
    // The agent's environment: no ASPERA_CONF, the document's path is the one used.
    const env = { PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` };
    const calls = () => readFileSync(log, 'utf8').split('\n').filter((l) => l !== '');
    return { dir, conf, env, calls };
  };

  test('install, then uninstall: the docroot goes in, aspera.conf comes back byte for byte, the output names no docroot and no External ID', () => {
    const { dir, conf, env, calls } = setup('both');
    const install = synthesize(conf, 'installed');
    const installed = agentRuns(dir, 'run-1', install, shell, env);
    // This machine has no system account xfer2, and the install says so (a warning, not an error).
    const noAccount = spawnSync('getent', ['passwd', 'xfer2']).status !== 0;
    expect({ status: installed.status, stderr: installed.stderr.split('\n').filter((l) => l !== '') }).toEqual({
      status: 0,
      stderr: noAccount ? [expect.stringMatching(/^aspera-cross-account: warning: 1 transfer user has no system account on this host \(xfer2\): /)] : [],
    });
    expect(docrootOf(readFileSync(conf, 'utf8'), 'xfer2')).toMatchObject({ absolute: XFER2_DOCROOT, read_allowed: 'true', write_allowed: 'true' });
    expect(installed.stdout).toMatch(/updated /);
    // The agent's layout, as the script ran from it: root's, 0700, the script byte for byte the S3 object.
    const downloaded = join(installed.runDir, 'downloads', 'install.sh');
    expect(readFileSync(downloaded).equals([...install.objects.values()][0])).toBe(true);
    for (const [path, mode] of [
      [installed.runDir, 0o700],
      [join(installed.runDir, 'downloads'), 0o700],
      [downloaded, 0o700],
      [join(installed.runDir, 'install'), 0o700],
      [join(installed.runDir, 'install', '_script.sh'), 0o700],
    ] as const) {
      const s = statSync(path);
      expect({ path, mode: s.mode & 0o7777, uid: s.uid }).toEqual({ path, mode, uid: 0 });
    }

    const removed = agentRuns(dir, 'run-2', synthesize(conf, 'removed'), shell, env);
    expect({ status: removed.status, stderr: removed.stderr }).toEqual({ status: 0, stderr: 'aspera-cross-account: xfer2: docroot removed; the settings from before this stack are restored\n' });
    expect(readFileSync(conf).equals(Buffer.from(ORIGINAL))).toBe(true);
    expect(calls()).toEqual(['systemctl restart asperanoded', 'systemctl restart asperanoded']);

    for (const output of [installed.stdout, installed.stderr, removed.stdout, removed.stderr]) {
      expect(output).not.toContain(EXTERNAL_ID);
      expect(output).not.toContain('s3://');
      expect(output).not.toContain('iam-role.external-id');
    }
  });

  test('a grant installed as a Node API access key too: the install creates it through the Node API, the uninstall deletes it, the output names no secret', async () => {
    const { dir, conf, env } = setup('access-keys');
    const api = await startNodeApiStandInProcess({ users: { node_admin: 'n0de-pa55' } });
    try {
      const credentialsFile = join(dir, 'node-api.credentials');
      writeFileSync(credentialsFile, 'node_admin:n0de-pa55\n', { mode: 0o600 });
      const keys = { url: api.url, credentialsFile };
      const installed = agentRuns(dir, 'run-1', synthesize(conf, 'installed', keys), shell, env);
      expect(installed.status).toBe(0);
      const id = 'aspera-cross-account-111111111111-xfer2';
      const afterInstall = await api.recorded();
      expect(afterInstall.requests.map((r) => [r.method, r.path, r.status, r.schemaProblems])).toEqual([
        ['GET', `/access_keys/${id}`, 404, []],
        ['POST', '/access_keys', 200, []],
      ]);
      const secret = createHash('sha256').update(`${SEED}:${id}`).digest('hex');
      expect(afterInstall.keys).toEqual([
        {
          id,
          secret,
          owner: 'node_admin',
          storage: {
            type: 'aws_s3',
            bucket: 'acme-aspera-inbox',
            endpoint: 's3.amazonaws.com',
            path: '/',
            credentials: { type: 'assume-role', assume_role_arn: 'arn:aws:iam::111111111111:role/aspera-cross-account-xfer2', assume_role_external_id: EXTERNAL_ID, assume_role_session_name: 'aspera-cross-account.xfer2' },
          },
        },
      ]);
      expect(docrootOf(readFileSync(conf, 'utf8'), 'xfer2')).toMatchObject({ absolute: XFER2_DOCROOT });

      const removed = agentRuns(dir, 'run-2', synthesize(conf, 'removed', keys), shell, env);
      expect(removed.status).toBe(0);
      const afterUninstall = await api.recorded();
      expect(afterUninstall.requests.slice(2).map((r) => [r.method, r.path, r.status])).toEqual([['DELETE', `/access_keys/${id}`, 204]]);
      expect(afterUninstall.keys).toEqual([]);
      expect(readFileSync(conf).equals(Buffer.from(ORIGINAL))).toBe(true);
      for (const output of [installed.stdout, installed.stderr, removed.stdout, removed.stderr]) {
        for (const secretValue of [SEED, secret, 'n0de-pa55']) expect(output).not.toContain(secretValue);
      }
    } finally {
      await api.stop();
    }
  });

  test.each(['writes-nothing', 'writes-a-directory'] as const)('the download step %s where the script should be: the run fails saying so, aspera.conf untouched', (download) => {
    const { dir, conf, env, calls } = setup(download);
    const run = agentRuns(dir, 'run-1', synthesize(conf, 'installed'), shell, env, download);
    expect(run).toEqual({
      runDir: run.runDir,
      status: 1,
      stdout: '',
      stderr: `aspera-cross-account: error: ${run.runDir}/install/../downloads/install.sh is missing: the download step did not write it\n`,
    });
    expect(readFileSync(conf).equals(Buffer.from(ORIGINAL))).toBe(true);
    expect(calls()).toEqual([]);
  });
});
