/**
 * IAM size limits (src/iam/limits.ts), proven on the synthesized stack: configs just under and
 * just over each limit, measured independently on the policy text in cdk.tf.json (characters
 * that are not whitespace, as IAM counts them); the documents the check renders are exactly the
 * stack's; and the state-bucket refusals cannot be slipped past by spelling.
 */
import { validateConfig } from '../src/config-file';
import type { ConfigInput } from '../src/config/schema';
import { renderedIamPolicies } from '../src/iam/limits';
import { reviewReport } from '../src/report/markdown';
import { baseConfigInput, fixtureConfigInput, halvesOf, resolveReference, resourcesOfType, synthConfig, type TerraformJson, validConfig } from './helpers/synth';

/** IAM's count, written here on its own: every character except whitespace. */
const iamCount = (json: string): number => [...json].filter((c) => !/\s/.test(c)).length;

const problemsOf = (input: unknown): string[] => {
  const result = validateConfig(input);
  return result.ok ? [] : result.problems;
};

/**
 * A created KMS key's ARN is known only after apply: the synthesized policies hold a reference.
 * Its length is fixed (a UUID key ID), so the check measures with an ARN of that length; here the
 * reference is replaced by one, written out for the key's region and account.
 */
const createdKeyArn = (tf: TerraformJson, json: string): string =>
  json.replace(/\$\{aws_kms_key\.([\w.-]+)\.arn\}/g, (_, name: string) => {
    const provider = (tf.provider?.aws ?? []).find((p) => `aws.${p.alias}` === resourcesOfType(tf, 'aws_kms_key')[name].provider);
    if (provider === undefined) throw new Error(`no provider for aws_kms_key.${name}`);
    return `arn:aws:kms:${provider.region}:${provider.allowed_account_ids[0]}:key/00000000-0000-0000-0000-000000000000`;
  });

/** Every IAM document in a synthesized stack: [kind, role (or policy) name, JSON], and each created KMS key's policy: ['key', bucket, JSON]. */
function iamDocuments(tf: TerraformJson): [string, string, string][] {
  const out: [string, string, string][] = [];
  for (const role of Object.values(resourcesOfType(tf, 'aws_iam_role'))) out.push(['trust', role.name, role.assume_role_policy]);
  for (const policy of Object.values(resourcesOfType(tf, 'aws_iam_role_policy'))) out.push(['inline', String(resolveReference(tf, policy.role)), createdKeyArn(tf, policy.policy)]);
  for (const key of Object.values(resourcesOfType(tf, 'aws_kms_key'))) out.push(['key', key.tags.Bucket, key.policy]);
  for (const policy of Object.values(resourcesOfType(tf, 'aws_iam_policy'))) out.push(['managed', policy.name, policy.policy]);
  return out.sort();
}

const grantsOf = (count: number): ConfigInput['grants'] =>
  Array.from({ length: count }, (_, i) => ({ transferUser: `xfer${i}`, bucket: 'acme-aspera-inbox', prefix: '', access: 'read-write' as const }));

const hostPolicyText = (tf: TerraformJson): string => resourcesOfType(tf, 'aws_iam_role_policy').transfer_host.policy;

describe('the documents the check measures are the ones the stack renders', () => {
  const { bucketOwner, transferHost } = halvesOf(baseConfigInput({ grants: grantsOf(3) }));
  test.each([
    ['mode "both", created host role', baseConfigInput({ grants: grantsOf(3) })],
    ['mode "both", existing host role', baseConfigInput({ hostRole: { existingRoleName: 'aspera-ec2' } })],
    ['mode "bucket-owner"', bucketOwner],
    ['mode "transfer-host"', transferHost],
    ['GovCloud, existing buckets', fixtureConfigInput('govcloud-existing-buckets.json')],
    ['SSE-KMS buckets (a created key, given keys)', fixtureConfigInput('sse-kms-buckets.json')],
  ])('%s', (_, input) => {
    const config = validConfig(input);
    const rendered = renderedIamPolicies(config).map((p): [string, string, string] => [p.kind, p.owner, p.json]);
    expect(rendered.sort()).toEqual(iamDocuments(synthConfig(input)));
  });
});

describe('the transfer host role\'s inline policy: 10,240 characters', () => {
  // Measured in the transfer-host half, which renders the same host policy as mode "both" (see
  // above) without a role per grant: a synth of 164 grants there is cheap. The example's 164
  // grants leave some room; longer role names for the first grants fill it.
  const hostHalf = (grants: ConfigInput['grants']): ConfigInput => halvesOf(baseConfigInput({ grants })).transferHost;
  let baseSize: number;
  beforeAll(() => {
    baseSize = iamCount(hostPolicyText(synthConfig(hostHalf(grantsOf(164)))));
  });
  const filled = (extra: number): ConfigInput => {
    const grants = grantsOf(164);
    let room = 10_240 - baseSize + extra;
    expect(room).toBeGreaterThan(0);
    for (let i = 0; room > 0; i++) {
      const name = `aspera-cross-account-xfer${i}`;
      const longer = Math.min(room, 64 - name.length);
      grants[i] = { ...grants[i], roleName: `${name}${'r'.repeat(longer)}` };
      room -= longer;
    }
    return hostHalf(grants);
  };

  test('exactly at the limit: accepted, and the synthesized policy is 10,240 characters', () => {
    const input = filled(0);
    expect(problemsOf(input)).toEqual([]);
    expect(iamCount(hostPolicyText(synthConfig(input)))).toBe(10_240);
  });

  test('one character over: refused at "grants", with the count, the size and how many fit', () => {
    const input = filled(1);
    expect(problemsOf(input)).toEqual([
      'grants: 164 grants make the transfer host role "aspera-transfer-host"\'s inline policy 10,241 characters (without whitespace); IAM allows 10,240 for all inline policies of one role together: 163 of these grants fit; use fewer grants or shorter role names ("roleName", "stackName"), or set "hostPolicy": "role-path" (grant roles under the IAM path /aspera/aspera-cross-account/, a host policy of constant size; on an applied stack this replaces every grant role)',
    ]);
    // The same grants in mode "both": the same host policy, the same refusal.
    expect(problemsOf(baseConfigInput({ grants: input.grants }))).toEqual(problemsOf(input));
  });

  test('the grant count of the example config: 164 fit, 165 do not', () => {
    expect(problemsOf(baseConfigInput({ grants: grantsOf(164) }))).toEqual([]);
    expect(problemsOf(baseConfigInput({ grants: grantsOf(165) }))).toEqual([expect.stringMatching(/^grants: 165 grants make .* 10,249 characters/)]);
  });

  test('mode "bucket-owner" renders no host policy: 1,200 grants are accepted there', () => {
    expect(problemsOf(halvesOf(baseConfigInput({ grants: grantsOf(1200) })).bucketOwner)).toEqual([]);
  });
});

describe('a grant role\'s trust policy: 2,048 characters', () => {
  // The trust policy grows with the External ID and the host role's ARN (a path of up to 512).
  const path = Array.from({ length: 10 }, () => 'p'.repeat(50)).join('/');
  const trusting = (externalIdLength: number): ConfigInput =>
    halvesOf(baseConfigInput({ externalId: 'e'.repeat(externalIdLength), hostRole: { arn: `arn:aws:iam::222222222222:role/${path}/${'h'.repeat(64)}` } as never })).bucketOwner;
  const trustText = (input: ConfigInput): string => resourcesOfType(synthConfig(input), 'aws_iam_role').grant_xfer2.assume_role_policy;
  // Each character of the External ID is one character of the policy.
  const atLimit = 100 + (2048 - iamCount(trustText(trusting(100))));

  test('exactly at the limit: accepted, and the synthesized trust policy is 2,048 characters', () => {
    expect(problemsOf(trusting(atLimit))).toEqual([]);
    expect(iamCount(trustText(trusting(atLimit)))).toBe(2_048);
  });

  test('one character over: refused at "externalId"', () => {
    expect(problemsOf(trusting(atLimit + 1))).toEqual([
      `externalId: makes the grant roles' trust policy 2,049 characters (without whitespace); IAM allows 2,048 per trust policy (the default quota): shorten the External ID (${(atLimit + 1).toLocaleString('en-US')} characters) or the host role's path`,
    ]);
  });
});

describe('the policy of a KMS key the stack creates: 32,768 bytes', () => {
  // Every grant on one created SSE-KMS bucket; the key policy names each grant role's ARN.
  const onKmsBucket = (count: number, form?: 'role-path'): ConfigInput =>
    baseConfigInput({ buckets: [{ name: 'acme-aspera-inbox', create: true, encryption: 'sse-kms' }], grants: grantsOf(count), ...(form ? { hostPolicy: form } : {}) });
  const keyPolicyBytes = (input: ConfigInput): number => Buffer.byteLength(JSON.stringify(JSON.parse(resourcesOfType(synthConfig(halvesOf(input).bucketOwner), 'aws_kms_key')['bucket_acme-aspera-inbox'].policy)));
  // Each grant adds one ARN of the same length ("...xfer100" to "...xfer999"); measured on two syntheses.
  const perGrant = (keyPolicyBytes(onKmsBucket(200)) - keyPolicyBytes(onKmsBucket(100))) / 100;
  const fits = 100 + Math.floor((32_768 - keyPolicyBytes(onKmsBucket(100))) / perGrant);

  test('the most grants that fit: accepted (in mode "bucket-owner", which has no host policy limit), and the synthesized key policy is within 32,768 bytes', () => {
    const input = halvesOf(onKmsBucket(fits)).bucketOwner;
    expect(problemsOf(input)).toEqual([]);
    // The figures docs/what-the-stack-creates.md gives for the example's names.
    expect([fits, perGrant]).toEqual([515, 62]);
    const bytes = keyPolicyBytes(onKmsBucket(fits));
    expect(bytes).toBeLessThanOrEqual(32_768);
    expect(bytes + perGrant).toBeGreaterThan(32_768);
  });

  test('one grant more: refused at the bucket\'s "encryption", with the size, the bound and the ways out', () => {
    expect(problemsOf(halvesOf(onKmsBucket(fits + 1)).bucketOwner)).toEqual([
      expect.stringMatching(
        new RegExp(`^buckets\\[0\\]\\.encryption: makes the policy of the KMS key this stack creates for "acme-aspera-inbox" [\\d,]+ bytes: it names each of the ${(fits + 1).toLocaleString('en-US')} grant roles on the bucket, and KMS allows 32,768 bytes per key policy\\. Set "hostPolicy": "role-path"`),
      ),
    ]);
  });

  test('with "hostPolicy": "role-path" the key policy names the path: 5,000 grants on one SSE-KMS bucket are accepted, every grant policy carrying its KMS statement within 10,240 characters', () => {
    const config = validConfig(onKmsBucket(5000, 'role-path'));
    const grantPolicies = renderedIamPolicies(config).filter((p) => p.kind === 'inline' && p.owner !== 'aspera-transfer-host');
    expect(grantPolicies).toHaveLength(5000);
    for (const p of grantPolicies) {
      expect(p.json).toContain('"AsperaKmsViaS3"');
      expect(iamCount(p.json)).toBeLessThanOrEqual(10_240);
    }
    const [key] = renderedIamPolicies(config).filter((p) => p.kind === 'key');
    expect(JSON.parse(key.json).Statement[1].Condition.ArnLike).toEqual({ 'aws:PrincipalArn': ['arn:aws:iam::111111111111:role/aspera/aspera-cross-account/*'] });
    expect(JSON.parse(key.json).Statement[1].Condition.ArnEquals).toBeUndefined();
    expect(reviewReport({ config, source: 'test' })).toContain("the roles under this stack's IAM path `/aspera/aspera-cross-account/` use it");
  });

  test('with "hostPolicy": "role-path", a list of roles that fits is still named role by role (the path would admit the stack\'s other grant roles)', () => {
    const config = validConfig(onKmsBucket(100, 'role-path'));
    const [key] = renderedIamPolicies(config).filter((p) => p.kind === 'key');
    const roles = JSON.parse(key.json).Statement[1].Condition.ArnEquals['aws:PrincipalArn'];
    expect(roles).toHaveLength(100);
    expect(roles[0]).toBe('arn:aws:iam::111111111111:role/aspera/aspera-cross-account/aspera-cross-account-xfer0');
    expect(JSON.parse(key.json).Statement[1].Condition.ArnLike).toBeUndefined();
  });
});

test('managed policies (6,144 characters each): the stack creates none, so none can be too large', () => {
  for (const input of [baseConfigInput({ grants: grantsOf(3), hostRole: { existingRoleName: 'aspera-ec2' } }), ...Object.values(halvesOf(baseConfigInput()))]) {
    expect(Object.keys(resourcesOfType(synthConfig(input), 'aws_iam_policy'))).toEqual([]);
    expect(renderedIamPolicies(validConfig(input)).filter((p) => p.kind === 'managed')).toEqual([]);
  }
});

describe('the state-bucket and own-state refusals cannot be bypassed by spelling', () => {
  const withState = (bucket: string): unknown => ({ ...baseConfigInput(), state: { backend: 's3', bucket, key: 'aspera.tfstate', region: 'us-east-1' } });

  test.each(['acme-aspera-inbox', 'ACME-ASPERA-INBOX', 'Acme-Aspera-Inbox', 'arn:aws:s3:::acme-aspera-inbox', 's3://acme-aspera-inbox', 'acme-aspera-inbox.', ' acme-aspera-inbox'])(
    'state.bucket %j, the bucket the stack creates and a grant names, is refused',
    (bucket) => {
      const problems = problemsOf(withState(bucket));
      expect(problems.length).toBeGreaterThan(0);
      expect(problems.every((line) => line.startsWith('state.bucket: '))).toBe(true);
    },
  );

  test('another bucket is accepted (the refusal is about the bucket, not any S3 state)', () => {
    expect(problemsOf(withState('acme-terraform-state'))).toEqual([]);
  });

  const ownState = { backend: 's3', bucket: 'acme-tf-state', key: 'aspera/bucket-owner.tfstate', region: 'us-east-1' } as const;
  const readingOther = (other: Record<string, string>): unknown => {
    const { bucketOwner } = halvesOf(baseConfigInput());
    delete bucketOwner.externalId;
    return { ...bucketOwner, state: ownState, otherHalfState: other };
  };

  test.each([
    ['the same bucket and key', { bucket: 'acme-tf-state', key: 'aspera/bucket-owner.tfstate', region: 'us-east-1' }],
    ['another region (bucket names are global)', { bucket: 'acme-tf-state', key: 'aspera/bucket-owner.tfstate', region: 'eu-west-1' }],
    ['another profile', { bucket: 'acme-tf-state', key: 'aspera/bucket-owner.tfstate', region: 'us-east-1', profile: 'other' }],
    ['the bucket in capitals', { bucket: 'ACME-TF-STATE', key: 'aspera/bucket-owner.tfstate', region: 'us-east-1' }],
    ['the bucket as an ARN', { bucket: 'arn:aws:s3:::acme-tf-state', key: 'aspera/bucket-owner.tfstate', region: 'us-east-1' }],
  ])('otherHalfState naming this stack\'s own state, %s, is refused', (_, other) => {
    const problems = problemsOf(readingOther(other));
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((line) => line.startsWith('otherHalfState.'))).toBe(true);
  });

  test('another key in the same bucket is accepted: S3 keys are exact, so it is another object', () => {
    expect(problemsOf(readingOther({ bucket: 'acme-tf-state', key: 'aspera/transfer-host.tfstate', region: 'us-east-1' }))).toEqual([]);
  });
});

describe('more grant roles than the default quota of roles per account (1,000)', () => {
  const configs = new Map<number, ReturnType<typeof validConfig>>();
  const bucketOwnerWith = (count: number) => {
    if (!configs.has(count)) configs.set(count, validConfig(halvesOf(baseConfigInput({ grants: grantsOf(count) })).bucketOwner));
    return configs.get(count) as ReturnType<typeof validConfig>;
  };
  const heading = '## Account quota needed before apply';

  test('accepted, and the review says the account needs a raised quota, with the count', () => {
    const report = reviewReport({ config: bucketOwnerWith(1001), source: 'aspera.config.json' });
    const section = report.slice(report.indexOf(heading));
    expect(report).toContain(heading);
    expect(section).toContain('This stack creates 1,001 IAM roles in My Account (111111111111), one per grant; the default quota is 1,000 roles per account.');
    expect(section).toContain('raised "Roles per account" quota');
    // Near the top, where the reviewer reads first: before the grants.
    expect(report.indexOf(heading)).toBeLessThan(report.indexOf('## Grants'));
  });

  test('at 1,000 grant roles, and in the transfer-host half (which creates none), nothing is said', () => {
    expect(reviewReport({ config: bucketOwnerWith(1000), source: 'aspera.config.json' })).not.toContain(heading);
    const transferHost = validConfig({ ...halvesOf(baseConfigInput({ grants: grantsOf(3) })).transferHost });
    expect(reviewReport({ config: { ...transferHost, grants: bucketOwnerWith(1001).grants }, source: 'x' })).not.toContain(heading);
  });

  test('above 5,000 grants the config is refused, naming "grants"', () => {
    expect(problemsOf(halvesOf(baseConfigInput({ grants: grantsOf(5001) })).bucketOwner)).toEqual([expect.stringMatching(/^grants: has 5,001 grants; must contain at most 5,000 grants/)]);
    expect(problemsOf(halvesOf(baseConfigInput({ grants: grantsOf(5000) })).bucketOwner)).toEqual([]);
  });
});
