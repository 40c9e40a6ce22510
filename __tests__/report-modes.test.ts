/**
 * The review report in the two-organization modes: it states which half a config describes,
 * marks what the other party manages, never shows an External ID it cannot know at synth time as a
 * value, says per mode what destroy removes and what the other party must do, and compares configs
 * across modes without reporting a change of mode as a change of access.
 *
 * What each half owns is read from src/modes/half-ownership.ts; the first block checks that
 * against the synthesized stacks (one synth per config), so the report cannot claim a part the
 * stack does not create or miss one it does.
 */
import { grantDocroot } from '../src/aspera/docroot';
import type { Config, ConfigInput } from '../src/config/schema';
import { grantRoleArn, hostRoleArn } from '../src/iam/arns';
import { grantS3Actions } from '../src/iam/s3-access';
import { grantRoleTrustPolicy } from '../src/iam/trust-policy';
import { halfOwnership } from '../src/modes/half-ownership';
import { diffAccess, type AccessChange } from '../src/report/diff';
import { NO_ACCESS_CHANGES, reviewReport } from '../src/report/markdown';
import { accessModel, EXTERNAL_ID_STAND_IN } from '../src/report/model';
import { code } from '../src/report/text';
import { halvesOf, HALF_STATES, synthConfig, type TerraformJson } from './helpers/synth';
import { configOf, destroySectionOf, firstGrantOnly, grantSectionOf, ONE_GRANT, rowOf, SEVERAL_GRANTS, twoOrganizations } from './helpers/report-fixtures';

const MANAGED = '*Managed by the other party.*';

// One logical setup per grant count, split into halves as two organizations would write them.
const halves = {
  one: halvesOf(ONE_GRANT),
  several: halvesOf(SEVERAL_GRANTS),
  oneRemote: halvesOf(ONE_GRANT, { otherHalfState: true, generateExternalId: true }),
  severalRemote: halvesOf(SEVERAL_GRANTS, { otherHalfState: true, generateExternalId: true }),
};

/** Every config these tests report on, by name: mode "both" and each half, one and several grants. */
const inputs: Record<string, ConfigInput> = {
  'both, one grant': ONE_GRANT,
  'both, several grants': SEVERAL_GRANTS,
  'bucket-owner, one grant': halves.one.bucketOwner,
  'bucket-owner, several grants': halves.several.bucketOwner,
  'bucket-owner, External ID from the operator\'s state': halves.oneRemote.bucketOwner,
  'bucket-owner, host role by ARN with a path': { ...halves.several.bucketOwner, hostRole: { arn: 'arn:aws:iam::444444444444:role/aspera/ec2' } },
  'transfer-host, one grant': halves.one.transferHost,
  'transfer-host, several grants': halves.several.transferHost,
  'transfer-host, generated External ID, one grant': halves.oneRemote.transferHost,
  'transfer-host, generated External ID, several grants': halves.severalRemote.transferHost,
  'transfer-host, grant roles by ARN': {
    ...halves.several.transferHost,
    grants: SEVERAL_GRANTS.grants.map(({ roleName: _name, ...g }, i) => ({ ...g, roleArn: `arn:aws:iam::333333333333:role/partners/grant-${i}` })),
  },
};
const configs: Record<string, Config> = Object.fromEntries(Object.entries(inputs).map(([name, input]) => [name, configOf(input)]));
const names = Object.keys(configs);
const ofMode = (mode: Config['mode']) => names.filter((n) => configs[n].mode === mode);

describe('what each half owns (src/modes/half-ownership.ts) is what the synthesized stack creates', () => {
  const stacks = new Map<string, TerraformJson>();
  beforeAll(() => {
    for (const name of names) stacks.set(name, synthConfig(inputs[name]));
  });
  const resources = (tf: TerraformJson, type: string) => Object.keys(tf.resource?.[type] ?? {}).sort();

  test.each(names)('%s', (name) => {
    const config = configs[name];
    const tf = stacks.get(name) as TerraformJson;
    const owns = halfOwnership(config);

    // My Account: one role and one S3 policy per grant, and the created buckets, or none of them.
    const grantNames = config.grants.map((g) => `grant_${g.transferUser}`).sort();
    expect(resources(tf, 'aws_iam_role').filter((r) => r.startsWith('grant_'))).toEqual(owns.bucketOwnerHalf ? grantNames : []);
    expect(resources(tf, 'aws_iam_role_policy').filter((r) => r.startsWith('grant_'))).toEqual(owns.bucketOwnerHalf ? grantNames : []);
    expect(Object.values(tf.resource?.aws_s3_bucket ?? {}).map((b) => b.bucket).sort()).toEqual([...owns.createdBuckets].sort());

    // Other Account: the host role (created or existing) and its policy, and the docroots.
    expect(resources(tf, 'aws_iam_role').includes('transfer_host')).toBe(owns.hostRole === 'created');
    expect(Object.keys(tf.data?.aws_iam_role ?? {}).includes('transfer_host')).toBe(owns.hostRole === 'existing');
    expect(resources(tf, 'aws_iam_role_policy').includes('transfer_host')).toBe(owns.transferHostHalf);
    // Two per host: one installs the docroots, one removes them on destroy.
    expect(resources(tf, 'null_resource')).toHaveLength(owns.installsDocroots ? 2 * config.asperaHosts.length : 0);

    // The External ID: generated here, read from the operator's state, or the config's.
    expect(resources(tf, 'random_id')).toEqual(owns.externalId.kind === 'generated' ? ['external_id'] : []);
    expect(Object.keys(tf.data?.terraform_remote_state ?? {}).includes('transfer_host_half')).toBe(owns.externalId.kind === 'other-half-state');
  });

  test.each(ofMode('bucket-owner'))('%s: the report\'s trust policy is the synthesized one, with the stand-in exactly where the stack has a plan-time value', (name) => {
    const config = configs[name];
    const tf = stacks.get(name) as TerraformJson;
    const model = accessModel(config);
    for (const grant of config.grants) {
      const synthesized = tf.resource?.aws_iam_role?.[`grant_${grant.transferUser}`].assume_role_policy as string;
      const planTime = '${data.terraform_remote_state.transfer_host_half.outputs.external_id}';
      expect(synthesized.includes(planTime)).toBe(model.externalId.kind === 'other-half-state');
      const asReported = grantRoleTrustPolicy({ ...config, externalId: model.grants[0].trust.externalId as string });
      expect(JSON.parse(synthesized.split(planTime).join(EXTERNAL_ID_STAND_IN))).toEqual(asReported);
    }
  });
});

describe.each(names)('report for %s', (name) => {
  const config = configs[name];
  const report = reviewReport({ config, source: 'aspera.config.json' });
  const owns = halfOwnership(config);

  test('states the mode and which half it describes', () => {
    const described = { both: 'this stack applies both halves', 'bucket-owner': "this report describes the bucket owner's half", 'transfer-host': "this report describes the operator's (transfer host's) half" }[config.mode];
    expect(report).toContain(`**Mode ${code(config.mode)}`);
    expect(report).toContain(described);
    expect(report).toContain(`| Mode | ${code(config.mode)}: this stack applies `);
  });

  test('marks exactly the other party\'s parts of each grant as theirs, and shows this half\'s in full', () => {
    expect(report.match(/^### /gm)).toHaveLength(config.grants.length);
    for (const grant of config.grants) {
      const section = grantSectionOf(report, grant.transferUser);
      const roleArn = rowOf(section, 'Role ARN');
      expect(roleArn).toContain(code(grantRoleArn(config, grant)));
      expect(roleArn.startsWith(MANAGED)).toBe(!owns.bucketOwnerHalf);
      expect(rowOf(section, 'Trusted principal').startsWith(MANAGED)).toBe(!owns.bucketOwnerHalf);
      expect(rowOf(section, 'Transfer host role may assume it').startsWith(MANAGED)).toBe(!owns.transferHostHalf);
      // The S3 actions are listed either way: as the policy this half creates, or as what it expects.
      for (const action of grantS3Actions(grant.access)) expect(section).toContain(code(action));
      if (owns.transferHostHalf) {
        expect(rowOf(section, 'aspera.conf permissions')).toBe(`read_allowed=true, write_allowed=${grant.access === 'read-write'}, dir_allowed=true`);
        const hosts = config.asperaHosts.map((h) => code(`${h.host}:${h.port}`));
        expect(rowOf(section, 'Installed on')).toBe(hosts.length === 0 ? 'no host configured' : hosts.join(', '));
      } else {
        expect(rowOf(section, 'Docroot').startsWith(MANAGED)).toBe(true);
        expect(section).not.toContain('aspera.conf permissions');
      }
    }
    if (config.mode === 'both') expect(report).not.toContain('managed by the other party');
  });

  test('shows the External ID only where the config has it, and never the stand-in or an empty value', () => {
    expect(report).not.toContain(EXTERNAL_ID_STAND_IN);
    expect(report).not.toContain('""');
    // An empty code span (not a ``` fence).
    expect(report).not.toMatch(/(^|[^`])``([^`]|$)/m);
    const row = rowOf(report.slice(report.indexOf('## Accounts and principals')), 'External ID');
    if (owns.externalId.kind === 'config') expect(row).toBe(code(config.externalId!));
    else expect(row.startsWith('not in this config: ')).toBe(true);
  });
});

describe('an External ID that is not known at synth time', () => {
  test('read from the operator\'s state: the report says where and when, in the accounts table and in every trust policy', () => {
    const config = configs["bucket-owner, External ID from the operator's state"];
    const report = reviewReport({ config, source: 'a.json' });
    const state = HALF_STATES.transferHost;
    expect(rowOf(report.slice(report.indexOf('## Accounts and principals')), 'External ID')).toBe(
      `not in this config: read from the operator's state at plan time (output ${code('external_id')} of ${code(`s3://${state.bucket}/${state.key}`)}). ` +
        '`cdktf plan` shows the value in each trust policy, and fails before planning any role unless it is a valid External ID.',
    );
    for (const grant of config.grants) {
      expect(rowOf(grantSectionOf(report, grant.transferUser), 'Trusted principal')).toBe(
        `${code('arn:aws:iam::222222222222:root')} only if ${code('sts:ExternalId StringEquals')} *(the External ID read from the operator's state at plan time)* ` +
          `and ${code(`aws:PrincipalArn StringEquals "${hostRoleArn(config)}"`)}`,
      );
    }
  });

  test.each(ofMode('transfer-host').filter((n) => n.includes('generated')))('%s: generated at first apply; each docroot is shown up to where the value goes', (name) => {
    const config = configs[name];
    const report = reviewReport({ config, source: 'a.json' });
    const row = rowOf(report.slice(report.indexOf('## Accounts and principals')), 'External ID');
    expect(row).toContain('generated at first apply');
    expect(row).toContain(`output ${code('external_id')}`);
    for (const grant of config.grants) {
      // The stack's own docroot function with a known value: everything before the value is what the report shows.
      const withValue = grantDocroot({ ...config, externalId: 'abc123' }, grant);
      expect(withValue.endsWith('=abc123')).toBe(true);
      expect(rowOf(grantSectionOf(report, grant.transferUser), 'Docroot (goes into aspera.conf)')).toBe(
        `${code(withValue.slice(0, -'abc123'.length))} *(the External ID generated at first apply)*`,
      );
    }
  });
});

describe('what destroy removes and keeps, per mode', () => {
  test.each(ofMode('both'))('%s: both halves, so everything this stack granted', (name) => {
    const config = configs[name];
    const { removes, keeps, otherParty } = destroySectionOf(reviewReport({ config, source: 'a.json' }));
    for (const grant of config.grants) expect(removes).toContain(code(grantRoleArn(config, grant)));
    expect(removes).toContain(`In Other Account ${code(config.otherAccount.accountId)}`);
    expect(removes).toContain('before the roles go');
    expect(keeps).not.toContain('roleArn');
    expect(otherParty).toBe('');
  });

  test.each(ofMode('bucket-owner'))('%s: the grant roles (the revocation, on its own) and created buckets; nothing of the operator\'s', (name) => {
    const config = configs[name];
    const { removes, keeps, otherParty } = destroySectionOf(reviewReport({ config, source: 'a.json' }));
    for (const grant of config.grants) expect(removes).toContain(code(grantRoleArn(config, grant)));
    expect(removes).toContain('This is the revocation: from then on the transfer host cannot assume them, whatever is left on the host and whatever the operator does.');
    for (const bucket of config.buckets) expect(bucket.create ? removes : keeps).toContain(code(bucket.name));
    expect(removes).not.toContain('Other Account');
    expect(removes).not.toContain('Aspera host');
    expect(keeps).toContain(`The other party's half, which this stack does not manage: the host role ${code(hostRoleArn(config))}`);
    expect(otherParty).toContain("This half's destroy revokes the access on its own");
    expect(otherParty).toContain('the operator destroys the transfer-host half, which removes the docroots and the host policy');
  });

  test.each(ofMode('transfer-host'))('%s: the host policy, host role and docroots, but not the grant roles: the bucket owner must destroy to fully revoke', (name) => {
    const config = configs[name];
    const { removes, keeps, otherParty } = destroySectionOf(reviewReport({ config, source: 'a.json' }));
    const hostRole = halfOwnership(config).hostRole;
    expect(removes).toContain(
      hostRole === 'created'
        ? `the transfer host role ${code(hostRoleArn(config))}, its instance profile and its assume-role policy`
        : `the assume-role policy this stack put on the existing role ${code(hostRoleArn(config))} (the role itself stays)`,
    );
    if (config.asperaHosts.length > 0) expect(removes).toContain(`On each Aspera host (${config.asperaHosts.map((h) => code(`${h.host}:${h.port}`)).join(', ')})`);
    expect(removes.includes('The generated External ID')).toBe(config.externalId === undefined);
    for (const grant of config.grants) {
      expect(removes).not.toContain(code(grantRoleArn(config, grant)));
      expect(keeps).toContain(code(grantRoleArn(config, grant)));
    }
    expect(removes).not.toContain('My Account');
    expect(otherParty).toContain('It does not revoke the grant roles.');
    expect(otherParty).toContain('To fully revoke, the bucket owner destroys the bucket-owner half');
  });
});

describe('access diff across modes', () => {
  const diff = (from: ConfigInput, to: ConfigInput): AccessChange[] => diffAccess(accessModel(configOf(from)), accessModel(configOf(to)));
  const kinds = (list: AccessChange[]) => list.map((c) => [c.kind, ...c.transferUsers].join(' '));
  const ACCESS_KINDS = ['added', 'removed', 'widened', 'narrowed', 'moved', 'principal'];

  test.each([
    ['both', 'bucket-owner', ONE_GRANT, halves.one.bucketOwner, "stops applying the transfer host's half"],
    ['both', 'transfer-host', SEVERAL_GRANTS, halves.several.transferHost, "stops applying the bucket owner's half"],
    ['bucket-owner', 'both', halves.several.bucketOwner, SEVERAL_GRANTS, "starts applying the transfer host's half"],
    ['transfer-host', 'both', halves.one.transferHost, ONE_GRANT, "starts applying the bucket owner's half"],
  ] as const)('the same access in mode %s and mode %s: no access change, one line on what moves', (_from, _to, from, to, moves) => {
    const changes = diff(from, to);
    expect(changes.filter((c) => ACCESS_KINDS.includes(c.kind))).toEqual([]);
    expect(kinds(changes)).toEqual(['changed']);
    expect(changes[0].summary).toContain(moves);
    expect(changes[0].attention).toBe(true);
  });

  test('the walkthrough\'s two halves compared with each other: no access change either', () => {
    const changes = diff(twoOrganizations('bucket-owner.json'), twoOrganizations('transfer-host.json'));
    expect(changes.filter((c) => ACCESS_KINDS.includes(c.kind) || c.kind === 'undetermined')).toEqual([]);
  });

  test('the same role named differently (host role by ARN, grant role by ARN) is no change', () => {
    const hostRoleByArn = { ...halves.one.bucketOwner, hostRole: { arn: 'arn:aws:iam::222222222222:role/aspera-transfer-host' } };
    expect(diff(halves.one.bucketOwner, hostRoleByArn)).toEqual([]);
    const grantByArn = { ...halves.one.transferHost, grants: [{ ...ONE_GRANT.grants[0], roleArn: 'arn:aws:iam::111111111111:role/aspera-cross-account-xfer2' }] };
    expect(diff(halves.one.transferHost, grantByArn)).toEqual([]);
  });

  test('an External ID read from the other half\'s state cannot be compared at synth time, and the report says so', () => {
    const byMessage = halves.several.bucketOwner;
    const byState = { ...byMessage, externalId: undefined, otherHalfState: { ...HALF_STATES.transferHost } };
    const changes = diff(byMessage, byState);
    expect(kinds(changes)).toEqual(['undetermined xfer1 xfer2 xfer3']);
    expect(changes[0].attention).toBe(true);
    expect(changes[0].summary).toContain(`was ${code('ext-5551')} (in the config) and is now the External ID read from the operator's state at plan time`);
    expect(changes[0].summary).toContain('cannot be compared at synth time');

    const report = reviewReport({ config: configOf(byState), source: 'a.json', base: { config: configOf(byMessage), label: 'origin/main:a.json' } });
    expect(report).toContain('⚠️ **Not known until plan:** Who may assume the role of **xfer1**, **xfer2**, **xfer3** may change');
    expect(report).toContain('Summary: **1 change cannot be compared until `cdktf plan`**.');
    expect(report).not.toContain('**Principal change:**');
    expect(report).not.toContain(NO_ACCESS_CHANGES);

    // The same state object on both sides: the same value, whatever it is.
    expect(diff(byState, { ...byState })).toEqual([]);
    // Another state object: possibly another value.
    expect(kinds(diff(byState, { ...byState, otherHalfState: { ...HALF_STATES.transferHost, key: 'aspera/other.tfstate' } }))).toEqual(['undetermined xfer1 xfer2 xfer3']);
  });

  test('a generated External ID in place of a configured one is a principal change (it is certain to differ)', () => {
    const changes = diff(halves.one.transferHost, { ...halves.one.transferHost, externalId: undefined });
    expect(kinds(changes)).toEqual(['principal xfer2']);
    expect(changes[0].summary).toContain('is now the External ID generated at first apply');
    // Both generated: the value is in the operator's state, unchanged by the config.
    expect(diff({ ...halves.one.transferHost, externalId: undefined }, { ...halves.one.transferHost, externalId: undefined })).toEqual([]);
  });

  test('in the operator\'s half more access is still a widening, and names the bucket owner\'s policy as theirs', () => {
    const readWrite = { ...halves.several.transferHost, grants: SEVERAL_GRANTS.grants.map((g) => (g.transferUser === 'xfer2' ? { ...g, access: 'read-write' as const } : g)) };
    const changes = diff(halves.several.transferHost, readWrite);
    expect(kinds(changes)).toEqual(['widened xfer2']);
    expect(changes[0].summary).toContain("the S3 policy is the bucket owner's (managed by the other party)");
  });

  test('a grant removed in a half: the bucket owner\'s half deletes the role; the operator\'s only stops using it', () => {
    const drop = (input: ConfigInput): ConfigInput => firstGrantOnly(input);
    const inBucketOwner = diff(halves.several.bucketOwner, drop(halves.several.bucketOwner)).filter((c) => c.kind === 'removed');
    expect(inBucketOwner.map((c) => c.summary)).toContainEqual(expect.stringContaining(`role ${code('arn:aws:iam::333333333333:role/acme-aspera-xfer2')} is deleted`));
    const inTransferHost = diff(halves.several.transferHost, drop(halves.several.transferHost)).filter((c) => c.kind === 'removed');
    expect(inTransferHost.map((c) => c.summary)).toContainEqual(expect.stringContaining(`this config no longer names role ${code('arn:aws:iam::333333333333:role/acme-aspera-xfer2')}`));
    expect(inTransferHost.map((c) => c.details.join(' '))).toContainEqual(expect.stringContaining('Docroot removed from'));
  });
});
