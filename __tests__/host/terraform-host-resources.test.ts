/**
 * A real Terraform run of the synthesized host resources against a real sshd on 127.0.0.1.
 *
 * The null provider cannot be downloaded here, so each synthesized stack's two host resources are
 * converted to the built-in terraform_data (same provisioners, connection blocks and scripts; see
 * helpers/terraform-host.ts), with one terraform_data standing in for the roles they depend on.
 * The config points the host at the test sshd (its host key pinned, its client key as
 * privateKeyPath) and asperaConfPath at a copy of a fixture. A stand-in systemctl on the
 * sessions' PATH (and on sudo's secure_path) logs each restart.
 *
 * Per step, counted from sshd's log (accepted logins) and the stand-in's log (restarts): what the
 * docs/aspera-hosts.md promises a config change costs on a host.
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigInput } from '../../src/config/schema';
import { docrootOf, fixture, XFER2_DOCROOT } from '../helpers/aspera-host';
import { createTestUser, type RestartStub, type RootHost, startRootHost, type TestUser } from '../helpers/host-suite';
import type { Sshd } from '../helpers/sshd';
import { baseConfigInput, synthConfigToDir } from '../helpers/synth';
import { ROLES, ROLES_CREATED, ROLES_DESTROYED, terraformDir, type HostTerraform, type TerraformDir } from '../helpers/terraform-host';

const ORIGINAL = fixture('hsts-realm.conf');
const EXTERNAL_ID = 'aspera-7f3c9e21';
const OTHER_EXTERNAL_ID = 'aspera-0c1d2e3f';
const READ_WRITE = [{ transferUser: 'xfer2', bucket: 'acme-aspera-inbox', prefix: '', access: 'read-write' as const }];
const READ_ONLY = [{ ...READ_WRITE[0], access: 'read-only' as const }];

let root: string;
let sshd: Sshd;
let stub: RestartStub;
let user: TestUser;
let tf: TerraformDir;
let conf: string;
let host: RootHost;
const synths: string[] = [];

beforeAll(async () => {
  host = await startRootHost('terraform', ORIGINAL);
  ({ root, sshd, stub } = host);
  user = createTestUser(root, sshd);
  user.allowSudo(stub.bin);
  conf = host.conf;
  tf = terraformDir(join(root, 'terraform'), stub.log);
});

afterAll(async () => {
  await user?.remove();
  for (const dir of synths) rmSync(dir, { recursive: true, force: true });
  await host?.stop();
});

interface Step {
  readonly grants?: ConfigInput['grants'];
  readonly externalId?: string;
  readonly sshUser?: string;
}

/** Synthesizes the config of a step and writes it, converted, into the Terraform directory. */
function write(step: Step = {}): HostTerraform {
  const synth = synthConfigToDir(
    baseConfigInput({
      externalId: step.externalId ?? EXTERNAL_ID,
      grants: step.grants ?? READ_WRITE,
      asperaHosts: [{ host: '127.0.0.1', port: sshd.port, user: step.sshUser ?? 'root', privateKeyPath: sshd.clientKey, asperaConfPath: conf, hostKey: sshd.hostKey }],
    }),
  );
  synths.push(synth.outdir);
  return tf.write(synth);
}

/** Connections (all, and per SSH user) and restarts that `action` caused. */
async function counted(action: () => Promise<unknown>): Promise<{ connections: number; restarts: number; byUser: Record<string, number> }> {
  const before = { all: sshd.connections(), root: sshd.connections('root'), user: sshd.connections(user.name), restarts: stub.restarts() };
  await action();
  return {
    connections: sshd.connections() - before.all,
    restarts: stub.restarts() - before.restarts,
    byUser: { root: sshd.connections('root') - before.root, [user.name]: sshd.connections(user.name) - before.user },
  };
}

/** Plans, checks the planned actions, applies that plan: the counts of the apply. */
async function applyStep(step: Step, expected: (h: HostTerraform) => Record<string, string>) {
  const h = write(step);
  const planned = await tf.plan();
  expect(planned).toEqual(expected(h));
  return counted(() => tf.ok(['apply', '-input=false', '-no-color', 'step.tfplan']));
}

const text = () => readFileSync(conf, 'utf8');
const events = () => stub.calls();

test('terraform init needs no provider: terraform_data is built in', async () => {
  const h = write();
  // The connection timeouts are the synthesized ones (the stack sets one for destroy).
  expect(h.destroyTimeout).toBeDefined();
  const out = await tf.ok(['init', '-input=false', '-no-color']);
  expect(out).toMatch(/Terraform has been successfully initialized/);
  expect(out).toMatch(/terraform\.io\/builtin\/terraform is built in/);
  expect(out).not.toMatch(/Installing/);
});

test('first apply: one connection, one restart, after the roles exist', async () => {
  const counts = await applyStep({}, (h) => ({ [h.docroots]: 'create', [h.revocation]: 'create', [ROLES]: 'create' }));
  expect(counts).toMatchObject({ connections: 1, restarts: 1, byUser: { root: 1 } });
  expect(docrootOf(text(), 'xfer2')).toMatchObject({ absolute: XFER2_DOCROOT, write_allowed: 'true' });
  // Terraform kept the order: the roles' stand-in was created before the install ran.
  expect(events()).toEqual([ROLES_CREATED, 'systemctl restart asperanoded']);
});

test('apply again with nothing changed: no connection, no restart', async () => {
  const before = readFileSync(conf);
  const counts = await applyStep({}, (h) => ({ [h.docroots]: 'no-op', [h.revocation]: 'no-op', [ROLES]: 'no-op' }));
  expect(counts).toMatchObject({ connections: 0, restarts: 0 });
  expect(readFileSync(conf).equals(before)).toBe(true);
});

test('a grant change replaces the install resource alone: one connection, one restart', async () => {
  const counts = await applyStep({ grants: READ_ONLY }, (h) => ({ [h.docroots]: 'delete,create', [h.revocation]: 'no-op', [ROLES]: 'no-op' }));
  expect(counts).toMatchObject({ connections: 1, restarts: 1 });
  expect(docrootOf(text(), 'xfer2')).toMatchObject({ absolute: XFER2_DOCROOT, write_allowed: 'false' });
});

test('an External ID change: one connection, one restart', async () => {
  const counts = await applyStep({ grants: READ_ONLY, externalId: OTHER_EXTERNAL_ID }, (h) => ({ [h.docroots]: 'delete,create', [h.revocation]: 'no-op', [ROLES]: 'no-op' }));
  expect(counts).toMatchObject({ connections: 1, restarts: 1 });
  expect(docrootOf(text(), 'xfer2').absolute).toBe(XFER2_DOCROOT.replace(`=${EXTERNAL_ID}`, `=${OTHER_EXTERNAL_ID}`));
});

test('a change of SSH user replaces both resources: the uninstall as the old user, the install as the new one through sudo -n', async () => {
  const counts = await applyStep({ grants: READ_ONLY, externalId: OTHER_EXTERNAL_ID, sshUser: user.name }, (h) => ({
    [h.docroots]: 'delete,create',
    [h.revocation]: 'delete,create',
    [ROLES]: 'no-op',
  }));
  expect(counts).toEqual({ connections: 2, restarts: 2, byUser: { root: 1, [user.name]: 1 } });
  expect(docrootOf(text(), 'xfer2').absolute).toBe(XFER2_DOCROOT.replace(`=${EXTERNAL_ID}`, `=${OTHER_EXTERNAL_ID}`));
  // Written by root through sudo: the state file is root's.
  expect(statSync(`${conf}.aspera-cross-account.state`).uid).toBe(0);
});

test('destroy: one connection, one restart, aspera.conf byte-identical to before the first apply, then the roles go', async () => {
  const h = write({ grants: READ_ONLY, externalId: OTHER_EXTERNAL_ID, sshUser: user.name });
  const before = events().length;
  const counts = await counted(() => tf.ok(['destroy', '-auto-approve', '-input=false', '-no-color']));
  expect(counts).toEqual({ connections: 1, restarts: 1, byUser: { root: 0, [user.name]: 1 } });
  expect(readFileSync(conf).equals(Buffer.from(ORIGINAL))).toBe(true);
  expect(events().slice(before)).toEqual(['systemctl restart asperanoded', ROLES_DESTROYED]);
  expect(await tf.state()).toEqual([]);
  expect(h.revocation).toMatch(/_revocation_/);
});
