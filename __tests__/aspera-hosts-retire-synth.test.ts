/**
 * A retired SSH host as synthesized: one resource whose create-time remote-exec runs the host's
 * uninstall script (failing the apply if it fails), no install, no revocation; other hosts as before.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseConfigInput, synthConfigToDir } from './helpers/synth';

const HOST = { host: '203.0.113.10', port: 33001, user: 'ec2-user', privateKeyPath: '~/.ssh/aspera.pem' };
const OTHER = { host: '203.0.113.11', user: 'ec2-user' };

test('a retired host has only its retirement: a create-time uninstall, no destroy-time provisioner; the other host keeps its two resources', () => {
  const out = synthConfigToDir(baseConfigInput({ asperaHosts: [{ ...HOST, retired: true }, OTHER] }));
  const nulls = out.tf.resource!.null_resource;
  const names = Object.keys(nulls).sort();
  expect(names.map((n) => n.replace(/_[0-9A-F]{8}$/, ''))).toEqual([
    'aspera_hosts_host_203_0_113_10_33001_retirement',
    'aspera_hosts_host_203_0_113_11_22_docroots',
    'aspera_hosts_host_203_0_113_11_22_revocation',
  ]);
  const retirement = nulls[names[0]];
  expect(retirement.depends_on).toBeUndefined();
  expect(retirement.provisioner).toHaveLength(1);
  const exec = retirement.provisioner[0]['remote-exec'];
  expect(exec.when).toBeUndefined();
  expect(exec.on_failure).toBe('fail');
  expect(exec.script).toBe('aspera-host-scripts/aspera_hosts/host_203_0_113_10_33001/uninstall.sh');
  expect(exec.connection).toMatchObject({ host: '${self.triggers.host}', port: '${self.triggers.port}', user: '${self.triggers.user}', timeout: '1m' });
  const script = readFileSync(join(out.stackDir, exec.script), 'utf8');
  expect(script).toContain("ACTION='uninstall'");
  // No install script is written for a host that is only cleaned.
  expect(() => readFileSync(join(out.stackDir, 'aspera-host-scripts/aspera_hosts/host_203_0_113_10_33001/install.sh'))).toThrow(/ENOENT/);
  // The triggers are the revocation's: the same connection and the uninstall script's hash.
  expect(Object.keys(retirement.triggers).sort()).toEqual(['aspera_conf_path', 'host', 'port', 'private_key_path', 'uninstall_script_sha256', 'user']);
});

test('"retired" defaults to false: an entry without it is installed as before', () => {
  const out = synthConfigToDir(baseConfigInput({ asperaHosts: [HOST] }));
  expect(Object.keys(out.tf.resource!.null_resource).map((n) => n.replace(/_[0-9A-F]{8}$/, '')).sort()).toEqual([
    'aspera_hosts_host_203_0_113_10_33001_docroots',
    'aspera_hosts_host_203_0_113_10_33001_revocation',
  ]);
});
