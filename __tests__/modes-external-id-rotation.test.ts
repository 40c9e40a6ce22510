/**
 * Rotating the External ID without an outage ("nextExternalId"), proven on what would be applied:
 *  - during the rotation (the cutover) the host role assumes every grant role with the old External
 *    ID and with the new one, not with a third value nor without one, and no other principal gets
 *    in; after the promotion only the new one works. Decided by an independent engine
 *    (iam-simulate, __tests__/helpers/access-matrix.ts) over the policies synthesized in mode "both"
 *    and over the union of the two halves' stacks (values by message, and through remote state with
 *    a generated External ID);
 *  - everything the hosts use carries only the new External ID during the cutover: the "docroots"
 *    and "external_id" outputs, the SSH host scripts, the fleets' scripts and SSM documents; and the
 *    promotion changes none of it;
 *  - the config rules and the trust policy's size limit with two External IDs.
 * Expected values are written by hand from the README and docs/two-organizations.md (the trust:
 * Other Account's root with sts:ExternalId and aws:PrincipalArn; the docroot form
 * "...;iam-role.external-id=<External ID>"), not computed by the code under test.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { validateConfig } from '../src/config-file';
import type { ConfigInput } from '../src/config/schema';
import {
  ADMIN,
  assumeRoleRequest,
  type Case,
  decideOnce,
  type Decision,
  FIXTURE_CASES,
  hostRoleArnOf,
  type PolicyDoc,
  readSynthesizedAccess,
  type SynthesizedAccess,
  THIRD_ACCOUNT,
} from './helpers/access-matrix';
import { fixtureConfigInput, halvesOf, remoteStateValues, resolvePlanTime, synthConfig, synthConfigToDir, type SynthOutput, type TerraformJson } from './helpers/synth';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The External ID rotated to; and one that is neither the old nor the new one. */
const NEW_ID = 'rotated-5e0c1d2b';
const THIRD_ID = 'neither-one-4a9f';
/** What random_id.external_id.hex would be after the operator's first apply (16 bytes, hex). */
const GENERATED = '8d2e4b6a0c1f3e5d7b9a2c4e6f8a0b1c';

// ---- IAM: who may assume the grant roles ------------------------------------------------------------

/** How each caller fares with each External ID, per grant role: the decisions to compare with the expectation. */
async function assumeDecisions(access: SynthesizedAccess, c: Case, externalIds: Record<string, string | undefined>): Promise<Record<string, Decision>> {
  const hostPolicies: PolicyDoc[] = access.roles.get(`${c.otherAccount}/${c.hostRole}`)?.inline ?? [];
  const callers = {
    'host role': { principal: `arn:${c.partition}:sts::${c.otherAccount}:assumed-role/${c.hostRole}/i-0123456789abcdef0`, principalArn: hostRoleArnOf(c), identityPolicies: hostPolicies },
    'admin role of Other Account': {
      principal: `arn:${c.partition}:sts::${c.otherAccount}:assumed-role/some-other-app/s`,
      principalArn: `arn:${c.partition}:iam::${c.otherAccount}:role/some-other-app`,
      identityPolicies: [ADMIN],
    },
    'admin user of Other Account': { principal: `arn:${c.partition}:iam::${c.otherAccount}:user/admin`, principalArn: `arn:${c.partition}:iam::${c.otherAccount}:user/admin`, identityPolicies: [ADMIN] },
    'same-named role in a third account': {
      principal: `arn:${c.partition}:sts::${THIRD_ACCOUNT}:assumed-role/${c.hostRole}/i-0`,
      principalArn: `arn:${c.partition}:iam::${THIRD_ACCOUNT}:role/${c.hostRole}`,
      identityPolicies: [ADMIN],
    },
  };
  const decisions: Record<string, Decision> = {};
  for (const grant of c.grants) {
    const trust = access.roles.get(`${c.myAccount}/${grant.role}`)?.trust;
    if (trust === undefined) throw new Error(`no grant role ${grant.role}`);
    for (const [who, caller] of Object.entries(callers)) {
      for (const [which, externalId] of Object.entries(externalIds)) {
        decisions[`${grant.role} | ${who} | ${which}`] = await decideOnce(assumeRoleRequest(c, grant.role, trust, caller, externalId));
      }
    }
  }
  return decisions;
}

/** The expectation: only the host role gets in, and only with an External ID in `accepted`. */
function expectedDecisions(c: Case, externalIds: Record<string, string | undefined>, accepted: readonly string[]): Record<string, Decision> {
  const out: Record<string, Decision> = {};
  for (const grant of c.grants) {
    for (const who of ['host role', 'admin role of Other Account', 'admin user of Other Account', 'same-named role in a third account']) {
      for (const which of Object.keys(externalIds)) {
        out[`${grant.role} | ${who} | ${which}`] = who === 'host role' && accepted.includes(which) ? 'Allowed' : 'ImplicitlyDenied';
      }
    }
  }
  return out;
}

/** The External IDs each request presents: the old and the new one, a third value, none. */
const presenting = (c: Case) => ({ 'the old External ID': c.externalId, 'the new External ID': NEW_ID, 'a third value': THIRD_ID, 'no External ID': undefined });

const ROTATION_CASES = FIXTURE_CASES.filter((c) => c.fixture === 'minimal.json' || c.fixture === 'two-buckets-prefixes.json');

describe.each(ROTATION_CASES)('$fixture: who may assume the grant roles', (c) => {
  const input = fixtureConfigInput(c.fixture);
  const rotating: ConfigInput = { ...input, nextExternalId: NEW_ID };
  const promoted: ConfigInput = { ...input, externalId: NEW_ID };
  const union = (config: ConfigInput) => {
    const { bucketOwner, transferHost } = halvesOf(config);
    return readSynthesizedAccess(synthConfig(bucketOwner), synthConfig(transferHost));
  };

  test.each([
    ['mode "both"', () => readSynthesizedAccess(synthConfig(rotating))],
    ['the two halves, values by message', () => union(rotating)],
  ])('during the rotation, %s: the host role with the old or the new External ID, nobody else and nothing else', async (_, access) => {
    const ids = presenting(c);
    expect(await assumeDecisions(access(), c, ids)).toEqual(expectedDecisions(c, ids, ['the old External ID', 'the new External ID']));
  });

  test.each([
    ['mode "both"', () => readSynthesizedAccess(synthConfig(promoted))],
    ['the two halves, values by message', () => union(promoted)],
  ])('after the promotion, %s: only the new External ID', async (_, access) => {
    const ids = presenting(c);
    expect(await assumeDecisions(access(), c, ids)).toEqual(expectedDecisions(c, ids, ['the new External ID']));
  });
});

describe('two-buckets-prefixes.json through remote state, the operator\'s External ID generated', () => {
  const fixture = FIXTURE_CASES.find((f) => f.fixture === 'two-buckets-prefixes.json')!;
  const c: Case = { ...fixture, externalId: GENERATED };
  const input = fixtureConfigInput(fixture.fixture);
  const generated = { 'random_id.external_id.hex': GENERATED };
  // The operator before the rotation: what its state publishes while the bucket owner applies first.
  const operatorBefore = () => synthConfig(halvesOf(input, { otherHalfState: true, generateExternalId: true }).transferHost);
  /** The bucket owner's stack as Terraform plans it, with what the operator's state publishes then. */
  const bucketOwnerPlanned = (config: ConfigInput, operatorState: TerraformJson) =>
    resolvePlanTime(synthConfig(config), remoteStateValues('transfer_host_half', operatorState, generated));

  test('the bucket owner applies "nextExternalId" first, then the operator moves its hosts to it: both External IDs work, nothing else', async () => {
    const rotating = halvesOf({ ...input, nextExternalId: NEW_ID }, { otherHalfState: true, generateExternalId: true });
    const bucketOwnerTf = bucketOwnerPlanned(rotating.bucketOwner, operatorBefore());
    // The trust holds the operator's generated value (read from their state) and the new one.
    expect(JSON.parse(bucketOwnerTf.resource!.aws_iam_role.grant_xfer2.assume_role_policy).Statement[0].Condition.StringEquals['sts:ExternalId']).toEqual([GENERATED, NEW_ID]);
    const access = readSynthesizedAccess(bucketOwnerTf, resolvePlanTime(synthConfig(rotating.transferHost), generated));
    const ids = presenting(c);
    expect(await assumeDecisions(access, c, ids)).toEqual(expectedDecisions(c, ids, ['the old External ID', 'the new External ID']));
  });

  test('after the promotion (the operator sets "externalId", the bucket owner removes "nextExternalId"): only the new one', async () => {
    const promoted = halvesOf({ ...input, externalId: NEW_ID }, { otherHalfState: true });
    const operatorTf = synthConfig(promoted.transferHost);
    const access = readSynthesizedAccess(bucketOwnerPlanned(promoted.bucketOwner, operatorTf), operatorTf);
    const ids = presenting(c);
    expect(await assumeDecisions(access, c, ids)).toEqual(expectedDecisions(c, ids, ['the new External ID']));
  });

  test('once the operator publishes the new one, the bucket owner\'s plan stops until it promotes (the check compares SHA-256, never the value)', () => {
    const rotating = halvesOf({ ...input, nextExternalId: NEW_ID }, { otherHalfState: true, generateExternalId: true });
    const operatorRotated = synthConfig(rotating.transferHost);
    expect(operatorRotated.output?.external_id?.value).toBe(NEW_ID);
    const checks: Array<{ condition: string; error_message: string }> = synthConfig(rotating.bucketOwner).data!.terraform_remote_state.transfer_host_half.lifecycle.postcondition;
    const guard = checks.filter((check) => check.condition.includes(sha256(NEW_ID)));
    expect(guard.map((check) => check.condition)).toEqual([`\${try(sha256(self.outputs.external_id) != "${sha256(NEW_ID)}", true)}`]);
    expect(guard[0].error_message).toContain('already publishes "nextExternalId"');
    expect(guard[0].error_message).toContain('promote: remove "nextExternalId"');
    expect(JSON.stringify(checks)).not.toContain(NEW_ID);
  });
});

// ---- What the hosts use: only the new External ID during the cutover --------------------------------

/** Every file of a synthesized stack (cdk.tf.json and the scripts written next to it), by path. */
function stackFiles(out: SynthOutput): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(out.stackDir, path)] = readFileSync(path, 'utf8');
    }
  };
  walk(out.stackDir);
  return files;
}

/** The strings of a JSON value that contain `text`, by where they are ("output.docroots.value.xfer2"). */
function whereIn(value: unknown, text: string, at = ''): string[] {
  if (typeof value === 'string') return value.includes(text) ? [at] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => whereIn(v, text, `${at}[${i}]`));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => whereIn(v, text, at === '' ? k : `${at}.${k}`));
  return [];
}

const OLD_ID = 'media-xfer-2b7e1516'; // fleets-role-path.json's externalId
const MEDIA_NEW_ID = 'media-xfer-9c4d2e61';
// The aws partition's endpoint, whatever the region (README: s3Endpoint's default).
const DOCROOT = (role: string, bucket: string, prefix: string, externalId: string) =>
  `s3://arn%3Aaws%3Aiam%3A%3A666666666666%3Arole%2Faspera%2Fmedia-xfer%2F${role}@s3.amazonaws.com/${bucket}${prefix};iam-role.external-id=${externalId}`;
const MEDIA_DOCROOTS = (externalId: string) => ({
  dailies_in: DOCROOT('media-xfer-dailies_in', 'media-xfer-dailies', '/incoming', externalId),
  masters_ro: DOCROOT('media-xfer-masters_ro', 'media-xfer-masters', '', externalId),
});
/** The scripts that install docroots: the SSH host's and the fleet's (the retired host and the "removed" fleet only uninstall). */
const INSTALL_SCRIPTS = ['aspera-host-scripts/aspera_hosts/host_198_51_100_20_22/install.sh', 'aspera-host-scripts/aspera_fleets/transfer-asg/install.sh'];
const GRANT_TRUSTS = ['resource.aws_iam_role.grant_dailies_in.assume_role_policy', 'resource.aws_iam_role.grant_masters_ro.assume_role_policy'];

describe('fleets-role-path.json (SSH hosts and SSM fleets): what the hosts use during the cutover', () => {
  const input = fixtureConfigInput('fleets-role-path.json');
  const outs: SynthOutput[] = [];
  const synth = (config: ConfigInput) => {
    const out = synthConfigToDir(config);
    outs.push(out);
    return out;
  };
  afterAll(() => outs.forEach((o) => rmSync(o.outdir, { recursive: true, force: true })));

  let both: SynthOutput;
  let promoted: SynthOutput;
  let bucketOwner: SynthOutput;
  let transferHost: SynthOutput;
  beforeAll(() => {
    expect(input.externalId).toBe(OLD_ID);
    const rotating = { ...input, nextExternalId: MEDIA_NEW_ID };
    both = synth(rotating);
    promoted = synth({ ...input, externalId: MEDIA_NEW_ID });
    const halves = halvesOf(rotating);
    bucketOwner = synth(halves.bucketOwner);
    transferHost = synth(halves.transferHost);
  });

  test('mode "both": the trust accepts both, in one StringEquals key; the host role stays the one condition beside it', () => {
    for (const role of ['grant_dailies_in', 'grant_masters_ro']) {
      expect(JSON.parse(both.tf.resource!.aws_iam_role[role].assume_role_policy).Statement).toEqual([
        {
          Sid: 'TransferHostRoleWithExternalId',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::777777777777:root' },
          Action: ['sts:AssumeRole'],
          Condition: { StringEquals: { 'sts:ExternalId': [OLD_ID, MEDIA_NEW_ID], 'aws:PrincipalArn': 'arn:aws:iam::777777777777:role/aspera/aspera-transfer-host' } },
        },
      ]);
    }
  });

  test('mode "both": the old External ID is in the trust policies and nowhere else, no file included', () => {
    expect(whereIn(both.tf, OLD_ID).sort()).toEqual(GRANT_TRUSTS);
    const files = stackFiles(both);
    expect(Object.keys(files).filter((path) => files[path].includes(OLD_ID))).toEqual(['cdk.tf.json']);
  });

  test('mode "both": the docroots, "external_id", the SSH host script and the fleet script carry the new one', () => {
    expect(both.tf.output?.docroots?.value).toEqual(MEDIA_DOCROOTS(MEDIA_NEW_ID));
    expect(both.tf.output?.external_id?.value).toBe(MEDIA_NEW_ID);
    const files = stackFiles(both);
    for (const script of INSTALL_SCRIPTS) {
      expect([script, files[script].split(`iam-role.external-id=${MEDIA_NEW_ID}`).length - 1]).toEqual([script, 2]);
    }
    // The scripts go up by path (SSH) or from S3 (fleets), not with the value spliced in at apply.
    expect(JSON.stringify(both.tf)).not.toMatch(/ASPERAEXTERNALIDMARKER|random_id/);
  });

  test('the halves: the operator\'s stack holds the new External ID only; the bucket owner\'s trust accepts both', () => {
    const operatorFiles = stackFiles(transferHost);
    expect(Object.keys(operatorFiles).filter((path) => operatorFiles[path].includes(OLD_ID))).toEqual([]);
    expect(transferHost.tf.output?.docroots?.value).toEqual(MEDIA_DOCROOTS(MEDIA_NEW_ID));
    expect(transferHost.tf.output?.external_id).toMatchObject({ value: MEDIA_NEW_ID, sensitive: true });
    for (const script of INSTALL_SCRIPTS) expect(operatorFiles[script]).toContain(`iam-role.external-id=${MEDIA_NEW_ID}`);

    expect(whereIn(bucketOwner.tf, OLD_ID).sort()).toEqual(GRANT_TRUSTS);
    expect(whereIn(bucketOwner.tf, MEDIA_NEW_ID).sort()).toEqual(GRANT_TRUSTS);
    // What the operator checks against: the current one alone (older operators), and every accepted one.
    expect(bucketOwner.tf.output?.external_id_sha256?.value).toBe(sha256(OLD_ID));
    expect(bucketOwner.tf.output?.external_id_sha256s?.value).toEqual([sha256(OLD_ID), sha256(MEDIA_NEW_ID)]);
  });

  test('the halves together hold what mode "both" holds: the same trust policies, scripts and docroots', () => {
    for (const role of ['grant_dailies_in', 'grant_masters_ro']) {
      expect(bucketOwner.tf.resource!.aws_iam_role[role].assume_role_policy).toBe(both.tf.resource!.aws_iam_role[role].assume_role_policy);
    }
    const [operatorFiles, bothFiles] = [stackFiles(transferHost), stackFiles(both)];
    for (const path of Object.keys(bothFiles).filter((p) => p !== 'cdk.tf.json')) expect([path, operatorFiles[path]]).toEqual([path, bothFiles[path]]);
  });

  test('the promotion changes nothing on the hosts: the same scripts, SSM documents, host resources and docroots', () => {
    const [during, after] = [stackFiles(both), stackFiles(promoted)];
    expect(Object.keys(after).sort()).toEqual(Object.keys(during).sort());
    for (const path of Object.keys(during).filter((p) => p !== 'cdk.tf.json')) expect([path, after[path] === during[path]]).toEqual([path, true]);
    for (const type of ['null_resource', 'aws_s3_object', 'aws_ssm_document', 'aws_ssm_association']) {
      expect([type, promoted.tf.resource?.[type]]).toEqual([type, both.tf.resource?.[type]]);
    }
    expect(promoted.tf.output?.docroots).toEqual(both.tf.output?.docroots);
    expect(promoted.tf.output?.external_id).toEqual(both.tf.output?.external_id);
    // Only the trust changes: it no longer accepts the old External ID.
    expect(whereIn(promoted.tf, OLD_ID)).toEqual([]);
    expect(JSON.parse(promoted.tf.resource!.aws_iam_role.grant_dailies_in.assume_role_policy).Statement[0].Condition.StringEquals['sts:ExternalId']).toBe(MEDIA_NEW_ID);
  });
});

describe('a generated External ID rotated with "nextExternalId" (mode "transfer-host")', () => {
  const input = fixtureConfigInput('fleets-role-path.json');
  const { transferHost } = halvesOf({ ...input, nextExternalId: MEDIA_NEW_ID }, { otherHalfState: true, generateExternalId: true });
  let out: SynthOutput;
  beforeAll(() => {
    out = synthConfigToDir(transferHost);
  });
  afterAll(() => rmSync(out.outdir, { recursive: true, force: true }));

  test('the hosts present the next one, known at synth: no value spliced in at apply, nothing reads the generated one', () => {
    expect(out.tf.output?.docroots?.value).toEqual(MEDIA_DOCROOTS(MEDIA_NEW_ID));
    expect(out.tf.output?.external_id?.value).toBe(MEDIA_NEW_ID);
    const files = stackFiles(out);
    for (const script of INSTALL_SCRIPTS) expect(files[script]).toContain(`iam-role.external-id=${MEDIA_NEW_ID}`);
    expect(Object.keys(files).filter((path) => files[path].includes('ASPERAEXTERNALIDMARKER'))).toEqual([]);
    // random_id.external_id stays in state during the rotation (removing "nextExternalId" returns to it), read by nothing.
    expect(Object.keys(out.tf.resource?.random_id ?? {})).toEqual(['external_id']);
    expect(whereIn({ ...out.tf, resource: { ...out.tf.resource, random_id: {} } }, 'random_id')).toEqual([]);
  });

  test('its check against the bucket owner compares the next one, by SHA-256', () => {
    const checks: Array<{ condition: string; error_message: string }> = out.tf.data!.terraform_remote_state.bucket_owner_half.lifecycle.postcondition;
    const externalIdCheck = checks.filter((check) => check.condition.includes('external_id_sha256'));
    expect(externalIdCheck.map((check) => check.condition)).toEqual([
      `\${contains(self.outputs.external_id_sha256s != null ? self.outputs.external_id_sha256s : [self.outputs.external_id_sha256], "${sha256(MEDIA_NEW_ID)}")}`,
    ]);
  });

  test('promoted ("externalId" set to the new value): random_id goes, the hosts do not change', () => {
    const promoted = { ...transferHost, externalId: MEDIA_NEW_ID };
    delete promoted.nextExternalId;
    const after = synthConfigToDir(promoted);
    try {
      expect(after.tf.resource?.random_id).toBeUndefined();
      const [during, later] = [stackFiles(out), stackFiles(after)];
      for (const path of Object.keys(during).filter((p) => p !== 'cdk.tf.json')) expect([path, later[path] === during[path]]).toEqual([path, true]);
      expect(after.tf.resource?.null_resource).toEqual(out.tf.resource?.null_resource);
      expect(after.tf.output?.docroots).toEqual(out.tf.output?.docroots);
    } finally {
      rmSync(after.outdir, { recursive: true, force: true });
    }
  });
});

// ---- The config ---------------------------------------------------------------------------------------

const problemsOf = (input: unknown): string[] => {
  const result = validateConfig(input);
  return result.ok ? [] : result.problems;
};

describe('"nextExternalId" in the config', () => {
  const input = fixtureConfigInput('minimal.json');

  test('equal to "externalId": refused, naming the field, what is wrong and how a rotation ends', () => {
    expect(problemsOf({ ...input, nextExternalId: input.externalId })).toEqual([
      'nextExternalId: must differ from "externalId": it is the External ID the rotation moves to. To finish a rotation (promote), keep the new value in "externalId" and remove "nextExternalId"',
    ]);
  });

  test.each([
    ['aspera-$(id)', 'nextExternalId: may contain only letters, digits and _ + = , . @ : / - (STS ExternalId rules)'],
    ['new id', 'nextExternalId: may contain only letters, digits and _ + = , . @ : / - (STS ExternalId rules)'],
    ['x', 'nextExternalId: must be at least 2 characters (STS ExternalId rules)'],
    ['y'.repeat(1225), 'nextExternalId: must be at most 1224 characters (STS ExternalId rules)'],
  ])('the rules of "externalId": %s', (value, problem) => {
    expect(problemsOf({ ...input, nextExternalId: value })).toEqual([problem]);
  });

  test('not a string: refused with the JSON path', () => {
    expect(problemsOf({ ...input, nextExternalId: 42 })).toEqual([expect.stringMatching(/^nextExternalId: must be an External ID/)]);
  });

  test('allowed beside "otherHalfState" (bucket owner) and in place of a generated External ID (operator)', () => {
    const { bucketOwner, transferHost } = halvesOf({ ...input, nextExternalId: NEW_ID }, { otherHalfState: true, generateExternalId: true });
    expect([bucketOwner.externalId, bucketOwner.otherHalfState !== undefined, transferHost.externalId]).toEqual([undefined, true, undefined]);
    expect(problemsOf(bucketOwner)).toEqual([]);
    expect(problemsOf(transferHost)).toEqual([]);
  });

  test('a bucket owner still needs the current External ID (or "otherHalfState") beside it', () => {
    const { bucketOwner } = halvesOf({ ...input, nextExternalId: NEW_ID });
    delete bucketOwner.externalId;
    expect(problemsOf(bucketOwner)).toEqual([expect.stringMatching(/^externalId: is required in mode "bucket-owner"/)]);
  });
});

describe('the trust policy with two External IDs goes through the size check', () => {
  const input = fixtureConfigInput('minimal.json');
  const OLD = 'a'.repeat(1224);
  // The trust policy written out by hand from the README (Other Account's root, sts:ExternalId,
  // aws:PrincipalArn), without whitespace as IAM counts it: everything but the new External ID.
  const around = (next: string) =>
    `{"Version":"2012-10-17","Statement":[{"Sid":"TransferHostRoleWithExternalId","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},` +
    `"Action":["sts:AssumeRole"],"Condition":{"StringEquals":{"sts:ExternalId":["${OLD}","${next}"],"aws:PrincipalArn":"arn:aws:iam::222222222222:role/aspera-transfer-host"}}}]}`;
  const longest = 2048 - around('').length;

  test('two of the longest External IDs are refused at "nextExternalId", with the size and the longest one that fits', () => {
    const next = 'b'.repeat(1224);
    expect(problemsOf({ ...input, externalId: OLD, nextExternalId: next })).toEqual([
      `nextExternalId: makes the grant roles' trust policy ${around(next).length.toLocaleString('en-US')} characters (without whitespace): during the rotation it accepts both ` +
        `the current External ID (1,224 characters) and this one (1,224); IAM allows 2,048 per trust policy (the default quota): choose a nextExternalId of at most ${longest} characters`,
    ]);
  });

  test('a "nextExternalId" of that length fits, one character more does not', () => {
    expect(problemsOf({ ...input, externalId: OLD, nextExternalId: 'b'.repeat(longest) })).toEqual([]);
    expect(problemsOf({ ...input, externalId: OLD, nextExternalId: 'b'.repeat(longest + 1) })).toEqual([expect.stringMatching(/^nextExternalId: makes the grant roles' trust policy 2,049 characters/)]);
  });

  test('the bucket owner reading the current one from the operator\'s state: measured with the longest one STS allows', () => {
    const { bucketOwner } = halvesOf({ ...input, nextExternalId: 'b'.repeat(longest + 1) }, { otherHalfState: true });
    expect(problemsOf(bucketOwner)).toEqual([
      expect.stringMatching(/^nextExternalId: makes the grant roles' trust policy 2,049 characters \(without whitespace\) \(measured with the longest External ID STS allows, 1,224 characters, as it comes from the other half's state\)/),
    ]);
    expect(problemsOf({ ...bucketOwner, nextExternalId: 'b'.repeat(longest) })).toEqual([]);
  });
});
