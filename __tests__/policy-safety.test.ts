/**
 * Safety rules that hold for every policy in every synthesized stack, whatever the config:
 * no wildcard actions, no "*" resources, no Not* elements in allows, only guarded trust, and
 * only concrete JSON (no Terraform expressions inside a policy). Run over every valid fixture
 * and a generated 100-grant config.
 */
import { fixtureConfigInput, manyGrantsConfigInput, synthConfig, validFixtureNames, type TerraformJson } from './helpers/synth';

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

/** Problems with one policy; [] when it is safe. */
function policyProblems(policy: FoundPolicy): string[] {
  const problems: string[] = [];
  const say = (message: string) => problems.push(`${policy.where}: ${message}`);
  if (policy.text.includes('${')) say('contains a Terraform expression; policies must be concrete JSON');
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
        if (typeof equals['sts:ExternalId'] !== 'string') at('trusts an account without an sts:ExternalId StringEquals condition');
        if (typeof equals['aws:PrincipalArn'] !== 'string' || !/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@-]+$/.test(equals['aws:PrincipalArn'] as string)) {
          at('trusts an account without an aws:PrincipalArn StringEquals condition naming one role');
        }
        const accountOf = (arn: string) => arn.split(':')[4];
        if (aws.some((who) => accountOf(who as string) !== accountOf(String(equals['aws:PrincipalArn'])))) at('trusts an account other than the host role\'s');
      }
      if ('Resource' in statement) at('has both Principal and Resource');
      return;
    }
    // An identity policy: every resource a concrete ARN; "*" only as the last "/*" of an S3 object ARN.
    const resources = asList(statement.Resource);
    if (resources.length === 0) at('allows without a Resource');
    for (const resource of resources) {
      if (typeof resource !== 'string' || !resource.startsWith('arn:')) {
        at(`allows on ${JSON.stringify(resource)}`);
        continue;
      }
      const [, , service, , , rest] = resource.split(':');
      const wildcardFree = resource.replace(/^(arn:aws[a-z-]*:s3:::[a-z0-9.-]+(?:\/[^*?]+)?)\/\*$/, '$1');
      if (/[*?]/.test(wildcardFree)) at(`allows on ${resource}: a wildcard outside an object prefix`);
      if (!['s3', 'iam'].includes(service)) at(`allows on ${resource}: unexpected service`);
      if (service === 's3' && /^[^/]*\*/.test(rest ?? '')) at(`allows on ${resource}: wildcard bucket name`);
    }
  });
  return problems;
}

/** IAM counts policy size without whitespace. */
const minifiedLength = (text: string) => JSON.stringify(JSON.parse(text)).length;

const CONFIGS: Array<[string, () => unknown]> = [
  ...validFixtureNames().map((name): [string, () => unknown] => [name, () => fixtureConfigInput(name)]),
  ['100 generated grants', () => manyGrantsConfigInput(100)],
];

describe.each(CONFIGS)('policy safety: %s', (_name, input) => {
  let tf: TerraformJson;
  let policies: FoundPolicy[];
  beforeAll(() => {
    tf = synthConfig(input());
    policies = policiesIn(tf);
  });

  test('finds every policy the stack applies', () => {
    const expected = [
      ...Object.keys(tf.resource?.aws_iam_role ?? {}).map((n) => `aws_iam_role.${n}.assume_role_policy`),
      ...Object.keys(tf.resource?.aws_iam_role_policy ?? {}).map((n) => `aws_iam_role_policy.${n}.policy`),
      ...Object.keys(tf.resource?.aws_s3_bucket_policy ?? {}).map((n) => `aws_s3_bucket_policy.${n}.policy`),
    ];
    expect(expected.length).toBeGreaterThanOrEqual(3);
    expect(policies.map((p) => p.where).sort()).toEqual(expected.sort());
  });

  test('no wildcard actions or resources, no Not* in allows, only guarded trust, concrete JSON', () => {
    expect(policies.flatMap(policyProblems)).toEqual([]);
  });

  test('policies fit IAM size limits (inline policies per role 10,240; trust policy 2,048)', () => {
    for (const policy of policies) {
      const limit = policy.where.endsWith('.assume_role_policy') ? 2048 : policy.where.startsWith('aws_s3_bucket_policy') ? 20480 : 10240;
      expect([policy.where, minifiedLength(policy.text) <= limit]).toEqual([policy.where, true]);
    }
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
    ['NotAction', statement({ NotAction: ['s3:DeleteBucket'], Resource: [object] })],
    ['NotResource', statement({ Action: ['s3:GetObject'], NotResource: [object] })],
    ['trust without External ID', statement({ Principal: { AWS: 'arn:aws:iam::222222222222:root' }, Action: ['sts:AssumeRole'] })],
    ['trust of everyone', statement({ Principal: { AWS: '*' }, Action: ['sts:AssumeRole'], Condition: { StringEquals: { 'sts:ExternalId': 'e', 'aws:PrincipalArn': 'arn:aws:iam::222222222222:role/h' } } })],
    ['trust of "*"', statement({ Principal: '*', Action: ['sts:AssumeRole'] })],
    ['trust of another service', statement({ Principal: { Service: 'lambda.amazonaws.com' }, Action: ['sts:AssumeRole'] })],
  ])('rejects %s', (_what, stmt) => {
    expect(check(stmt)).not.toEqual([]);
  });
  test('accepts the shapes the stack uses', () => {
    expect(check(statement({ Action: ['s3:GetObject'], Resource: [object, wholeBucket, 'arn:aws:s3:::b'] }))).toEqual([]);
    expect(check(statement({ Principal: { Service: 'ec2.amazonaws.com' }, Action: ['sts:AssumeRole'] }))).toEqual([]);
    expect(
      check(statement({ Principal: { AWS: 'arn:aws:iam::222222222222:root' }, Action: ['sts:AssumeRole'], Condition: { StringEquals: { 'sts:ExternalId': 'e', 'aws:PrincipalArn': 'arn:aws:iam::222222222222:role/h' } } })),
    ).toEqual([]);
  });
});
