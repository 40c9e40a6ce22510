/**
 * What the Aspera host construct synthesizes: one null_resource per host, its triggers, the two
 * remote-exec provisioners (create, and destroy through the escape hatch), connections built
 * from self.triggers only, the scripts as files in the stack directory, and no key material.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, TerraformStack } from 'cdktf';
import { renderHostScripts } from '../src/aspera/host-scripts';
import type { Config } from '../src/config/schema';
import { AsperaHostConfiguration, hostTriggers } from '../src/constructs/aspera-hosts';
import { testConfig } from './helpers/aspera-host';

const DEPENDS_ON = ['aws_iam_role.grant_xfer2', 'aws_iam_role_policy.transfer_host'];
// Relative to the SSH user's home directory (where a session starts), never /tmp: see the test below.
const SCRIPT_PATH = './.aspera-cross-account-%RAND%.sh';
const HOST_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';

interface Synth {
  readonly stackDir: string;
  readonly text: string;
  readonly json: {
    resource?: { null_resource?: Record<string, NullResourceJson> };
    provider?: Record<string, unknown[]>;
  };
}
interface NullResourceJson {
  triggers: Record<string, string>;
  depends_on: string[];
  provisioner: Array<{ 'remote-exec': Record<string, unknown> & { script: string; connection: Record<string, unknown> } }>;
}

const root = mkdtempSync(join(tmpdir(), 'aspera-test-synth-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function synth(config: Config, name: string): Synth {
  const outdir = join(root, name);
  const app = new App({ outdir });
  const stack = new TerraformStack(app, config.stackName);
  // Stand in for the grant roles and policies the real stack passes as dependsOn.
  new AsperaHostConfiguration(stack, 'aspera_hosts', { config, dependsOn: DEPENDS_ON.map((fqn) => ({ fqn })) });
  app.synth();
  const stackDir = join(outdir, 'stacks', config.stackName);
  const text = readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8');
  return { stackDir, text, json: JSON.parse(text) };
}

// A real (throwaway) private key at the configured path: its bytes must never be synthesized.
const keyPath = join(root, 'id_ed25519');
spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyPath]);
const keyBody = readFileSync(keyPath, 'utf8');

const twoHosts = testConfig({
  asperaHosts: [
    { host: '203.0.113.10', port: 33001, user: 'ec2-user', privateKeyPath: keyPath, asperaConfPath: '/opt/aspera/etc/aspera.conf', hostKey: HOST_KEY },
    { host: 'aspera.example.com', user: 'root', asperaConfPath: '/etc/aspera/aspera.conf' },
  ],
});
const reordered = testConfig({ asperaHosts: [...twoHosts.asperaHosts].reverse() });
const noHosts = testConfig({ asperaHosts: [] });

let main: Synth;
beforeAll(() => {
  main = synth(twoHosts, 'two-hosts');
});

const resources = (s: Synth) => s.json.resource?.null_resource ?? {};
const hostResource = (s: Synth, host: string): [string, NullResourceJson] => {
  const found = Object.entries(resources(s)).filter(([, r]) => r.triggers?.host === host);
  expect(found).toHaveLength(1);
  return found[0];
};
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

test('one null_resource per host, ids derived from host and port', () => {
  const ids = Object.keys(resources(main));
  expect(ids).toHaveLength(2);
  expect(hostResource(main, '203.0.113.10')[0]).toMatch(/^aspera_hosts_host_203_0_113_10_33001_/);
  expect(hostResource(main, 'aspera.example.com')[0]).toMatch(/^aspera_hosts_host_aspera_example_com_22_/);
});

test('triggers: connection values, aspera.conf path and the sha256 of both scripts as written', () => {
  const [, key] = hostResource(main, '203.0.113.10');
  const [installScript, uninstallScript] = key.provisioner.map((p) => join(main.stackDir, p['remote-exec'].script));
  expect(key.triggers).toEqual({
    host: '203.0.113.10',
    port: '33001',
    user: 'ec2-user',
    private_key_path: keyPath,
    aspera_conf_path: '/opt/aspera/etc/aspera.conf',
    host_key: HOST_KEY,
    install_script_sha256: sha256(installScript),
    uninstall_script_sha256: sha256(uninstallScript),
  });
  const [, agent] = hostResource(main, 'aspera.example.com');
  expect(Object.keys(agent.triggers).sort()).toEqual(['aspera_conf_path', 'host', 'install_script_sha256', 'port', 'private_key_path', 'uninstall_script_sha256', 'user']);
  expect(agent.triggers).toMatchObject({ port: '22', user: 'root', private_key_path: '', aspera_conf_path: '/etc/aspera/aspera.conf' });
});

test('provisioners: one create-time remote-exec (one SSH session), one destroy-time remote-exec', () => {
  const [, r] = hostResource(main, '203.0.113.10');
  const connection = {
    type: 'ssh',
    host: '${self.triggers.host}',
    port: '${self.triggers.port}',
    user: '${self.triggers.user}',
    private_key: '${file(pathexpand(self.triggers.private_key_path))}',
    agent: false,
    host_key: '${self.triggers.host_key}',
    script_path: SCRIPT_PATH,
  };
  expect(r.provisioner).toHaveLength(2);
  const [create, destroy] = r.provisioner.map((p) => p['remote-exec']);
  expect(create).toEqual({ on_failure: 'fail', script: expect.stringMatching(/^aspera-host-scripts\/aspera_hosts\/host_203_0_113_10_33001\/install\.sh$/), connection });
  // Revocation must not hang on a dead host: failures are tolerated so the roles still go.
  expect(destroy).toEqual({ when: 'destroy', on_failure: 'continue', script: expect.stringMatching(/^aspera-host-scripts\/aspera_hosts\/host_203_0_113_10_33001\/uninstall\.sh$/), connection: { ...connection, timeout: '2m' } });
  for (const [, res] of Object.entries(resources(main))) {
    expect(res.provisioner.filter((p) => !('when' in p['remote-exec']))).toHaveLength(1);
  }
});

test('both provisioners of every host upload the script into the SSH user\'s home directory, not /tmp', () => {
  // Terraform's default, /tmp/terraform_%RAND%.sh, is a 0777 file in a world-writable directory
  // that the script then runs as root. "./": Terraform runs the path as the command, and a bare
  // name would be looked up in PATH.
  let provisioners = 0;
  for (const [, r] of Object.entries(resources(main))) {
    for (const p of r.provisioner) {
      expect(p['remote-exec'].connection.script_path).toBe(SCRIPT_PATH);
      provisioners++;
    }
  }
  expect(provisioners).toBe(4);
});

test('without privateKeyPath and hostKey: the SSH agent, no host key pinning', () => {
  const [, r] = hostResource(main, 'aspera.example.com');
  for (const p of r.provisioner) {
    const c = p['remote-exec'].connection;
    expect(c.agent).toBe(true);
    expect(c).not.toHaveProperty('private_key');
    expect(c).not.toHaveProperty('host_key');
  }
});

test('every expression in the provisioners reads self.triggers, and only keys that exist', () => {
  for (const [, r] of Object.entries(resources(main))) {
    const expressions = [...JSON.stringify(r.provisioner).matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]);
    expect(expressions.length).toBeGreaterThanOrEqual(6);
    for (const e of expressions) {
      const m = /^(?:file\(pathexpand\()?self\.triggers\.([a-z_]+)\)*$/.exec(e);
      expect(m).not.toBeNull();
      expect(Object.keys(r.triggers)).toContain(m![1]);
    }
    // And nothing else in the resource is an expression.
    expect(JSON.stringify({ ...r, provisioner: undefined })).not.toMatch(/[$%]\{/);
  }
});

test('the scripts are files in the stack directory, exactly what the renderer produces', () => {
  twoHosts.asperaHosts.forEach((host) => {
    const [, r] = hostResource(main, host.host);
    const expected = renderHostScripts(twoHosts, host);
    const [install, uninstall] = r.provisioner.map((p) => join(main.stackDir, p['remote-exec'].script));
    expect(readFileSync(install, 'utf8')).toBe(expected.install);
    expect(readFileSync(uninstall, 'utf8')).toBe(expected.uninstall);
    expect(statSync(install).mode & 0o111).not.toBe(0);
  });
});

test('no private key material in cdk.tf.json or any synthesized file', () => {
  expect(keyBody).toMatch(/PRIVATE KEY/);
  const body = keyBody.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const f of readdirSync(dir, { withFileTypes: true })) (f.isDirectory() ? walk : (p: string) => files.push(p))(join(dir, f.name));
  };
  walk(join(root, 'two-hosts'));
  expect(files.length).toBeGreaterThanOrEqual(5);
  for (const file of files) {
    const content = readFileSync(file, 'utf8');
    expect(content).not.toMatch(/PRIVATE KEY/);
    for (const line of body) expect(content).not.toContain(line);
  }
});

test('each host waits for the grant roles (dependsOn), and the null provider is declared once', () => {
  for (const [id, r] of Object.entries(resources(main))) {
    expect([id, r.depends_on]).toEqual([id, DEPENDS_ON]);
  }
  expect(main.json.provider?.null).toHaveLength(1);
});

test('reordering hosts in the config keeps every resource id (no needless re-run)', () => {
  expect(Object.keys(resources(synth(reordered, 'reordered'))).sort()).toEqual(Object.keys(resources(main)).sort());
});

test('no hosts: no null_resource, no null provider, no scripts', () => {
  const s = synth(noHosts, 'no-hosts');
  expect(Object.keys(resources(s))).toEqual([]);
  expect(s.json.provider?.null).toBeUndefined();
  expect(existsSync(join(s.stackDir, 'aspera-host-scripts'))).toBe(false);
});

test('synthesizing again drops the scripts of a host no longer configured', () => {
  const before = synth(twoHosts, 'resynth');
  const gone = join(before.stackDir, 'aspera-host-scripts', 'aspera_hosts', 'host_aspera_example_com_22');
  expect(existsSync(join(gone, 'install.sh'))).toBe(true);
  const after = synth(testConfig({ asperaHosts: [twoHosts.asperaHosts[0]] }), 'resynth');
  expect(existsSync(gone)).toBe(false);
  expect(readdirSync(join(after.stackDir, 'aspera-host-scripts', 'aspera_hosts'))).toEqual(['host_203_0_113_10_33001']);
});

test('a trigger value carrying Terraform template syntax is refused', () => {
  const host = { ...twoHosts.asperaHosts[1], asperaConfPath: '/opt/${jsonencode(1)}/aspera.conf' };
  expect(() => hostTriggers(host, { install: '', uninstall: '' })).toThrow(/Terraform template syntax/);
});
