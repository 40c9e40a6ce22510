/**
 * The path form of the host policy ("hostPolicy": "role-path"), decided by the independent IAM
 * engine (@cloud-copilot/iam-simulate) over the synthesized policies: the host role may try every
 * role under the stack's path, but gets only the grant roles, and only with the External ID.
 *
 * Role ARNs and paths below are written by hand from docs/what-the-stack-creates.md (grant roles under
 * /aspera/<stackName>/, the host role under hostRole.path), not computed by the code under test.
 * Both buckets are SSE-KMS (a created key, whose key policy then names the grant roles by the path
 * pattern, and an existing bucket's given key), so the battery's KMS decisions are compared too.
 */
import {
  ADMIN,
  allowedKeys,
  assumeRoleRequest,
  createdKeyArn,
  decide,
  decisionTable,
  readSynthesizedAccess,
  THIRD_ACCOUNT,
  type Case,
  type PolicyDoc,
  type SynthesizedAccess,
} from './helpers/access-matrix';
import { baseConfigInput, synthConfig } from './helpers/synth';

const CONFIG = baseConfigInput({
  stackName: 'media',
  hostPolicy: 'role-path',
  hostRole: { name: 'aspera-transfer-host', path: '/ops/aspera/' },
  // Both kinds of SSE-KMS bucket: a created key (whose key policy names the grant roles by the path
  // pattern) and an existing bucket's key, given by ARN.
  buckets: [
    { name: 'acme-aspera-inbox', create: true, encryption: 'sse-kms' },
    { name: 'acme-archive', create: false, kmsKeyArn: 'arn:aws:kms:us-east-1:111111111111:key/5b0e7c2d-3f4a-4b6c-9d8e-7f6a5b4c3d2e' },
  ],
  grants: [
    { transferUser: 'xfer2', bucket: 'acme-aspera-inbox', prefix: '', access: 'read-write' },
    { transferUser: 'partner_a', bucket: 'acme-archive', prefix: 'exchange/partner-a', access: 'read-only', roleName: 'acme-partner-a-reader' },
  ],
});

const CASE: Case = {
  fixture: '(role-path config above)',
  partition: 'aws',
  region: 'us-east-1',
  myAccount: '111111111111',
  otherAccount: '222222222222',
  externalId: 'aspera-7f3c9e21',
  hostRole: 'aspera-transfer-host',
  hostRolePath: '/ops/aspera/',
  grantRolePath: '/aspera/media/',
  createdBuckets: ['acme-aspera-inbox'],
  grants: [
    { transferUser: 'xfer2', role: 'media-xfer2', bucket: 'acme-aspera-inbox', prefix: '', access: 'read-write' },
    { transferUser: 'partner_a', role: 'acme-partner-a-reader', bucket: 'acme-archive', prefix: 'exchange/partner-a', access: 'read-only' },
  ],
  kmsKeys: {
    'acme-aspera-inbox': { arn: createdKeyArn('aws', 'us-east-1', '111111111111', 'bucket_acme-aspera-inbox'), created: 'bucket_acme-aspera-inbox', objectContext: false },
    'acme-archive': { arn: 'arn:aws:kms:us-east-1:111111111111:key/5b0e7c2d-3f4a-4b6c-9d8e-7f6a5b4c3d2e', objectContext: true },
  },
};

const GRANT_ROLE_ARNS = ['arn:aws:iam::111111111111:role/aspera/media/media-xfer2', 'arn:aws:iam::111111111111:role/aspera/media/acme-partner-a-reader'];
const HOST_ROLE_ARN = 'arn:aws:iam::222222222222:role/ops/aspera/aspera-transfer-host';
const HOST_SESSION = 'arn:aws:sts::222222222222:assumed-role/aspera-transfer-host/i-0123456789abcdef0';

let access: SynthesizedAccess;
let hostPolicies: PolicyDoc[];
let grantTrust: PolicyDoc;

beforeAll(() => {
  const tf = synthConfig(CONFIG);
  access = readSynthesizedAccess(tf);
  hostPolicies = access.roles.get('222222222222/aspera-transfer-host')?.inline ?? [];
  const trust = access.roles.get('111111111111/media-xfer2')?.trust;
  if (trust === undefined) throw new Error(`no grant role media-xfer2; synthesized: ${[...access.roles.keys()].join(', ')}`);
  grantTrust = trust;
  // The roles are where the ARNs above say: created with those paths.
  expect(Object.values(tf.resource?.aws_iam_role ?? {}).map((r) => [r.name, r.path])).toEqual(
    expect.arrayContaining([
      ['media-xfer2', '/aspera/media/'],
      ['acme-partner-a-reader', '/aspera/media/'],
      ['aspera-transfer-host', '/ops/aspera/'],
    ]),
  );
  expect(tf.output?.grant_role_arns?.value).toEqual({ xfer2: GRANT_ROLE_ARNS[0], partner_a: GRANT_ROLE_ARNS[1] });
});

/** sts:AssumeRole by `caller` on a role given by ARN, with `trust` as its trust policy. */
const assume = (roleArn: string, trust: PolicyDoc, caller: { principal: string; principalArn: string; identityPolicies: PolicyDoc[] }, externalId?: string) => {
  const [, path, name] = /^arn:aws:iam::111111111111:role(\/(?:[^/]+\/)*)([^/]+)$/.exec(roleArn) ?? [];
  return decide(assumeRoleRequest(CASE, name, trust, caller, externalId, path));
};
const host = () => ({ principal: HOST_SESSION, principalArn: HOST_ROLE_ARN, identityPolicies: hostPolicies });

test('the host policy is one statement of constant size: sts:AssumeRole on the path, nothing else', () => {
  expect(hostPolicies).toEqual([
    { Version: '2012-10-17', Statement: [{ Sid: 'AssumeAsperaGrantRoles', Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: ['arn:aws:iam::111111111111:role/aspera/media/*'] }] },
  ]);
});

test.each(GRANT_ROLE_ARNS)('the host role assumes %s with the External ID, and not without or with a wrong one', async (roleArn) => {
  const name = roleArn.slice(roleArn.lastIndexOf('/') + 1);
  const trust = access.roles.get(`111111111111/${name}`)?.trust as PolicyDoc;
  expect(await assume(roleArn, trust, host(), 'aspera-7f3c9e21')).toBe('Allowed');
  expect(await assume(roleArn, trust, host())).not.toBe('Allowed');
  expect(await assume(roleArn, trust, host(), 'aspera-7f3c9e21x')).not.toBe('Allowed');
  expect(await assume(roleArn, trust, { ...host(), identityPolicies: [] }, 'aspera-7f3c9e21')).not.toBe('Allowed');
});

test('a role outside the path is refused to the host, even one that trusts it exactly like a grant role does', async () => {
  for (const outside of [
    'arn:aws:iam::111111111111:role/media-xfer2',
    'arn:aws:iam::111111111111:role/aspera/other-stack/media-xfer2',
    'arn:aws:iam::111111111111:role/aspera/media-other/x',
    'arn:aws:iam::111111111111:role/admin',
  ]) {
    expect([outside, await assume(outside, grantTrust, host(), 'aspera-7f3c9e21')]).toEqual([outside, 'ImplicitlyDenied']);
  }
});

test('a role inside the path whose trust does not name the host role is refused to it', async () => {
  const trusts: Record<string, PolicyDoc> = {
    'another role of Other Account': {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::222222222222:root' },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'aws:PrincipalArn': 'arn:aws:iam::222222222222:role/some-other-app', 'sts:ExternalId': 'aspera-7f3c9e21' } },
        },
      ],
    },
    'a third account': { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${THIRD_ACCOUNT}:root` }, Action: 'sts:AssumeRole' }] },
    'an AWS service': { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
  };
  for (const [whom, trust] of Object.entries(trusts)) {
    const decision = await assume('arn:aws:iam::111111111111:role/aspera/media/unrelated', trust, host(), 'aspera-7f3c9e21');
    expect([whom, decision]).not.toEqual([whom, 'Allowed']);
  }
});

test.each(GRANT_ROLE_ARNS)('no other principal gets %s: other roles and users of Other Account (admin, External ID), a third account', async (roleArn) => {
  const name = roleArn.slice(roleArn.lastIndexOf('/') + 1);
  const trust = access.roles.get(`111111111111/${name}`)?.trust as PolicyDoc;
  const callers = [
    { principal: 'arn:aws:sts::222222222222:assumed-role/some-other-app/s', principalArn: 'arn:aws:iam::222222222222:role/some-other-app', identityPolicies: [ADMIN] },
    { principal: 'arn:aws:iam::222222222222:user/admin', principalArn: 'arn:aws:iam::222222222222:user/admin', identityPolicies: [ADMIN] },
    // The host role's name at the root path: not the role the trust names.
    { principal: 'arn:aws:sts::222222222222:assumed-role/aspera-transfer-host/i-0', principalArn: 'arn:aws:iam::222222222222:role/aspera-transfer-host', identityPolicies: [ADMIN] },
    {
      principal: `arn:aws:sts::${THIRD_ACCOUNT}:assumed-role/aspera-transfer-host/i-0`,
      principalArn: `arn:aws:iam::${THIRD_ACCOUNT}:role/ops/aspera/aspera-transfer-host`,
      identityPolicies: [ADMIN],
    },
  ];
  for (const caller of callers) {
    expect([caller.principalArn, await assume(roleArn, trust, caller, 'aspera-7f3c9e21')]).toEqual([caller.principalArn, 'ImplicitlyDenied']);
  }
});

test('every decision of the fixed battery is the same as with the exact list of the same grants', async () => {
  const exact = readSynthesizedAccess(synthConfig({ ...CONFIG, hostPolicy: 'exact-roles' }));
  const pathTable = await decisionTable(access, CASE);
  const exactTable = await decisionTable(exact, { ...CASE, grantRolePath: '/' });
  // Keys that name a grant role's ARN name it with its path; the decision is what must not differ.
  const withoutPath = [...pathTable].map(([key, decision]) => [key.split(':role/aspera/media/').join(':role/'), decision]);
  expect(withoutPath).toEqual([...exactTable]);
  // Not a table of refusals: each grant role is assumable and used, and uses its bucket's KMS key
  // through S3 (the created key's policy names the grant roles by the path pattern here).
  expect(allowedKeys(pathTable)).toEqual(
    expect.arrayContaining([
      'assume media-xfer2 | host role | External ID',
      'assume acme-partner-a-reader | host role | External ID',
      'kms:Decrypt | as media-xfer2 | KMS key of acme-aspera-inbox | via S3, context its bucket',
      'kms:GenerateDataKey | as media-xfer2 | KMS key of acme-aspera-inbox | via S3, context its bucket',
      'kms:Decrypt | as acme-partner-a-reader | KMS key of acme-archive | via S3, context its bucket',
      'kms:Decrypt | as acme-partner-a-reader | KMS key of acme-archive | via S3, context an object under its prefix',
    ]),
  );
  expect(allowedKeys(pathTable).filter((key) => key.startsWith('kms:'))).toHaveLength(4);
});
