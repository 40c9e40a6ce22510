/**
 * Safety rules that hold for every policy in every synthesized stack, whatever the config:
 * no wildcard actions, no "*" resources, no Not* elements in allows, only guarded trust, key
 * policies that let only named roles use a key through S3, and only concrete JSON (no Terraform
 * expressions inside a policy, but for the ARN of a KMS key the same stack creates). Run over every valid fixture,
 * a generated 100-grant config, and 2,000 grants over 100 buckets with "hostPolicy": "role-path",
 * which must still fit IAM's size limits.
 */
import { validateConfig } from '../src/config-file';
import type { ConfigInput } from '../src/config/schema';
import { baseConfigInput, fixtureConfigInput, manyGrantsConfigInput, resolveReference, synthConfig, validFixtureNames, type TerraformJson } from './helpers/synth';

interface FoundPolicy {
  /** e.g. aws_iam_role.grant_xfer2.assume_role_policy */
  where: string;
  text: string;
  doc: { Version?: unknown; Statement?: unknown };
}

/** Every string attribute of every resource and data source that holds a policy document. */
function policiesIn(tf: TerraformJson): FoundPolicy[] {
  const found: FoundPolicy[] = [];
  const visit = (where: string, value: unknown): void => {
    if (typeof value === 'string') {
      if (!value.trimStart().startsWith('{')) return;
      let doc: unknown;
      try {
        doc = JSON.parse(value);
      } catch {
        return;
      }
      if (doc !== null && typeof doc === 'object' && 'Statement' in doc) found.push({ where, text: value, doc: doc as FoundPolicy['doc'] });
    } else if (Array.isArray(value)) value.forEach((v, i) => visit(`${where}[${i}]`, v));
    else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) if (k !== '//') visit(`${where}.${k}`, v);
  };
  for (const block of [tf.resource, tf.data]) {
    for (const [type, byName] of Object.entries(block ?? {})) for (const [name, body] of Object.entries(byName)) visit(`${type}.${name}`, body);
  }
  return found;
}

const asList = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/**
 * The one Terraform expression a policy may hold: the ARN of a KMS key the same stack creates, as
 * the Resource of a grant role's KMS statement (the key does not exist at synth time; the plan
 * shows the ARN). Anything else, anywhere else, is not concrete JSON.
 */
const CREATED_KEY_ARN = /^\$\{aws_kms_key\.[A-Za-z0-9_-]+\.arn\}$/;

/** The data actions a key policy may allow, and only to the grant roles, through S3, for one bucket. */
const KEY_DATA_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey'];

/** Problems with one KMS key policy (aws_kms_key.*.policy); [] when it is safe. */
function keyPolicyProblems(policy: FoundPolicy, say: (message: string) => void): void {
  (policy.doc.Statement as Array<Record<string, unknown>>).forEach((statement, i) => {
    const at = (message: string) => say(`Statement[${i}] ${message}`);
    if (statement.Effect !== 'Allow') return;
    for (const key of ['NotAction', 'NotResource', 'NotPrincipal']) if (key in statement) at(`allows with ${key}`);
    const aws = asList((statement.Principal as Record<string, unknown> | undefined)?.AWS);
    if (aws.length !== 1 || !/^arn:aws[a-z-]*:iam::\d{12}:root$/.test(String(aws[0]))) at(`trusts ${JSON.stringify(statement.Principal)}: a key policy names its own account's root only`);
    if (JSON.stringify(statement.Resource) !== '["*"]') at('a key policy statement must have Resource ["*"] (the key itself)');
    const actions = asList(statement.Action) as string[];
    for (const action of actions) if (!/^kms:[A-Za-z]+$/.test(action)) at(`allows the action ${JSON.stringify(action)}`);
    const data = actions.filter((a) => KEY_DATA_ACTIONS.includes(a) || /^kms:(Encrypt|ReEncrypt|GenerateDataKey|CreateGrant)/.test(a));
    if (data.length === 0) return;
    const condition = (statement.Condition ?? {}) as Record<string, Record<string, unknown>>;
    if (data.some((a) => !KEY_DATA_ACTIONS.includes(a))) at(`allows ${JSON.stringify(data)}: only kms:Decrypt and kms:GenerateDataKey are data actions a key policy may allow`);
    if (typeof condition.StringEquals?.['kms:ViaService'] !== 'string' || !String(condition.StringEquals['kms:ViaService']).startsWith('s3.')) at('allows data actions without kms:ViaService = S3');
    if (typeof condition.StringEquals?.['kms:EncryptionContext:aws:s3:arn'] !== 'string') at('allows data actions without one bucket as encryption context');
    if (condition.ArnEquals?.['aws:PrincipalArn'] === undefined && condition.ArnLike?.['aws:PrincipalArn'] === undefined) at('allows data actions to the whole account, not named roles');
  });
}

/** Problems with one policy; [] when it is safe. */
function policyProblems(policy: FoundPolicy): string[] {
  const problems: string[] = [];
  const say = (message: string) => problems.push(`${policy.where}: ${message}`);
  if (policy.where.startsWith('aws_kms_key.')) {
    if (policy.text.includes('${')) say('contains a Terraform expression; policies must be concrete JSON');
    if (policy.doc.Version !== '2012-10-17') say(`Version ${JSON.stringify(policy.doc.Version)}, want "2012-10-17"`);
    keyPolicyProblems(policy, say);
    return problems;
  }
  // Outside a created key's ARN as a KMS Resource (checked below), no Terraform expression.
  const createdKeyArns = (policy.doc.Statement as Array<Record<string, unknown>>).flatMap((st) => asList(st.Resource)).filter((r) => typeof r === 'string' && CREATED_KEY_ARN.test(r)) as string[];
  if (createdKeyArns.reduce((text, arn) => text.split(JSON.stringify(arn)).join('""'), policy.text).includes('${')) say('contains a Terraform expression; policies must be concrete JSON');
  if (policy.doc.Version !== '2012-10-17') say(`Version ${JSON.stringify(policy.doc.Version)}, want "2012-10-17"`);
  const statements = policy.doc.Statement;
  if (!Array.isArray(statements) || statements.length === 0) return [...problems, `${policy.where}: no statements`];
  statements.forEach((statement: Record<string, unknown>, i) => {
    const at = (message: string) => say(`Statement[${i}] ${message}`);
    if (statement.Effect !== 'Allow') return;
    for (const key of ['NotAction', 'NotResource', 'NotPrincipal']) if (key in statement) at(`allows with ${key}`);
    const actions = asList(statement.Action);
    if (actions.length === 0) at('allows no named action');
    for (const action of actions) {
      // service:Action, letters only: rejects "*", "s3:*", "s3:Get*" and "s3:?etObject" alike.
      if (typeof action !== 'string' || !/^[a-z0-9-]+:[A-Za-z]+$/.test(action)) at(`allows the action ${JSON.stringify(action)}`);
    }
    if ('Principal' in statement) {
      // A trust (resource) policy: either EC2 for the created host role, or Other Account's root
      // narrowed to the host role and the External ID.
      const principal = statement.Principal as Record<string, unknown> | string;
      if (typeof principal === 'string') {
        at(`trusts ${JSON.stringify(principal)}`);
        return;
      }
      const services = asList(principal.Service);
      const aws = asList(principal.AWS);
      if (Object.keys(principal).some((k) => k !== 'Service' && k !== 'AWS')) at(`trusts ${JSON.stringify(principal)}`);
      for (const service of services) if (service !== 'ec2.amazonaws.com') at(`trusts the service ${JSON.stringify(service)}`);
      for (const who of aws) if (typeof who !== 'string' || !/^arn:aws[a-z-]*:iam::\d{12}:root$/.test(who)) at(`trusts ${JSON.stringify(who)}`);
      if (aws.length > 0) {
        const equals = (statement.Condition as Record<string, Record<string, unknown>> | undefined)?.StringEquals ?? {};
        // One External ID, or two during a rotation ("nextExternalId").
        const externalIds = asList(equals['sts:ExternalId']);
        if (externalIds.length === 0 || externalIds.length > 2 || externalIds.some((id) => typeof id !== 'string' || id === '')) at('trusts an account without an sts:ExternalId StringEquals condition');
        if (typeof equals['aws:PrincipalArn'] !== 'string' || !/^arn:aws[a-z-]*:iam::\d{12}:role\/([\w+=,.@-]+\/)*[\w+=,.@-]+$/.test(equals['aws:PrincipalArn'] as string)) {
          at('trusts an account without an aws:PrincipalArn StringEquals condition naming one role');
        }
        const accountOf = (arn: string) => arn.split(':')[4];
        if (aws.some((who) => accountOf(who as string) !== accountOf(String(equals['aws:PrincipalArn'])))) at('trusts an account other than the host role\'s');
      }
      if ('Resource' in statement) at('has both Principal and Resource');
      return;
    }
    // An identity policy: every resource a concrete ARN; "*" only as the last "/*" of an S3 object
    // ARN, or of a stack's own grant-role path (/aspera/<stackName>/*) for sts:AssumeRole alone.
    const resources = asList(statement.Resource);
    const assumeOnly = actions.length === 1 && actions[0] === 'sts:AssumeRole';
    if (resources.length === 0) at('allows without a Resource');
    const kmsOnly = actions.length > 0 && actions.every((a) => typeof a === 'string' && KEY_DATA_ACTIONS.includes(a));
    for (const resource of resources) {
      if (kmsOnly && typeof resource === 'string' && CREATED_KEY_ARN.test(resource)) continue;
      if (typeof resource !== 'string' || !resource.startsWith('arn:')) {
        at(`allows on ${JSON.stringify(resource)}`);
        continue;
      }
      const [, , service, , , rest] = resource.split(':');
      const wildcardFree = resource
        .replace(/^(arn:aws[a-z-]*:s3:::[a-z0-9.-]+(?:\/[^*?]+)?)\/\*$/, '$1')
        .replace(assumeOnly ? /^(arn:aws[a-z-]*:iam::\d{12}:role\/aspera\/[A-Za-z][A-Za-z0-9-]*)\/\*$/ : /$^/, '$1');
      if (/[*?]/.test(wildcardFree)) at(`allows on ${resource}: a wildcard outside an object prefix`);
      if (!['s3', 'iam', ...(kmsOnly ? ['kms'] : [])].includes(service)) at(`allows on ${resource}: unexpected service`);
      if (service === 'kms' && !/^key\/([0-9a-f-]{36}|mrk-[0-9a-f]{32})$/.test(rest ?? '')) at(`allows on ${resource}: not one KMS key`);
      if (service === 's3' && /^[^/]*\*/.test(rest ?? '')) at(`allows on ${resource}: wildcard bucket name`);
    }
  });
  return problems;
}

/** IAM counts policy size without whitespace. */
const minifiedLength = (text: string) => JSON.stringify(JSON.parse(text)).length;

/** 2,000 grants over 100 buckets (every other one created), most with a prefix, in the path form. */
function twoThousandGrantsConfigInput(): ConfigInput {
  const buckets = Array.from({ length: 100 }, (_, i) => ({ name: `acme-scale-${String(i).padStart(3, '0')}`, create: i % 2 === 0 }));
  return baseConfigInput({
    stackName: 'scale',
    hostPolicy: 'role-path',
    buckets,
    grants: Array.from({ length: 2000 }, (_, i) => ({
      transferUser: `partner${String(i).padStart(4, '0')}`,
      bucket: buckets[i % buckets.length].name,
      prefix: i % 5 === 0 ? '' : `partners/partner${String(i).padStart(4, '0')}/incoming`,
      access: i % 2 === 0 ? ('read-write' as const) : ('read-only' as const),
    })),
  });
}

/** Synthesized once for this file (it is the slowest synth here): the safety checks and the 2,000-grant test share it. */
let twoThousandGrants: TerraformJson | undefined;
const twoThousandGrantsStack = (): TerraformJson => (twoThousandGrants ??= synthConfig(twoThousandGrantsConfigInput()));

const CONFIGS: Array<[string, () => unknown]> = [
  ...validFixtureNames().map((name): [string, () => unknown] => [name, () => fixtureConfigInput(name)]),
  ['100 generated grants', () => manyGrantsConfigInput(100)],
];
const TWO_THOUSAND = '2,000 grants over 100 buckets, "hostPolicy": "role-path"';

// IAM's limits, counted without whitespace (IAM and STS quotas): all inline policies of one role
// together, one managed policy, one trust policy; S3's limit for a bucket policy is 20 KB.
const INLINE_PER_ROLE = 10_240;
const MANAGED_POLICY = 6_144;
const TRUST_POLICY = 2_048;
const BUCKET_POLICY = 20_480;
// KMS's limit for a key policy (AWS KMS quotas): 32 KB.
const KEY_POLICY = 32_768;

describe.each([...CONFIGS, [TWO_THOUSAND, undefined] as const])('policy safety: %s', (_name, input) => {
  let tf: TerraformJson;
  let policies: FoundPolicy[];
  beforeAll(() => {
    tf = input === undefined ? twoThousandGrantsStack() : synthConfig(input());
    policies = policiesIn(tf);
  });

  test('finds every policy the stack applies', () => {
    const expected = [
      ...Object.keys(tf.resource?.aws_iam_role ?? {}).map((n) => `aws_iam_role.${n}.assume_role_policy`),
      ...Object.keys(tf.resource?.aws_iam_role_policy ?? {}).map((n) => `aws_iam_role_policy.${n}.policy`),
      ...Object.keys(tf.resource?.aws_s3_bucket_policy ?? {}).map((n) => `aws_s3_bucket_policy.${n}.policy`),
      ...Object.keys(tf.resource?.aws_kms_key ?? {}).map((n) => `aws_kms_key.${n}.policy`),
    ];
    expect(expected.length).toBeGreaterThanOrEqual(3);
    expect(policies.map((p) => p.where).sort()).toEqual(expected.sort());
  });

  test('no wildcard actions or resources, no Not* in allows, only guarded trust, concrete JSON', () => {
    expect(policies.flatMap(policyProblems)).toEqual([]);
  });

  test('policies fit IAM size limits (managed policy 6,144; trust policy 2,048; bucket policy 20,480)', () => {
    for (const policy of policies) {
      const limit = policy.where.endsWith('.assume_role_policy')
        ? TRUST_POLICY
        : policy.where.startsWith('aws_kms_key.')
          ? KEY_POLICY
          : policy.where.startsWith('aws_s3_bucket_policy')
          ? BUCKET_POLICY
          : policy.where.startsWith('aws_iam_policy.')
            ? MANAGED_POLICY
            : INLINE_PER_ROLE;
      expect([policy.where, minifiedLength(policy.text) <= limit]).toEqual([policy.where, true]);
    }
  });

  test('the inline policies of each role fit IAM\'s 10,240 characters together', () => {
    const perRole = new Map<string, number>();
    for (const body of Object.values(tf.resource?.aws_iam_role_policy ?? {})) {
      const role = String(resolveReference(tf, body.role));
      perRole.set(role, (perRole.get(role) ?? 0) + minifiedLength(body.policy));
    }
    expect(perRole.size).toBeGreaterThan(0);
    for (const [role, size] of perRole) expect([role, size <= INLINE_PER_ROLE]).toEqual([role, true]);
  });
});

test('the 100-grant stack: 100 roles, each with its own policy, all assumable by the host and nothing else', () => {
  const tf = synthConfig(manyGrantsConfigInput(100));
  const grantRoles = Object.entries(tf.resource?.aws_iam_role ?? {}).filter(([name]) => name.startsWith('grant_'));
  expect(grantRoles).toHaveLength(100);
  expect(Object.keys(tf.resource?.aws_iam_role_policy ?? {}).filter((n) => n.startsWith('grant_'))).toHaveLength(100);
  const host = JSON.parse(tf.resource!.aws_iam_role_policy.transfer_host.policy);
  const arns = grantRoles.map(([, role]) => `arn:aws:iam::111111111111:role/${role.name}`);
  expect([...host.Statement[0].Resource].sort()).toEqual(arns.sort());
  expect(new Set(arns).size).toBe(100);
});

test('2,000 grants: exact list refused with the hint to use the path; path form: 2,000 roles and one host policy of constant size', () => {
  const exact = validateConfig({ ...twoThousandGrantsConfigInput(), hostPolicy: 'exact-roles' });
  expect(exact.ok).toBe(false);
  expect(exact.ok ? [] : exact.problems).toEqual([expect.stringMatching(/^grants: 2,000 grants make the transfer host role .*IAM allows 10,240 for all inline policies of one role together: \d+ of these grants fit; .*or set "hostPolicy": "role-path" \(grant roles under the IAM path \/aspera\/scale\/, a host policy of constant size/)]);

  const tf = twoThousandGrantsStack();
  const grantRoles = Object.values(tf.resource?.aws_iam_role ?? {}).filter((role) => role.name.startsWith('scale-partner'));
  expect(grantRoles).toHaveLength(2000);
  expect(new Set(grantRoles.map((role) => role.path))).toEqual(new Set(['/aspera/scale/']));
  expect(JSON.parse(tf.resource!.aws_iam_role_policy.transfer_host.policy).Statement).toEqual([
    { Sid: 'AssumeAsperaGrantRoles', Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: ['arn:aws:iam::111111111111:role/aspera/scale/*'] },
  ]);
  expect(Object.keys(tf.resource?.aws_s3_bucket ?? {})).toHaveLength(50);
});

describe('the safety check itself', () => {
  // The rules above must reject what they claim to; otherwise a green run proves nothing.
  const statement = (extra: Record<string, unknown>) => ({ Sid: 'X', Effect: 'Allow', ...extra });
  const check = (stmt: Record<string, unknown>) =>
    policyProblems({ where: 'p', text: JSON.stringify({ Version: '2012-10-17', Statement: [stmt] }), doc: { Version: '2012-10-17', Statement: [stmt] } });
  const object = 'arn:aws:s3:::b/p/*';
  const wholeBucket = 'arn:aws:s3:::b/*';
  test.each([
    ['s3:*', statement({ Action: ['s3:*'], Resource: [object] })],
    ['"*" action', statement({ Action: '*', Resource: [object] })],
    ['s3:Get*', statement({ Action: ['s3:Get*'], Resource: [object] })],
    ['"*" resource', statement({ Action: ['s3:GetObject'], Resource: '*' })],
    ['any bucket', statement({ Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::*/p/*'] })],
    ['a wildcard inside the key', statement({ Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::b/*/p/*'] })],
    ['any role', statement({ Action: ['sts:AssumeRole'], Resource: ['arn:aws:iam::111111111111:role/*'] })],
    ['every role under /aspera/', statement({ Action: ['sts:AssumeRole'], Resource: ['arn:aws:iam::111111111111:role/aspera/*'] })],
    ['a path wildcard for another action', statement({ Action: ['iam:PassRole'], Resource: ['arn:aws:iam::111111111111:role/aspera/media/*'] })],
    ['a wildcard inside a role path', statement({ Action: ['sts:AssumeRole'], Resource: ['arn:aws:iam::111111111111:role/aspera/*/x'] })],
    ['NotAction', statement({ NotAction: ['s3:DeleteBucket'], Resource: [object] })],
    ['NotResource', statement({ Action: ['s3:GetObject'], NotResource: [object] })],
    ['trust without External ID', statement({ Principal: { AWS: 'arn:aws:iam::222222222222:root' }, Action: ['sts:AssumeRole'] })],
    ['trust of everyone', statement({ Principal: { AWS: '*' }, Action: ['sts:AssumeRole'], Condition: { StringEquals: { 'sts:ExternalId': 'e', 'aws:PrincipalArn': 'arn:aws:iam::222222222222:role/h' } } })],
    ['trust of "*"', statement({ Principal: '*', Action: ['sts:AssumeRole'] })],
    ['trust of another service', statement({ Principal: { Service: 'lambda.amazonaws.com' }, Action: ['sts:AssumeRole'] })],
    ['any KMS key', statement({ Action: ['kms:Decrypt'], Resource: ['arn:aws:kms:us-east-1:111111111111:key/*'] })],
    ['a reference outside a KMS statement', statement({ Action: ['s3:GetObject'], Resource: ['${aws_kms_key.bucket_b.arn}'] })],
    ['another expression as a KMS resource', statement({ Action: ['kms:Decrypt'], Resource: ['${data.aws_kms_key.any.arn}'] })],
    ['a KMS action beyond S3\'s needs', statement({ Action: ['kms:CreateGrant'], Resource: ['arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab'] })],
  ])('rejects %s', (_what, stmt) => {
    expect(check(stmt)).not.toEqual([]);
  });
  const keyPolicy = (stmt: Record<string, unknown>) =>
    policyProblems({ where: 'aws_kms_key.k.policy', text: JSON.stringify({ Version: '2012-10-17', Statement: [stmt] }), doc: { Version: '2012-10-17', Statement: [stmt] } });
  const root = { AWS: 'arn:aws:iam::111111111111:root' };
  const viaS3 = { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com', 'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::b' }, ArnEquals: { 'aws:PrincipalArn': ['arn:aws:iam::111111111111:role/r'] } };
  test.each([
    ['data actions for the whole account', statement({ Principal: root, Action: ['kms:Decrypt'], Resource: ['*'], Condition: { StringEquals: viaS3.StringEquals } })],
    ['data actions without ViaService', statement({ Principal: root, Action: ['kms:Decrypt'], Resource: ['*'], Condition: { ArnEquals: viaS3.ArnEquals } })],
    ['kms:Encrypt', statement({ Principal: root, Action: ['kms:Encrypt'], Resource: ['*'], Condition: viaS3 })],
    ['another account', statement({ Principal: { AWS: 'arn:aws:iam::222222222222:role/x' }, Action: ['kms:DescribeKey'], Resource: ['*'] })],
    ['"*" principal', statement({ Principal: '*', Action: ['kms:DescribeKey'], Resource: ['*'] })],
    ['kms:*', statement({ Principal: root, Action: ['kms:*'], Resource: ['*'] })],
  ])('rejects a key policy with %s', (_what, stmt) => {
    expect(keyPolicy(stmt)).not.toEqual([]);
  });
  test('accepts the key policy shapes the stack uses', () => {
    expect(keyPolicy(statement({ Principal: root, Action: ['kms:DescribeKey', 'kms:PutKeyPolicy'], Resource: ['*'] }))).toEqual([]);
    expect(keyPolicy(statement({ Principal: root, Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: ['*'], Condition: viaS3 }))).toEqual([]);
  });
  test('accepts the shapes the stack uses', () => {
    expect(check(statement({ Action: ['s3:GetObject'], Resource: [object, wholeBucket, 'arn:aws:s3:::b'] }))).toEqual([]);
    expect(check(statement({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: ['${aws_kms_key.bucket_b.arn}'] }))).toEqual([]);
    expect(check(statement({ Action: ['kms:Decrypt'], Resource: ['arn:aws:kms:us-east-1:111111111111:key/mrk-1a2b3c4d5e6f70819a2b3c4d5e6f7081'] }))).toEqual([]);
    expect(check(statement({ Principal: { Service: 'ec2.amazonaws.com' }, Action: ['sts:AssumeRole'] }))).toEqual([]);
    expect(check(statement({ Action: ['sts:AssumeRole'], Resource: ['arn:aws:iam::111111111111:role/aspera/media/*'] }))).toEqual([]);
    expect(
      check(statement({ Principal: { AWS: 'arn:aws:iam::222222222222:root' }, Action: ['sts:AssumeRole'], Condition: { StringEquals: { 'sts:ExternalId': 'e', 'aws:PrincipalArn': 'arn:aws:iam::222222222222:role/h' } } })),
    ).toEqual([]);
  });
});
