/**
 * The other side of the new refusals: what must still be accepted, and what the defaults become.
 * Regions of every partition, multi-Region KMS keys, distinct hosts that only look alike, and the
 * S3 endpoint per partition as the synthesized docroots carry it. (Real host keys made by
 * ssh-keygen are in the host suite, __tests__/host/host-keys-ssh-keygen.test.ts.)
 */
import { MAX_NESTING, tooDeepOffset } from '../src/config/input-limits';
import { validateConfig } from '../src/config-file';
import { baseConfigInput, synthConfig } from './helpers/synth';

const problemsOf = (input: unknown): string[] => {
  const result = validateConfig(input);
  return result.ok ? [] : result.problems;
};

describe('regions of every current partition', () => {
  test.each([
    ['us-east-1', 'aws', 's3.amazonaws.com'],
    ['mx-central-1', 'aws', 's3.amazonaws.com'],
    ['cn-northwest-1', 'aws-cn', 's3.cn-northwest-1.amazonaws.com.cn'],
    ['us-gov-east-1', 'aws-us-gov', 's3.us-gov-east-1.amazonaws.com'],
    ['us-iso-east-1', 'aws-iso', 's3.us-iso-east-1.c2s.ic.gov'],
    ['us-isob-east-1', 'aws-iso-b', 's3.us-isob-east-1.sc2s.sgov.gov'],
    ['eu-isoe-west-1', 'aws-iso-e', 's3.eu-isoe-west-1.cloud.adc-e.uk'],
    ['us-isof-south-1', 'aws-iso-f', 's3.us-isof-south-1.csp.hci.ic.gov'],
    ['eusc-de-east-1', 'aws-eusc', 's3.eusc-de-east-1.amazonaws.eu'],
  ])('%s (%s): accepted; the roles and docroots use its partition and S3 endpoint %s', (region, partition, endpoint) => {
    const input = baseConfigInput({ myAccount: { accountId: '111111111111', region }, otherAccount: { accountId: '222222222222', region } });
    expect(problemsOf(input)).toEqual([]);
    const tf = synthConfig(input);
    const docroots = tf.output?.docroots?.value as Record<string, string>;
    expect(docroots.xfer2).toBe(`s3://${encodeURIComponent(`arn:${partition}:iam::111111111111:role/aspera-cross-account-xfer2`)}@${endpoint}/acme-aspera-inbox;iam-role.external-id=aspera-7f3c9e21`);
  });

  test('a regional endpoint of the same partition is accepted, in China too', () => {
    const china = { myAccount: { accountId: '111111111111', region: 'cn-north-1' }, otherAccount: { accountId: '222222222222', region: 'cn-north-1' } };
    expect(problemsOf(baseConfigInput({ ...china, s3Endpoint: 's3.cn-north-1.amazonaws.com.cn' }))).toEqual([]);
    expect(problemsOf(baseConfigInput({ s3Endpoint: 's3.eu-west-1.amazonaws.com' }))).toEqual([]);
    expect(problemsOf(baseConfigInput({ s3Endpoint: 's3-fips.us-east-2.amazonaws.com' }))).toEqual([]);
  });
});

test('KMS keys: a multi-Region key ID, a UUID, an alias and a key ARN in the state region are accepted', () => {
  for (const kmsKeyId of ['mrk-0123456789abcdef0123456789abcdef', '0f3e5c1a-1b2c-4d5e-8f90-123456789abc', 'alias/terraform-state', 'arn:aws:kms:us-east-1:111111111111:key/mrk-0123456789abcdef0123456789abcdef']) {
    expect(problemsOf(baseConfigInput({ state: { backend: 's3', bucket: 'acme-tf-state', key: 'aspera.tfstate', region: 'us-east-1', kmsKeyId } }))).toEqual([]);
  }
  expect(problemsOf(baseConfigInput({ state: { backend: 's3', bucket: 'acme-tf-state', key: 'k', region: 'us-east-1', kmsKeyId: 'mrk-0123' } }))).toEqual([
    'state.kmsKeyId: must be a KMS key ID, key ARN or alias',
  ]);
});

test('hosts that only look alike are distinct: other ports, other addresses, names and addresses', () => {
  const hosts = [
    { host: '::1', port: 22 },
    { host: '::1', port: 2222 },
    { host: '::2', port: 22 },
    { host: '::ffff:203.0.113.11', port: 22 },
    { host: '203.0.113.10', port: 22 },
    { host: 'aspera.example.com', port: 22 },
    { host: 'aspera.example.co', port: 22 },
  ].map((h) => ({ ...h, user: 'ec2-user' }));
  expect(problemsOf(baseConfigInput({ asperaHosts: hosts }))).toEqual([]);
});

test('privateKeyPath: absolute and "~/" paths are accepted', () => {
  for (const privateKeyPath of ['/home/ops/.ssh/aspera.pem', '~/.ssh/aspera.pem']) {
    expect(problemsOf(baseConfigInput({ asperaHosts: [{ host: '203.0.113.10', user: 'ec2-user', privateKeyPath }] }))).toEqual([]);
  }
});

test('the nesting scan counts only brackets outside strings, escaped quotes included', () => {
  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  expect(tooDeepOffset(nested(MAX_NESTING))).toBe(-1);
  expect(tooDeepOffset(nested(MAX_NESTING + 1))).toBe(MAX_NESTING);
  expect(tooDeepOffset(`{"a": "${'['.repeat(100)}"}`)).toBe(-1);
  expect(tooDeepOffset(`{"a": "\\"${'{'.repeat(100)}"}`)).toBe(-1);
  expect(tooDeepOffset(`{"a": "\\\\", "b": ${nested(MAX_NESTING)}}`)).toBe(`{"a": "\\\\", "b": `.length + MAX_NESTING - 1);
});
