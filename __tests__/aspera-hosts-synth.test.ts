/**
 * What the Aspera host construct synthesizes: two null_resources per host - one that installs the
 * docroots on create, one that runs the uninstall on destroy (through the escape hatch) - their
 * triggers (a grant change must replace the install resource alone, so that it costs one SSH
 * session), their order, connections built from self.triggers only, the scripts as files in the
 * stack directory, and no key material.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, TerraformStack } from 'cdktf';
import { renderHostScripts } from '../src/aspera/host-scripts';
import type { Config } from '../src/config/schema';
import { AsperaHostConfiguration, docrootsTriggers, hostConnection, revocationTriggers } from '../src/constructs/aspera-hosts';
import { testConfig } from './helpers/aspera-host';
import { writeThrowawayPrivateKey } from './helpers/unprivileged';

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
type Role = 'docroots' | 'revocation';

const root = mkdtempSync(join(tmpdir(), 'aspera-test-synth-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function synth(config: Config, name: string): Synth {
  const outdir = join(root, name);
  const app = new App({ outdir });
  const stack = new TerraformStack(app, config.stackName);
  // Stand in for the grant roles and policies the real stack passes as dependsOn.
  new AsperaHostConfiguration(stack, 'aspera_hosts', {
    hosts: config.asperaHosts,
    scriptsFor: (host) => renderHostScripts(config, host),
    dependsOn: DEPENDS_ON.map((fqn) => ({ fqn })),
  });
  app.synth();
  const stackDir = join(outdir, 'stacks', config.stackName);
  const text = readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8');
  return { stackDir, text, json: JSON.parse(text) };
}

// A real (throwaway) private key at the configured path: its bytes must never be synthesized.
const keyPath = join(root, 'id_ed25519');
writeThrowawayPrivateKey(keyPath);
const keyBody = readFileSync(keyPath, 'utf8');

const twoHosts = testConfig({
  asperaHosts: [
    { host: '203.0.113.10', port: 33001, user: 'ec2-user', privateKeyPath: keyPath, asperaConfPath: '/opt/aspera/etc/aspera.conf', hostKey: HOST_KEY, connectionTimeout: '2m30s' },
    // connectionTimeout left out: the default applies.
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
/** The host's resource of that role, found by its name (construct id "<host>_<role>"). */
const hostResource = (s: Synth, host: string, role: Role): [string, NullResourceJson] => {
  const found = Object.entries(resources(s)).filter(([id, r]) => r.triggers?.host === host && new RegExp(`_${role}_[0-9A-F]{8}$`).test(id));
  expect(found).toHaveLength(1);
  return found[0];
};
const remoteExec = (r: NullResourceJson) => r.provisioner.map((p) => p['remote-exec']);
const scriptOf = (s: Synth, r: NullResourceJson) => join(s.stackDir, remoteExec(r)[0].script);
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

test('two null_resources per host, docroots and revocation, ids derived from host and port', () => {
  expect(Object.keys(resources(main))).toHaveLength(4);
  expect(hostResource(main, '203.0.113.10', 'docroots')[0]).toMatch(/^aspera_hosts_host_203_0_113_10_33001_docroots_/);
  expect(hostResource(main, '203.0.113.10', 'revocation')[0]).toMatch(/^aspera_hosts_host_203_0_113_10_33001_revocation_/);
  expect(hostResource(main, 'aspera.example.com', 'docroots')[0]).toMatch(/^aspera_hosts_host_aspera_example_com_22_docroots_/);
  expect(hostResource(main, 'aspera.example.com', 'revocation')[0]).toMatch(/^aspera_hosts_host_aspera_example_com_22_revocation_/);
});

const CONNECTION_TRIGGERS = { host: '203.0.113.10', port: '33001', user: 'ec2-user', private_key_path: keyPath, host_key: HOST_KEY };

test('docroots triggers: the connection values and the sha256 of the install script as written', () => {
  const [, key] = hostResource(main, '203.0.113.10', 'docroots');
  // The install script holds the aspera.conf path, so its hash covers that too.
  expect(key.triggers).toEqual({ ...CONNECTION_TRIGGERS, install_script_sha256: sha256(scriptOf(main, key)) });
  expect(readFileSync(scriptOf(main, key), 'utf8')).toContain("DEFAULT_ASPERA_CONF='/opt/aspera/etc/aspera.conf'");
  const [, agent] = hostResource(main, 'aspera.example.com', 'docroots');
  expect(Object.keys(agent.triggers).sort()).toEqual(['host', 'install_script_sha256', 'port', 'private_key_path', 'user']);
  expect(agent.triggers).toMatchObject({ port: '22', user: 'root', private_key_path: '' });
});

test('revocation triggers: the connection values, the aspera.conf path and the sha256 of the uninstall script as written', () => {
  const [, key] = hostResource(main, '203.0.113.10', 'revocation');
  expect(key.triggers).toEqual({ ...CONNECTION_TRIGGERS, aspera_conf_path: '/opt/aspera/etc/aspera.conf', uninstall_script_sha256: sha256(scriptOf(main, key)) });
  const [, agent] = hostResource(main, 'aspera.example.com', 'revocation');
  expect(Object.keys(agent.triggers).sort()).toEqual(['aspera_conf_path', 'host', 'port', 'private_key_path', 'uninstall_script_sha256', 'user']);
  expect(agent.triggers).toMatchObject({ port: '22', user: 'root', private_key_path: '', aspera_conf_path: '/etc/aspera/aspera.conf' });
});

test('a grant or External ID change replaces only the docroots resource: the revocation (the uninstall) stays as it is', () => {
  // Terraform replaces a null_resource whose triggers change. Only the install resource may be
  // replaced on such a change: replacing the revocation would run the uninstall (a second SSH
  // session and restart, the old docroots gone in between).
  const changed = synth(
    { ...twoHosts, externalId: 'aspera-0000aaaa', grants: [{ ...twoHosts.grants[0], access: 'read-only' }, { ...twoHosts.grants[1], transferUser: 'xfer9' }] },
    'changed-grants',
  );
  for (const host of twoHosts.asperaHosts) {
    const [id, revocation] = hostResource(main, host.host, 'revocation');
    expect(hostResource(changed, host.host, 'revocation')).toEqual([id, revocation]);
    expect(readFileSync(scriptOf(changed, revocation), 'utf8')).toBe(readFileSync(scriptOf(main, revocation), 'utf8'));
    const [docrootsId, docroots] = hostResource(main, host.host, 'docroots');
    const [changedId, changedDocroots] = hostResource(changed, host.host, 'docroots');
    expect(changedId).toBe(docrootsId);
    expect(changedDocroots.triggers.install_script_sha256).not.toBe(docroots.triggers.install_script_sha256);
    expect({ ...changedDocroots.triggers, install_script_sha256: '' }).toEqual({ ...docroots.triggers, install_script_sha256: '' });
  }
});

const CONNECTION = {
  type: 'ssh',
  host: '${self.triggers.host}',
  port: '${self.triggers.port}',
  user: '${self.triggers.user}',
  private_key: '${file(pathexpand(self.triggers.private_key_path))}',
  agent: false,
  host_key: '${self.triggers.host_key}',
  // The host's connectionTimeout, as configured, on the install and the uninstall alike.
  timeout: '2m30s',
  script_path: SCRIPT_PATH,
};

test('docroots: one create-time remote-exec (one SSH session) running install.sh, and no destroy-time provisioner', () => {
  for (const host of twoHosts.asperaHosts) {
    const [, r] = hostResource(main, host.host, 'docroots');
    expect(remoteExec(r)).toHaveLength(1);
    expect(remoteExec(r)[0]).not.toHaveProperty('when');
  }
  const [, r] = hostResource(main, '203.0.113.10', 'docroots');
  expect(remoteExec(r)[0]).toEqual({ on_failure: 'fail', script: 'aspera-host-scripts/aspera_hosts/host_203_0_113_10_33001/install.sh', connection: CONNECTION });
});

test('revocation: one destroy-time remote-exec running uninstall.sh that never stops the destroy, and nothing at create time', () => {
  for (const host of twoHosts.asperaHosts) {
    const [, r] = hostResource(main, host.host, 'revocation');
    expect(remoteExec(r)).toHaveLength(1);
    expect(remoteExec(r)[0]).toMatchObject({ when: 'destroy', on_failure: 'continue' });
  }
  const [, r] = hostResource(main, '203.0.113.10', 'revocation');
  // Revocation must not hang on a dead host: failures are tolerated so the roles still go.
  expect(remoteExec(r)[0]).toEqual({
    when: 'destroy',
    on_failure: 'continue',
    script: 'aspera-host-scripts/aspera_hosts/host_203_0_113_10_33001/uninstall.sh',
    connection: CONNECTION,
  });
});

test('connectionTimeout: the configured value, or 1m by default, on the connection of both provisioners of the host', () => {
  // Terraform waits 5 minutes for a host that is down, or whose host key does not match, when the
  // connection has no timeout.
  for (const [host, timeout] of [['203.0.113.10', '2m30s'], ['aspera.example.com', '1m']] as const) {
    for (const role of ['docroots', 'revocation'] as const) {
      const [, r] = hostResource(main, host, role);
      expect(remoteExec(r)[0].connection.timeout).toBe(timeout);
    }
  }
});

test('a changed connectionTimeout replaces nothing: no trigger of either resource holds it, only the connections change', () => {
  // Terraform replaces a null_resource only when its triggers change; provisioner blocks are read
  // from the configuration when they run. So the new value needs no reinstall and no uninstall.
  const changed = synth(testConfig({ asperaHosts: twoHosts.asperaHosts.map((h) => ({ ...h, connectionTimeout: '45s' })) }), 'changed-timeout');
  for (const host of twoHosts.asperaHosts) {
    for (const role of ['docroots', 'revocation'] as const) {
      const [id, before] = hostResource(main, host.host, role);
      const [changedId, after] = hostResource(changed, host.host, role);
      expect(changedId).toBe(id);
      expect(after.triggers).toEqual(before.triggers);
      expect(JSON.stringify(after.triggers)).not.toMatch(/45s|2m30s|"1m"/);
      expect(remoteExec(after)[0].connection.timeout).toBe('45s');
      expect({ ...remoteExec(after)[0], connection: { ...remoteExec(after)[0].connection, timeout: '' } }).toEqual({
        ...remoteExec(before)[0],
        connection: { ...remoteExec(before)[0].connection, timeout: '' },
      });
    }
  }
});

test('a connectionTimeout that bypassed the schema is refused before it reaches the Terraform JSON', () => {
  expect(() => hostConnection({ ...twoHosts.asperaHosts[1], connectionTimeout: '${file("/etc/passwd")}' })).toThrow(/connectionTimeout .* is not a duration/);
});

test('every provisioner of every host uploads the script into the SSH user\'s home directory, not /tmp', () => {
  // Terraform's default, /tmp/terraform_%RAND%.sh, is a 0777 file in a world-writable directory
  // that the script then runs as root. "./": Terraform runs the path as the command, and a bare
  // name would be looked up in PATH.
  let provisioners = 0;
  for (const r of Object.values(resources(main))) {
    for (const p of r.provisioner) {
      expect(p['remote-exec'].connection.script_path).toBe(SCRIPT_PATH);
      provisioners++;
    }
  }
  expect(provisioners).toBe(4);
});

test('without privateKeyPath and hostKey: the SSH agent, no host key pinning', () => {
  for (const role of ['docroots', 'revocation'] as const) {
    const [, r] = hostResource(main, 'aspera.example.com', role);
    const c = remoteExec(r)[0].connection;
    expect(c.agent).toBe(true);
    expect(c).not.toHaveProperty('private_key');
    expect(c).not.toHaveProperty('host_key');
  }
});

test('every expression in the provisioners reads self.triggers, and only keys that exist', () => {
  for (const [, r] of Object.entries(resources(main))) {
    const expressions = [...JSON.stringify(r.provisioner).matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]);
    expect(expressions.length).toBeGreaterThanOrEqual(3);
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
    const expected = renderHostScripts(twoHosts, host);
    const install = scriptOf(main, hostResource(main, host.host, 'docroots')[1]);
    const uninstall = scriptOf(main, hostResource(main, host.host, 'revocation')[1]);
    expect(readFileSync(install, 'utf8')).toBe(expected.install);
    expect(readFileSync(uninstall, 'utf8')).toBe(expected.uninstall);
    expect(statSync(install).mode & 0o111).not.toBe(0);
    expect(statSync(uninstall).mode & 0o111).not.toBe(0);
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

test('order: the revocation waits for the grant roles, the docroots wait for them and for the revocation; one null provider', () => {
  // On apply the uninstall exists before any docroot is installed; on destroy the docroots
  // resource goes first (running nothing), then the revocation runs the uninstall, then the roles.
  for (const host of twoHosts.asperaHosts) {
    const [revocationId, revocation] = hostResource(main, host.host, 'revocation');
    const [, docroots] = hostResource(main, host.host, 'docroots');
    expect(revocation.depends_on).toEqual(DEPENDS_ON);
    expect(docroots.depends_on).toEqual([...DEPENDS_ON, `null_resource.${revocationId}`]);
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

test('a trigger value carrying Terraform template syntax is refused, on either resource', () => {
  const conf = { ...twoHosts.asperaHosts[1], asperaConfPath: '/opt/${jsonencode(1)}/aspera.conf' };
  expect(() => revocationTriggers(conf, '')).toThrow(/aspera_conf_path .* Terraform template syntax/);
  const user = { ...twoHosts.asperaHosts[1], user: '%{if true}root%{endif}' };
  expect(() => docrootsTriggers(user, '')).toThrow(/user .* Terraform template syntax/);
  expect(() => revocationTriggers(user, '')).toThrow(/user .* Terraform template syntax/);
});
