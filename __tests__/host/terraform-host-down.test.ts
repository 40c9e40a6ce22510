/**
 * Destroy with the host down, with real Terraform (the host resources as terraform_data, see
 * terraform-host-resources.test.ts): the uninstall cannot connect, and the destroy still completes
 * without error and removes the roles. It waits for the destroy connection's timeout, read from the
 * synthesized JSON (the bound of this test is derived from it; nothing here is timed).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { docrootOf, fixture, XFER2_DOCROOT } from '../helpers/aspera-host';
import { type RestartStub, type RootHost, startRootHost } from '../helpers/host-suite';
import type { Sshd } from '../helpers/sshd';
import { baseConfigInput, synthConfig, synthConfigToDir } from '../helpers/synth';
import { DEFAULT_CONNECTION_TIMEOUT, durationMs, hostResourcesAsTerraformData, ROLES, ROLES_CREATED, ROLES_DESTROYED, terraformDir, type TerraformDir } from '../helpers/terraform-host';

const ORIGINAL = fixture('no-aaa.conf');

/** A host config for `port`, with the test sshd's keys once it runs. */
const hostAt = (port: number, keys = { privateKeyPath: '/root/.ssh/id_ed25519', hostKey: undefined as string | undefined }, asperaConfPath = '/opt/aspera/etc/aspera.conf') =>
  baseConfigInput({ asperaHosts: [{ host: '127.0.0.1', port, user: 'root', asperaConfPath, ...keys }] });

// The destroy connection's timeout as this stack synthesizes it, known before any test starts so
// that the destroy's bound can follow it: the wait, plus a minute for everything else.
const DESTROY_TIMEOUT = hostResourcesAsTerraformData(synthConfig(hostAt(22)), '/dev/null').destroyTimeout ?? DEFAULT_CONNECTION_TIMEOUT;
const DESTROY_BOUND_MS = durationMs(DESTROY_TIMEOUT) + 60000;

let root: string;
let sshd: Sshd;
let stub: RestartStub;
let tf: TerraformDir;
let conf: string;
let host: RootHost;
let synthDir: string | undefined;

beforeAll(async () => {
  host = await startRootHost('terraform-down', ORIGINAL);
  ({ root, sshd, stub } = host);
  conf = host.conf;
  tf = terraformDir(join(root, 'terraform'), stub.log);
});

afterAll(async () => {
  if (synthDir !== undefined) rmSync(synthDir, { recursive: true, force: true });
  await host?.stop();
});

test('the stack sets a destroy connection timeout shorter than Terraform\'s default wait', () => {
  expect(durationMs(DESTROY_TIMEOUT)).toBeLessThan(durationMs(DEFAULT_CONNECTION_TIMEOUT));
});

test(
  'destroy with sshd stopped completes without error, and the roles are still destroyed',
  async () => {
    const synth = synthConfigToDir(hostAt(sshd.port, { privateKeyPath: sshd.clientKey, hostKey: sshd.hostKey }, conf));
    synthDir = synth.outdir;
    const h = tf.write(synth);
    expect(h.destroyTimeout).toBe(DESTROY_TIMEOUT);
    await tf.ok(['init', '-input=false', '-no-color']);
    const connections = sshd.connections();
    await tf.ok(['apply', '-auto-approve', '-input=false', '-no-color']);
    expect([sshd.connections() - connections, stub.restarts()]).toEqual([1, 1]);
    expect(docrootOf(readFileSync(conf, 'utf8'), 'xfer2').absolute).toBe(XFER2_DOCROOT);
    expect(await tf.state()).toEqual([ROLES, h.docroots, h.revocation].sort());

    await sshd.kill();
    const destroyed = await tf.run(['destroy', '-auto-approve', '-input=false', '-no-color'], DESTROY_BOUND_MS);
    expect({ status: destroyed.status, output: destroyed.output }).toMatchObject({ status: 0 });
    // The uninstall tried to connect (and, with on_failure = "continue", only that shows), then the
    // destroy went on.
    expect(destroyed.output).toContain(`${h.revocation.slice('terraform_data.'.length)} (remote-exec): Connecting to remote host via SSH...`);
    expect(destroyed.output).not.toMatch(/Error/);
    expect(destroyed.output).toMatch(/Destroy complete! Resources: 3 destroyed\./);
    expect(await tf.state()).toEqual([]);
    expect(stub.calls()).toEqual([ROLES_CREATED, 'systemctl restart asperanoded', ROLES_DESTROYED]);
    // The docroot stays on the unreachable host (its role is gone); its uninstall.sh removes it later.
    expect(docrootOf(readFileSync(conf, 'utf8'), 'xfer2').absolute).toBe(XFER2_DOCROOT);
  },
  DESTROY_BOUND_MS + 60000,
);
