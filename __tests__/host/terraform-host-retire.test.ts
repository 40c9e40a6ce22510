/**
 * Retiring an SSH host ("retired": true) with real Terraform against the real sshd on 127.0.0.1,
 * on the host resources converted to terraform_data (helpers/terraform-host.ts):
 *  1. install as usual;
 *  2. retire: the plan shows the install and revocation resources deleted and the retirement
 *     created, before anything runs; the apply runs the uninstall once (one connection, one
 *     restart) and aspera.conf is byte for byte what it was before the first apply;
 *  3. apply again: nothing planned, no connection;
 *  4. remove the entry: the retirement goes, and nothing runs on the host.
 * And, for contrast, what docs/aspera-hosts.md warns about: removing an entry that was not retired runs no
 * uninstall (the docroot stays).
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { docrootOf, fixture, XFER2_DOCROOT } from '../helpers/aspera-host';
import { type RestartStub, type RootHost, startRootHost } from '../helpers/host-suite';
import type { Sshd } from '../helpers/sshd';
import { baseConfigInput, synthConfigToDir, type SynthOutput } from '../helpers/synth';
import { ROLES, terraformDir, type TerraformDir } from '../helpers/terraform-host';

const ORIGINAL = fixture('hsts-realm.conf');
const READ_WRITE = [{ transferUser: 'xfer2', bucket: 'acme-aspera-inbox', prefix: '', access: 'read-write' as const }];

let root: string;
let sshd: Sshd;
let stub: RestartStub;
let host: RootHost;
const synths: string[] = [];

beforeAll(async () => {
  host = await startRootHost('retire', ORIGINAL);
  ({ root, sshd, stub } = host);
});

afterAll(async () => {
  for (const dir of synths) rmSync(dir, { recursive: true, force: true });
  await host?.stop();
});

function synth(conf: string, entry: 'installed' | 'retired' | 'removed'): SynthOutput {
  const out = synthConfigToDir(
    baseConfigInput({
      grants: READ_WRITE,
      asperaHosts:
        entry === 'removed'
          ? []
          : [{ host: '127.0.0.1', port: sshd.port, user: 'root', privateKeyPath: sshd.clientKey, asperaConfPath: conf, hostKey: sshd.hostKey, retired: entry === 'retired' }],
    }),
  );
  synths.push(out.outdir);
  return out;
}

async function counted(action: () => Promise<unknown>): Promise<{ connections: number; restarts: number }> {
  const before = { connections: sshd.connections(), restarts: stub.restarts() };
  await action();
  return { connections: sshd.connections() - before.connections, restarts: stub.restarts() - before.restarts };
}

const apply = (tf: TerraformDir) => counted(() => tf.ok(['apply', '-input=false', '-no-color', 'step.tfplan']));

describe('a retired host', () => {
  let tf: TerraformDir;
  let conf: string;
  let docroots = '';
  let revocation = '';
  let retirement = '';

  beforeAll(async () => {
    conf = join(root, 'etc', 'retired.conf');
    writeFileSync(conf, ORIGINAL);
    tf = terraformDir(join(root, 'tf-retire'), stub.log);
    tf.write(synth(conf, 'installed'));
    await tf.ok(['init', '-input=false', '-no-color']);
  });

  test('installed first, as any host', async () => {
    const h = tf.write(synth(conf, 'installed'));
    ({ docroots, revocation } = h);
    expect(await tf.plan()).toEqual({ [docroots]: 'create', [revocation]: 'create', [ROLES]: 'create' });
    expect(await apply(tf)).toEqual({ connections: 1, restarts: 1 });
    expect(docrootOf(readFileSync(conf, 'utf8'), 'xfer2').absolute).toBe(XFER2_DOCROOT);
  });

  test('retiring: the plan shows the uninstall (the retirement created) before it runs; the apply runs it once and restores aspera.conf byte for byte', async () => {
    const h = tf.writeRetired(synth(conf, 'retired'));
    retirement = h.retirement;
    expect(retirement).toMatch(/_retirement_[0-9A-F]{8}$/);
    const planned = await tf.plan();
    // Planning ran nothing on the host.
    expect(docrootOf(readFileSync(conf, 'utf8'), 'xfer2').absolute).toBe(XFER2_DOCROOT);
    expect(planned).toEqual({ [docroots]: 'delete', [revocation]: 'delete', [retirement]: 'create', [ROLES]: 'no-op' });
    const shown = await tf.ok(['show', '-no-color', 'step.tfplan']);
    expect(shown).toMatch(new RegExp(`${retirement.replace(/\./g, '\\.')} will be created`));
    expect(await apply(tf)).toEqual({ connections: 1, restarts: 1 });
    expect(readFileSync(conf).equals(Buffer.from(ORIGINAL))).toBe(true);
    expect(readdirSync(join(root, 'etc')).filter((f) => f.startsWith('retired.conf.aspera-cross-account'))).toEqual([]);
  });

  test('a following apply does nothing: no change planned, no connection', async () => {
    tf.writeRetired(synth(conf, 'retired'));
    expect(await tf.plan()).toEqual({ [retirement]: 'no-op', [ROLES]: 'no-op' });
    expect(await apply(tf)).toEqual({ connections: 0, restarts: 0 });
    expect(readFileSync(conf).equals(Buffer.from(ORIGINAL))).toBe(true);
  });

  test('removing the retired entry forgets the host: nothing runs there', async () => {
    const out = synth(conf, 'removed');
    // No host at all: only the roles' stand-in is left to write.
    writeFileSync(join(tf.dir, 'main.tf.json'), `${JSON.stringify({ resource: { terraform_data: { roles: JSON.parse(readFileSync(join(tf.dir, 'main.tf.json'), 'utf8')).resource.terraform_data.roles } } }, null, 2)}\n`);
    expect(out.tf.resource?.null_resource).toBeUndefined();
    expect(await tf.plan()).toEqual({ [retirement]: 'delete', [ROLES]: 'no-op' });
    expect(await apply(tf)).toEqual({ connections: 0, restarts: 0 });
    expect(await tf.state()).toEqual([ROLES]);
  });
});

test('for contrast: removing an entry that was not retired runs no uninstall, and the docroot stays (docs/aspera-hosts.md says to retire first)', async () => {
  const conf = join(root, 'etc', 'removed.conf');
  writeFileSync(conf, ORIGINAL);
  const tf = terraformDir(join(root, 'tf-remove'), stub.log);
  const h = tf.write(synth(conf, 'installed'));
  await tf.ok(['init', '-input=false', '-no-color']);
  await tf.plan();
  expect(await apply(tf)).toEqual({ connections: 1, restarts: 1 });
  writeFileSync(join(tf.dir, 'main.tf.json'), `${JSON.stringify({ resource: { terraform_data: { roles: h.json.resource.terraform_data.roles } } }, null, 2)}\n`);
  expect(await tf.plan()).toEqual({ [h.docroots]: 'delete', [h.revocation]: 'delete', [ROLES]: 'no-op' });
  expect(await apply(tf)).toEqual({ connections: 0, restarts: 0 });
  expect(docrootOf(readFileSync(conf, 'utf8'), 'xfer2').absolute).toBe(XFER2_DOCROOT);
});
