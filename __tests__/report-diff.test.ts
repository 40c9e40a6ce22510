/**
 * The access diff: for each kind of config change, the classification a reviewer relies on
 * (added, removed, widened, narrowed, moved, principal change), and nothing when nothing changes.
 */
import type { ConfigInput } from '../src/config/schema';
import { ASPERA_S3_ACTIONS } from '../src/iam/s3-access';
import { diffAccess, prefixRelation, type AccessChange } from '../src/report/diff';
import { NO_ACCESS_CHANGES, reviewReport } from '../src/report/markdown';
import { accessModel } from '../src/report/model';
import { configOf, ONE_GRANT, SEVERAL_GRANTS } from './helpers/report-fixtures';

type Draft = ConfigInput & { grants: NonNullable<ConfigInput['grants']> };
const grant = (draft: ConfigInput, user: string) => {
  const found = (draft as Draft).grants.find((g) => g.transferUser === user);
  if (found === undefined) throw new Error(`no grant ${user}`);
  return found;
};

/** The changes from `input` to `input` edited by `edit`. */
function changes(input: ConfigInput, edit: (draft: ConfigInput) => void): AccessChange[] {
  return diffAccess(accessModel(configOf(input)), accessModel(configOf(input, edit)));
}
const kinds = (list: AccessChange[]) => list.map((c) => [c.kind, ...c.transferUsers].join(' '));

describe('prefixRelation', () => {
  test.each([
    ['a/b', 'a', 'broader'],
    ['a/b', '', 'broader'],
    ['a', 'a/b', 'narrower'],
    ['', 'a', 'narrower'],
    ['a', 'b', 'disjoint'],
    // "a" covers "a/..." but not "ab": S3 resources end in "a/*".
    ['ab', 'a', 'disjoint'],
    ['a', 'ab', 'disjoint'],
    ['a/b', 'a/b', 'same'],
  ])('%j -> %j is %s', (from, to, expected) => {
    expect(prefixRelation(from, to)).toBe(expected);
  });
});

describe('diffAccess', () => {
  test('equal configs: no changes, and the report says so explicitly', () => {
    expect(changes(SEVERAL_GRANTS, () => undefined)).toEqual([]);
    // Spelling differences that mean the same access are not changes either.
    expect(changes(SEVERAL_GRANTS, (d) => void (grant(d, 'xfer1').prefix = 'partners/alpha/'))).toEqual([]);
    const report = reviewReport({ config: configOf(SEVERAL_GRANTS), source: 'a.json', base: { config: configOf(SEVERAL_GRANTS), label: 'origin/main:a.json' } });
    expect(report).toContain(`## Access changes compared with \`origin/main:a.json\`\n\n${NO_ACCESS_CHANGES}\n`);
    expect(report).not.toContain('[!WARNING]');
  });

  test('a new grant is an addition that needs attention, with its access level and location in one line', () => {
    const result = changes(ONE_GRANT, (d) => {
      (d as Draft).grants.push({ transferUser: 'xfer3', bucket: 'acme-aspera-inbox', prefix: 'x', access: 'read-write' });
    });
    expect(kinds(result)).toEqual(['added xfer3']);
    expect(result[0].attention).toBe(true);
    expect(result[0].summary).toBe('**xfer3** gets **read-write** access to `s3://acme-aspera-inbox/x/`');
    expect(result[0].details.join(' ')).toContain('s3:PutObject');
  });

  test('a removed grant is a removal (revocation), not an attention item', () => {
    const result = changes(SEVERAL_GRANTS, (d) => {
      (d as Draft).grants = (d as Draft).grants.filter((g) => g.transferUser !== 'xfer2');
    });
    expect(kinds(result)).toEqual(['removed xfer2']);
    expect(result[0].attention).toBe(false);
    expect(result[0].summary).toContain('`arn:aws:iam::333333333333:role/acme-aspera-xfer2` is deleted');
  });

  test('read-only -> read-write widens by exactly the write actions; the reverse narrows by them', () => {
    const writeOnly = ASPERA_S3_ACTIONS['read-write'].objectActions
      .concat(ASPERA_S3_ACTIONS['read-write'].bucketActions)
      .filter((a) => !ASPERA_S3_ACTIONS['read-only'].objectActions.concat(ASPERA_S3_ACTIONS['read-only'].bucketActions).includes(a));
    expect(writeOnly).toContain('s3:PutObject');

    const widened = changes(SEVERAL_GRANTS, (d) => void (grant(d, 'xfer2').access = 'read-write'));
    expect(kinds(widened)).toEqual(['widened xfer2']);
    for (const action of writeOnly) expect(widened[0].summary).toContain(`\`${action}\``);
    expect(widened[0].summary).toContain('(read-only → read-write)');

    const narrowed = changes(SEVERAL_GRANTS, (d) => void (grant(d, 'xfer1').access = 'read-only'));
    expect(kinds(narrowed)).toEqual(['narrowed xfer1']);
    for (const action of writeOnly) expect(narrowed[0].summary).toContain(`\`${action}\``);
  });

  test('a broader prefix widens, to the whole bucket too; a deeper prefix narrows', () => {
    const toParent = changes(SEVERAL_GRANTS, (d) => void (grant(d, 'xfer1').prefix = 'partners'));
    expect(kinds(toParent)).toEqual(['widened xfer1']);
    expect(toParent[0].summary).toContain('`s3://acme-inbox/partners/alpha/` → `s3://acme-inbox/partners/`');

    const toBucket = changes(SEVERAL_GRANTS, (d) => void (grant(d, 'xfer1').prefix = ''));
    expect(kinds(toBucket)).toEqual(['widened xfer1']);
    expect(toBucket[0].summary).toContain('`s3://acme-inbox/` (whole bucket)');

    const deeper = changes(SEVERAL_GRANTS, (d) => void (grant(d, 'xfer2').prefix = 'incoming'));
    expect(kinds(deeper)).toEqual(['narrowed xfer2']);
  });

  test('another bucket, or a sibling prefix, is a move that needs attention', () => {
    const bucket = changes(SEVERAL_GRANTS, (d) => void (grant(d, 'xfer2').bucket = 'acme.archive'));
    expect(kinds(bucket)).toEqual(['moved xfer2']);
    expect(bucket[0].attention).toBe(true);
    expect(bucket[0].summary).toContain('gains read-only access to `s3://acme.archive/`');
    expect(bucket[0].summary).toContain('loses access to `s3://acme-inbox/`');

    const sibling = changes(SEVERAL_GRANTS, (d) => void (grant(d, 'xfer1').prefix = 'partners/alphabet'));
    expect(kinds(sibling)).toEqual(['moved xfer1']);
  });

  test('a broader prefix with fewer actions is both widened and narrowed', () => {
    const result = changes(SEVERAL_GRANTS, (d) => {
      grant(d, 'xfer1').prefix = '';
      grant(d, 'xfer1').access = 'read-only';
    });
    expect(kinds(result).sort()).toEqual(['narrowed xfer1', 'widened xfer1']);
  });

  test('a new External ID is one principal change for all roles', () => {
    const result = changes(SEVERAL_GRANTS, (d) => void (d.externalId = 'ext-9999'));
    expect(kinds(result)).toEqual(['principal xfer1 xfer2 xfer3']);
    expect(result[0].attention).toBe(true);
    expect(result[0].summary).toContain('External ID changes from `ext-5551` to `ext-9999`');
  });

  test('another host role or another Other Account is a principal change', () => {
    const role = changes(SEVERAL_GRANTS, (d) => void (d.hostRole = { existingRoleName: 'other-ec2' }));
    expect(kinds(role)).toEqual(['principal xfer1 xfer2 xfer3']);
    expect(role[0].summary).toContain('`arn:aws:iam::444444444444:role/aspera-ec2` to `arn:aws:iam::444444444444:role/other-ec2`');

    const account = changes(ONE_GRANT, (d) => void (d.otherAccount = { accountId: '555555555555', region: 'us-east-1', profile: 'other-account' }));
    expect(kinds(account)).toEqual(['principal xfer2']);
    expect(account[0].summary).toContain('now trust `arn:aws:iam::555555555555:root` (was `arn:aws:iam::222222222222:root`)');
  });

  test('a new Aspera host widens every grant; a removed one narrows', () => {
    const added = changes(ONE_GRANT, (d) => void d.asperaHosts?.push({ host: 'aspera2.example.com', user: 'ec2-user' }));
    expect(kinds(added)).toEqual(['widened xfer2']);
    expect(added[0].summary).toContain('`aspera2.example.com:22`');
    const removed = changes(SEVERAL_GRANTS, (d) => void d.asperaHosts?.splice(1, 1));
    expect(kinds(removed)).toEqual(['narrowed xfer1', 'narrowed xfer2', 'narrowed xfer3', 'changed']);
    // Removed without being retired: nothing runs there, and the review says so.
    expect(removed[3].attention).toBe(true);
    expect(removed[3].summary).toMatch(/leaves the config without being retired: Terraform runs no uninstall there .* retire it first/);
  });

  test('retiring a host narrows every grant there and says the uninstall runs; removing the retired entry then is no change', () => {
    const retire = (d: ConfigInput) => void (d.asperaHosts![1] = { ...d.asperaHosts![1], retired: true });
    const retired = changes(SEVERAL_GRANTS, retire);
    expect(kinds(retired)).toEqual(['narrowed xfer1', 'narrowed xfer2', 'narrowed xfer3', 'changed']);
    expect(retired[3].attention).toBeFalsy();
    expect(retired[3].summary).toMatch(/is retired: this apply runs the uninstall there over SSH/);
    const after = configOf(SEVERAL_GRANTS, retire);
    const gone = diffAccess(accessModel(after), accessModel(configOf(SEVERAL_GRANTS, (d) => void d.asperaHosts?.splice(1, 1))));
    expect(gone).toEqual([]);
  });

  test('fleets: a new one widens, a switch to "removed" narrows and says the uninstall runs, a fleet removed while installed needs attention', () => {
    const fleet = { name: 'transfer-asg', targets: { autoScalingGroupName: 'aspera-asg' }, scriptS3: { bucket: 'media-ops-aspera-scripts' } };
    const added = changes(ONE_GRANT, (d) => void ((d as Record<string, unknown>).asperaFleets = [fleet]));
    expect(kinds(added)).toEqual(['widened xfer2']);
    expect(added[0].summary).toContain('fleet `transfer-asg` (SSM)');
    const installed = (d: ConfigInput) => void ((d as Record<string, unknown>).asperaFleets = [fleet]);
    const removedDocroots = diffAccess(accessModel(configOf(ONE_GRANT, installed)), accessModel(configOf(ONE_GRANT, (d) => void ((d as Record<string, unknown>).asperaFleets = [{ ...fleet, docroots: 'removed' }]))));
    expect(kinds(removedDocroots)).toEqual(['narrowed xfer2', 'changed']);
    expect(removedDocroots[1].summary).toContain('now runs the uninstall on every matching instance');
    const dropped = diffAccess(accessModel(configOf(ONE_GRANT, installed)), accessModel(configOf(ONE_GRANT)));
    expect(kinds(dropped)).toEqual(['narrowed xfer2', 'changed']);
    expect(dropped[1].attention).toBe(true);
    expect(dropped[1].summary).toContain('deleting its association runs nothing on the instances');
  });

  test('a bucket the stack stops creating is called out: apply would delete it', () => {
    const result = changes(SEVERAL_GRANTS, (d) => void (d.buckets![0] = { name: 'acme-inbox', create: false }));
    expect(kinds(result)).toEqual(['changed']);
    expect(result[0].attention).toBe(true);
    expect(result[0].summary).toContain('`acme-inbox` is no longer created by this stack');
  });

  test('a renamed role is a change that needs attention (the old role is deleted)', () => {
    const result = changes(SEVERAL_GRANTS, (d) => void (grant(d, 'xfer3').roleName = 'archive-reader-2'));
    expect(kinds(result)).toEqual(['changed xfer3']);
    expect(result[0].attention).toBe(true);
  });

  describe('SSE-KMS', () => {
    const KEY = 'arn:aws:kms:eu-west-1:333333333333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const OTHER_KEY = 'arn:aws:kms:eu-west-1:555555555555:key/0f5e2c1a-7b3d-4c9e-8a21-5d6f7e8a9b0c';
    type Buckets = Array<{ name: string; create: boolean; encryption?: 'sse-s3' | 'sse-kms'; kmsKeyArn?: string }>;
    const archiveKey = (key: string | undefined) => (d: ConfigInput) => {
      const archive = (d.buckets as Buckets).find((b) => b.name === 'acme.archive')!;
      if (key === undefined) delete archive.kmsKeyArn;
      else archive.kmsKeyArn = key;
    };
    const withArchiveKey = configOf(SEVERAL_GRANTS, archiveKey(KEY));
    const kmsChanges = (edit: (d: ConfigInput) => void) => diffAccess(accessModel(withArchiveKey), accessModel(configOf(SEVERAL_GRANTS, (d) => (archiveKey(KEY)(d), edit(d)))));

    test("naming an existing bucket's key widens its readers by kms:Decrypt on that key, through S3 only", () => {
      const result = changes(SEVERAL_GRANTS, archiveKey(KEY));
      expect(kinds(result)).toEqual(['widened xfer3']);
      expect(result[0].summary).toBe(`**xfer3** gains \`kms:Decrypt\` on the KMS key \`${KEY}\`, through S3 only, for \`s3://acme.archive/reports/\``);
    });

    test('another key is a change that needs attention, naming both keys; dropping the key narrows', () => {
      const moved = kmsChanges(archiveKey(OTHER_KEY));
      expect(kinds(moved)).toEqual(['changed xfer3']);
      expect(moved[0].attention).toBe(true);
      expect(moved[0].summary).toContain(`changes from the KMS key \`${KEY}\` to the KMS key \`${OTHER_KEY}\``);
      const dropped = kmsChanges(archiveKey(undefined));
      expect(kinds(dropped)).toEqual(['narrowed xfer3']);
      expect(dropped[0].summary).toContain(`loses \`kms:Decrypt\` on the KMS key \`${KEY}\``);
    });

    test('a created bucket made SSE-KMS: each grant gains its access level\'s KMS actions on the key the stack creates', () => {
      const result = changes(SEVERAL_GRANTS, (d) => void ((d.buckets as Buckets)[0].encryption = 'sse-kms'));
      expect(result.map((c) => c.summary)).toEqual([
        '**xfer1** gains `kms:Decrypt`, `kms:GenerateDataKey` on the KMS key this stack creates for s3://acme-inbox/, through S3 only, for `s3://acme-inbox/partners/alpha/`',
        '**xfer2** gains `kms:Decrypt` on the KMS key this stack creates for s3://acme-inbox/, through S3 only, for `s3://acme-inbox/` (whole bucket)',
      ]);
    });
  });

  test('without a base config every grant is new', () => {
    const result = diffAccess(undefined, accessModel(configOf(SEVERAL_GRANTS)));
    expect(kinds(result)).toEqual(['added xfer1', 'added xfer2', 'added xfer3']);
  });
});

describe('access diff in the report', () => {
  const base = configOf(SEVERAL_GRANTS);
  const next = configOf(SEVERAL_GRANTS, (d) => {
    (d as Draft).grants.push({ transferUser: 'xfer4', bucket: 'acme.archive', prefix: '', access: 'read-write' });
    (d as Draft).grants = (d as Draft).grants.filter((g) => g.transferUser !== 'xfer2');
    grant(d, 'xfer1').prefix = 'partners/alpha/2024';
  });
  const report = reviewReport({ config: next, source: 'aspera.config.json', base: { config: base, label: 'origin/main:aspera.config.json' } });
  const diff = report.slice(report.indexOf('## Access changes'), report.indexOf('## Trust chain'));

  test('comes before the rest of the report, with widening first under a warning', () => {
    expect(report.indexOf('## Access changes')).toBeLessThan(report.indexOf('## Trust chain'));
    const warning = diff.indexOf('> [!WARNING]');
    const addition = diff.indexOf('⚠️ **Added:** **xfer4** gets **read-write** access to `s3://acme.archive/` (whole bucket)');
    expect(warning).toBeGreaterThan(0);
    expect(addition).toBeGreaterThan(warning);
    expect(diff.indexOf('### Narrowed or revoked')).toBeGreaterThan(addition);
  });

  test('lists the removal and the narrowing under "Narrowed or revoked", and sums them up', () => {
    const narrowed = diff.slice(diff.indexOf('### Narrowed or revoked'));
    expect(narrowed).toContain('**Removed:** **xfer2** loses **read-only** access');
    expect(narrowed).toContain('**Narrowed:** **xfer1** gets a narrower location');
    expect(diff).toContain('Summary: **1 change widens access** (`xfer4`); 2 changes narrow or revoke access (`xfer1`, `xfer2`).');
    expect(diff).not.toContain(NO_ACCESS_CHANGES);
  });

  test('a base without a config file shows every grant as new', () => {
    const first = reviewReport({ config: base, source: 'aspera.config.json', base: { config: undefined, label: 'origin/main:aspera.config.json' } });
    expect(first).toContain('The base has no config file');
    for (const user of ['xfer1', 'xfer2', 'xfer3']) expect(first).toContain(`⚠️ **Added:** **${user}** gets`);
  });
});
