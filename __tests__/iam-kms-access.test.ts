/**
 * What a grant role may do with its bucket's KMS key (src/iam/kms-access.ts), who may use and
 * administer a key this stack creates (src/iam/key-policy.ts), and which buckets get which key
 * (src/s3/bucket-encryption.ts), on sse-kms-buckets.json:
 *  - media-kms-inbox: created, "sse-kms", the key created with it (ingest rw, editor rw and viewer ro
 *    under projects/editor);
 *  - media-kms-masters: created, "sse-kms", a key of account 888888888888 (mastering rw);
 *  - media-kms-archive: existing, its multi-Region key of My Account (archivist ro under vault/2026);
 *  - media-plain-drop: created, SSE-S3 (dropper rw).
 * Decided by the independent IAM engine (@cloud-copilot/iam-simulate) over the synthesized
 * policies; a created key's ARN, known only once it exists, is a fixed stand-in
 * (helpers/access-matrix.ts, createdKeyArn). ARNs, contexts and action lists below are written by
 * hand from the configuration reference, not computed by the code under test.
 */
import {
  ADMIN,
  decideOnce,
  FIXTURE_CASES,
  grantRoleRequest,
  readSynthesizedAccess,
  THIRD_ACCOUNT,
  type Case,
  type Decision,
  type PolicyDoc,
  type SynthesizedAccess,
} from './helpers/access-matrix';
import { fixtureConfigInput, resolveReference, resourcesOfType, synthConfig, type TerraformJson } from './helpers/synth';

const MY = '333333333333';
const OTHER = '222222222222';
const KEY_OWNER = '888888888888';
const CASE: Case = FIXTURE_CASES.find((c) => c.fixture === 'sse-kms-buckets.json')!;
const ROLE_PATH_CASE: Case = { ...CASE, grantRolePath: '/aspera/media-kms/' };

const INBOX_KEY_REFERENCE = '${aws_kms_key.bucket_media-kms-inbox.arn}';
const MASTERS_KEY = `arn:aws:kms:us-west-2:${KEY_OWNER}:key/0f5e2c1a-7b3d-4c9e-8a21-5d6f7e8a9b0c`;
const ARCHIVE_KEY = `arn:aws:kms:us-west-2:${MY}:key/mrk-1a2b3c4d5e6f70819a2b3c4d5e6f7081`;
/** A key the grants have nothing to do with, in the same account and region. */
const UNRELATED_KEY = `arn:aws:kms:us-west-2:${MY}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const S3_HERE = 's3.us-west-2.amazonaws.com';

const INBOX = 'arn:aws:s3:::media-kms-inbox';
const MASTERS = 'arn:aws:s3:::media-kms-masters';
const ARCHIVE = 'arn:aws:s3:::media-kms-archive';
const PLAIN = 'arn:aws:s3:::media-plain-drop';

/** What S3 sends KMS when it calls as a principal of `caller` for `arn` (encryption context aws:s3:arn). */
const viaS3 = (arn: string, caller = MY): Record<string, string> => ({ 'kms:ViaService': S3_HERE, 'kms:CallerAccount': caller, 'kms:EncryptionContext:aws:s3:arn': arn });

/** The key policies of the keys this stack does not create, as their owners may have written them: trusting My Account with everything. */
const keyPolicy = (...accounts: string[]): PolicyDoc => ({
  Version: '2012-10-17',
  Statement: [{ Sid: 'TrustAccounts', Effect: 'Allow', Principal: { AWS: accounts.map((a) => `arn:aws:iam::${a}:root`) }, Action: 'kms:*', Resource: '*' }],
});
const MASTERS_KEY_POLICY = keyPolicy(KEY_OWNER, MY);
const ARCHIVE_KEY_POLICY = keyPolicy(MY);

interface KmsGrant {
  role: string;
  bucket: string;
  access: 'read-write' | 'read-only';
  /** The key's ARN; "created" for the inbox key (its stand-in ARN is read from the synthesized stack). */
  key: string;
  /** The key's policy for the evaluation; undefined: the synthesized one of the created key. */
  keyPolicy?: PolicyDoc;
  /** Encryption contexts S3 passes for the grant's objects. */
  contexts: string[];
  /** Encryption contexts of the grant's bucket that are not the grant's. */
  notItsContexts: string[];
}

const KMS_GRANTS: KmsGrant[] = [
  // A created bucket: the S3 Bucket Key is on, so S3 passes the bucket's ARN only.
  { role: 'media-kms-ingest', bucket: 'media-kms-inbox', access: 'read-write', key: 'created', contexts: [INBOX], notItsContexts: [`${INBOX}/any/file.bin`] },
  { role: 'media-kms-editor', bucket: 'media-kms-inbox', access: 'read-write', key: 'created', contexts: [INBOX], notItsContexts: [`${INBOX}/projects/editor/cut.mov`] },
  { role: 'media-kms-viewer', bucket: 'media-kms-inbox', access: 'read-only', key: 'created', contexts: [INBOX], notItsContexts: [`${INBOX}/projects/editor/cut.mov`] },
  { role: 'media-kms-mastering', bucket: 'media-kms-masters', access: 'read-write', key: MASTERS_KEY, keyPolicy: MASTERS_KEY_POLICY, contexts: [MASTERS], notItsContexts: [`${MASTERS}/a/b.bin`] },
  // An existing bucket: with or without a Bucket Key, the bucket's ARN or an object's under the prefix.
  {
    role: 'media-kms-archivist',
    bucket: 'media-kms-archive',
    access: 'read-only',
    key: ARCHIVE_KEY,
    keyPolicy: ARCHIVE_KEY_POLICY,
    contexts: [ARCHIVE, `${ARCHIVE}/vault/2026/reel-01.mxf`, `${ARCHIVE}/vault/2026/march/reel-02.mxf`],
    notItsContexts: [`${ARCHIVE}/vault/2025/reel-01.mxf`, `${ARCHIVE}/vault/2026x/reel-01.mxf`, `${ARCHIVE}/vault/2026`, `${ARCHIVE}/top.mxf`, `${ARCHIVE}/other/vault/2026/reel.mxf`],
  },
];

let tf: TerraformJson;
let access: SynthesizedAccess;
let rolePathAccess: SynthesizedAccess;
let createdKey: string;

beforeAll(() => {
  tf = synthConfig(fixtureConfigInput(CASE.fixture));
  access = readSynthesizedAccess(tf);
  rolePathAccess = readSynthesizedAccess(synthConfig({ ...fixtureConfigInput(CASE.fixture), hostPolicy: 'role-path' }));
  createdKey = access.createdKeys.get('bucket_media-kms-inbox')!;
  expect(createdKey).toBe(CASE.kmsKeys?.['media-kms-inbox'].arn);
});

const keyOf = (grant: KmsGrant): string => (grant.key === 'created' ? createdKey : grant.key);

/** A request of a grant role on a KMS key: its own inline policy, unless `identityPolicies` says otherwise. */
function asRole(
  role: string,
  action: string,
  resource: string,
  context: Record<string, string>,
  options: { keyPolicy?: PolicyDoc; identityPolicies?: PolicyDoc[]; rolePath?: boolean } = {},
): Promise<Decision> {
  const request = grantRoleRequest(options.rolePath ? rolePathAccess : access, options.rolePath ? ROLE_PATH_CASE : CASE, role, {
    action,
    resource,
    context,
    ...(options.keyPolicy === undefined ? {} : { resourcePolicy: options.keyPolicy }),
  });
  return decideOnce(options.identityPolicies === undefined ? request : { ...request, identityPolicies: options.identityPolicies });
}

/** A request by any principal on the created key, with its key policy. */
function onCreatedKey(caller: { principal: string; principalArn: string; account: string; identityPolicies: PolicyDoc[] }, action: string, context: Record<string, string>): Promise<Decision> {
  return decideOnce({
    principal: caller.principal,
    action,
    resource: createdKey,
    resourceAccount: MY,
    context: { 'aws:SecureTransport': 'true', 'aws:PrincipalArn': caller.principalArn, 'kms:CallerAccount': caller.account, ...context },
    identityPolicies: caller.identityPolicies,
    resourcePolicy: access.keyPolicies.get(createdKey)!,
  });
}

describe('synthesized JSON', () => {
  test('one key is created: for the sse-kms bucket without kmsKeyArn, in My Account, with rotation on', () => {
    const keys = resourcesOfType(tf, 'aws_kms_key');
    expect(Object.keys(keys)).toEqual(['bucket_media-kms-inbox']);
    expect(keys['bucket_media-kms-inbox']).toMatchObject({ enable_key_rotation: true, provider: 'aws.my_account' });
  });

  test('the default encryption of each created bucket: SSE-KMS with the S3 Bucket Key and its key, or SSE-S3', () => {
    const byBucket = Object.fromEntries(Object.values(resourcesOfType(tf, 'aws_s3_bucket_server_side_encryption_configuration')).map((body) => [resolveReference(tf, body.bucket), body.rule]));
    // The existing bucket keeps its owner's configuration: none is written for it.
    expect(Object.keys(byBucket).sort()).toEqual(['media-kms-inbox', 'media-kms-masters', 'media-plain-drop']);
    expect(byBucket['media-kms-inbox']).toEqual([{ apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms', kms_master_key_id: INBOX_KEY_REFERENCE }, bucket_key_enabled: true }]);
    expect(byBucket['media-kms-masters']).toEqual([{ apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms', kms_master_key_id: MASTERS_KEY }, bucket_key_enabled: true }]);
    expect(byBucket['media-plain-drop']).toHaveLength(1);
    expect(byBucket['media-plain-drop'][0].apply_server_side_encryption_by_default).toEqual({ sse_algorithm: 'AES256' });
    expect(byBucket['media-plain-drop'][0].bucket_key_enabled).not.toBe(true);
  });

  test('each grant on an SSE-KMS bucket: one KMS statement, its access level\'s actions on its bucket\'s key, through S3 here, for its bucket', () => {
    const kmsStatements = (role: string) =>
      (access.roles.get(`${MY}/${role}`)?.inline ?? []).flatMap((p) => p.Statement).filter((s) => ([s.Action].flat() as string[]).some((a) => a.startsWith('kms:')));
    // Read back with the created key's stand-in ARN in place of ${aws_kms_key.bucket_media-kms-inbox.arn}.
    const statement = (actions: string[], key: string, contexts: string[]) => ({
      Sid: 'AsperaKmsViaS3',
      Effect: 'Allow',
      Action: actions,
      Resource: [key],
      Condition: { StringEquals: { 'kms:ViaService': S3_HERE }, StringLike: { 'kms:EncryptionContext:aws:s3:arn': contexts } },
    });
    expect(kmsStatements('media-kms-ingest')).toEqual([statement(['kms:Decrypt', 'kms:GenerateDataKey'], createdKey, [INBOX])]);
    expect(kmsStatements('media-kms-editor')).toEqual([statement(['kms:Decrypt', 'kms:GenerateDataKey'], createdKey, [INBOX])]);
    expect(kmsStatements('media-kms-viewer')).toEqual([statement(['kms:Decrypt'], createdKey, [INBOX])]);
    expect(kmsStatements('media-kms-mastering')).toEqual([statement(['kms:Decrypt', 'kms:GenerateDataKey'], MASTERS_KEY, [MASTERS])]);
    expect(kmsStatements('media-kms-archivist')).toEqual([statement(['kms:Decrypt'], ARCHIVE_KEY, [ARCHIVE, `${ARCHIVE}/vault/2026/*`])]);
    // In the cdk.tf.json itself, the created key is named by reference.
    const raw = Object.values(resourcesOfType(tf, 'aws_iam_role_policy')).filter((p) => String(p.policy).includes(INBOX_KEY_REFERENCE));
    expect(raw.map((p) => resolveReference(tf, p.role)).sort()).toEqual(['media-kms-editor', 'media-kms-ingest', 'media-kms-viewer']);
  });

  test('no grant on a bucket without a KMS key has any kms: action, in any fixture', () => {
    for (const c of FIXTURE_CASES) {
      const fixtureAccess = c.fixture === CASE.fixture ? access : readSynthesizedAccess(synthConfig(fixtureConfigInput(c.fixture)));
      const plain = c.grants.filter((g) => c.kmsKeys?.[g.bucket] === undefined);
      if (c.fixture === CASE.fixture) expect(plain.map((g) => g.role)).toEqual(['media-kms-dropper']);
      for (const grant of plain) {
        const policies = fixtureAccess.roles.get(`${c.myAccount}/${grant.role}`)?.inline;
        expect(policies).toHaveLength(1);
        const actions = policies!.flatMap((p) => p.Statement.flatMap((s) => [s.Action].flat() as string[]));
        expect([c.fixture, grant.role, actions.filter((a) => !a.startsWith('s3:'))]).toEqual([c.fixture, grant.role, []]);
      }
    }
  });
});

test('the evaluator sees the encryption context (iam-simulate drops kms:EncryptionContext:<key>; helpers/access-matrix.ts puts it back)', async () => {
  const onlyFor = (arn: string): PolicyDoc => ({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: UNRELATED_KEY, Condition: { StringEquals: { 'kms:EncryptionContext:aws:s3:arn': arn } } }],
  });
  const decrypt = (context: Record<string, string>) => asRole('media-kms-dropper', 'kms:Decrypt', UNRELATED_KEY, context, { identityPolicies: [onlyFor(PLAIN)] });
  expect(await decrypt(viaS3(PLAIN))).toBe('Allowed');
  expect(await decrypt(viaS3(INBOX))).toBe('ImplicitlyDenied');
  expect(await decrypt({ 'kms:ViaService': S3_HERE })).toBe('ImplicitlyDenied');
});

describe.each(KMS_GRANTS)('$role ($access on $bucket), on its bucket\'s key', (grant) => {
  const ALLOWED = grant.access === 'read-write' ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'];
  const USE = ['kms:Decrypt', 'kms:GenerateDataKey'];
  const on = (action: string, context: Record<string, string>, options: { rolePath?: boolean; key?: string } = {}) =>
    asRole(grant.role, action, options.key ?? keyOf(grant), context, { ...(grant.keyPolicy === undefined ? {} : { keyPolicy: grant.keyPolicy }), rolePath: options.rolePath });

  test('the key policy it is decided against: the created key\'s as synthesized, or one trusting My Account with everything', () => {
    const request = grantRoleRequest(access, CASE, grant.role, { action: 'kms:Decrypt', resource: keyOf(grant), ...(grant.keyPolicy === undefined ? {} : { resourcePolicy: grant.keyPolicy }) });
    expect(request.resourcePolicy).toEqual(grant.keyPolicy ?? access.keyPolicies.get(createdKey));
    expect(request.resourceAccount).toBe(grant.key === MASTERS_KEY ? KEY_OWNER : MY);
  });

  test(`through S3, for its objects: ${ALLOWED.join(' and ')}, and in the role-path form too`, async () => {
    for (const arn of grant.contexts) {
      for (const action of ALLOWED) {
        expect([action, arn, await on(action, viaS3(arn))]).toEqual([action, arn, 'Allowed']);
        expect([action, arn, 'role-path', await on(action, viaS3(arn), { rolePath: true })]).toEqual([action, arn, 'role-path', 'Allowed']);
      }
    }
  });

  if (grant.access === 'read-only') {
    test('a reader never gets kms:GenerateDataKey (it would only be needed to write)', async () => {
      for (const arn of grant.contexts) expect([arn, await on('kms:GenerateDataKey', viaS3(arn))]).toEqual([arn, 'ImplicitlyDenied']);
    });
  }

  test('not for another bucket, nor for what is not its own in its bucket', async () => {
    const others = [...[INBOX, MASTERS, ARCHIVE, PLAIN].filter((b) => b !== `arn:aws:s3:::${grant.bucket}`), 'arn:aws:s3:::acme-unrelated-bucket', ...grant.notItsContexts];
    for (const arn of others) {
      for (const action of USE) {
        expect([action, arn, await on(action, viaS3(arn))]).toEqual([action, arn, 'ImplicitlyDenied']);
        expect([action, arn, 'role-path', await on(action, viaS3(arn), { rolePath: true })]).toEqual([action, arn, 'role-path', 'ImplicitlyDenied']);
      }
    }
  });

  test('only through S3 in the buckets\' region: not directly, not through another service, not through S3 elsewhere; never without an encryption context', async () => {
    const [itsContext] = grant.contexts;
    const { 'kms:ViaService': _via, ...direct } = viaS3(itsContext);
    const { 'kms:EncryptionContext:aws:s3:arn': _arn, ...noContext } = viaS3(itsContext);
    const contexts: Record<string, Record<string, string>> = {
      directly: direct,
      'through EC2': { ...viaS3(itsContext), 'kms:ViaService': 'ec2.us-west-2.amazonaws.com' },
      'through S3 in us-east-1': { ...viaS3(itsContext), 'kms:ViaService': 's3.us-east-1.amazonaws.com' },
      'through S3 in eu-west-1': { ...viaS3(itsContext), 'kms:ViaService': 's3.eu-west-1.amazonaws.com' },
      'without encryption context': noContext,
    };
    for (const [how, context] of Object.entries(contexts)) {
      for (const action of USE) {
        expect([action, how, await on(action, context)]).toEqual([action, how, 'ImplicitlyDenied']);
        expect([action, how, 'role-path', await on(action, context, { rolePath: true })]).toEqual([action, how, 'role-path', 'ImplicitlyDenied']);
      }
    }
  });

  test('no other key: neither an unrelated one nor another bucket\'s, used as S3 would for that bucket', async () => {
    const keys: Array<[string, string, PolicyDoc | undefined]> = [
      [UNRELATED_KEY, `arn:aws:s3:::${grant.bucket}`, keyPolicy(MY)],
      [createdKey, INBOX, undefined],
      [MASTERS_KEY, MASTERS, MASTERS_KEY_POLICY],
      [ARCHIVE_KEY, ARCHIVE, ARCHIVE_KEY_POLICY],
    ];
    for (const [key, arn, policy] of keys.filter(([k]) => k !== keyOf(grant))) {
      for (const action of USE) {
        const decision = await asRole(grant.role, action, key, viaS3(arn), policy === undefined ? {} : { keyPolicy: policy });
        expect([action, key, decision]).toEqual([action, key, 'ImplicitlyDenied']);
      }
    }
  });

  test('none of KMS\'s other actions on its key, not even through S3 for its bucket', async () => {
    for (const action of ['kms:Encrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:CreateGrant', 'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext']) {
      expect([action, await on(action, viaS3(grant.contexts[0]))]).toEqual([action, 'ImplicitlyDenied']);
    }
  });
});

describe('the key created for media-kms-inbox: its key policy decides who may use and administer it', () => {
  const ADMIN_ROLE = { principal: `arn:aws:sts::${MY}:assumed-role/admin/alice`, principalArn: `arn:aws:iam::${MY}:role/admin`, account: MY, identityPolicies: [ADMIN] };
  const ADMIN_USER = { principal: `arn:aws:iam::${MY}:user/admin`, principalArn: `arn:aws:iam::${MY}:user/admin`, account: MY, identityPolicies: [ADMIN] };

  test('the key policy itself narrows the grant roles of its bucket: even with an identity policy that allows everything, only their uses, through S3 here, for this bucket', async () => {
    const admin = { identityPolicies: [ADMIN] };
    const { 'kms:ViaService': _via, ...direct } = viaS3(INBOX);
    const { 'kms:EncryptionContext:aws:s3:arn': _arn, ...noContext } = viaS3(INBOX);
    const refused: Record<string, Record<string, string>> = {
      directly: direct,
      'through EC2': { ...viaS3(INBOX), 'kms:ViaService': 'ec2.us-west-2.amazonaws.com' },
      'through S3 in us-east-1': { ...viaS3(INBOX), 'kms:ViaService': 's3.us-east-1.amazonaws.com' },
      'for another bucket': viaS3(MASTERS),
      'for an object ARN': viaS3(`${INBOX}/projects/editor/cut.mov`),
      'without encryption context': noContext,
    };
    for (const rolePath of [false, true]) {
      for (const role of ['media-kms-ingest', 'media-kms-editor', 'media-kms-viewer']) {
        const form = rolePath ? 'role-path' : 'exact roles';
        for (const action of ['kms:Decrypt', 'kms:GenerateDataKey']) {
          expect([form, role, action, await asRole(role, action, createdKey, viaS3(INBOX), { ...admin, rolePath })]).toEqual([form, role, action, 'Allowed']);
          for (const [how, context] of Object.entries(refused)) {
            expect([form, role, action, how, await asRole(role, action, createdKey, context, { ...admin, rolePath })]).toEqual([form, role, action, how, 'ImplicitlyDenied']);
          }
        }
        for (const action of ['kms:Encrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:CreateGrant', 'kms:GenerateDataKeyWithoutPlaintext']) {
          expect([form, role, action, await asRole(role, action, createdKey, viaS3(INBOX), { ...admin, rolePath })]).toEqual([form, role, action, 'ImplicitlyDenied']);
        }
      }
    }
  });

  test('the grant roles of the other buckets are refused it, even with an identity policy that allows everything', async () => {
    for (const role of ['media-kms-mastering', 'media-kms-archivist', 'media-kms-dropper']) {
      for (const action of ['kms:Decrypt', 'kms:GenerateDataKey']) {
        for (const identityPolicies of [undefined, [ADMIN]]) {
          const decision = await asRole(role, action, createdKey, viaS3(INBOX), identityPolicies === undefined ? {} : { identityPolicies });
          expect([role, action, identityPolicies === undefined ? 'own policy' : 'admin', decision]).toEqual([role, action, identityPolicies === undefined ? 'own policy' : 'admin', 'ImplicitlyDenied']);
        }
      }
    }
  });

  test('an administrator of My Account (role or user, IAM allows everything) cannot use it for data, through S3 or directly', async () => {
    for (const admin of [ADMIN_ROLE, ADMIN_USER]) {
      for (const action of ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:Encrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:CreateGrant', 'kms:GenerateDataKeyWithoutPlaintext']) {
        for (const [how, context] of [
          ['through S3', viaS3(INBOX)],
          ['directly', {}],
        ] as const) {
          expect([admin.principalArn, action, how, await onCreatedKey(admin, action, context)]).toEqual([admin.principalArn, action, how, 'ImplicitlyDenied']);
        }
      }
    }
  });

  test('but administers it: describe it, change its policy, rotation, deletion', async () => {
    for (const admin of [ADMIN_ROLE, ADMIN_USER]) {
      for (const action of ['kms:DescribeKey', 'kms:PutKeyPolicy', 'kms:GetKeyPolicy', 'kms:EnableKeyRotation', 'kms:ScheduleKeyDeletion', 'kms:TagResource']) {
        expect([admin.principalArn, action, await onCreatedKey(admin, action, {})]).toEqual([admin.principalArn, action, 'Allowed']);
      }
    }
    // An IAM principal of My Account without such permissions in its own policies gets nothing.
    expect(await onCreatedKey({ ...ADMIN_ROLE, identityPolicies: [] }, 'kms:DescribeKey', {})).toBe('ImplicitlyDenied');
  });

  test('principals of Other Account and of a third account are refused everything, even with admin rights', async () => {
    const callers = [
      {
        principal: `arn:aws:sts::${OTHER}:assumed-role/aspera-transfer-host/i-0123456789abcdef0`,
        principalArn: `arn:aws:iam::${OTHER}:role/aspera-transfer-host`,
        account: OTHER,
        identityPolicies: [...(access.roles.get(`${OTHER}/aspera-transfer-host`)?.inline ?? []), ADMIN],
      },
      { principal: `arn:aws:iam::${OTHER}:user/admin`, principalArn: `arn:aws:iam::${OTHER}:user/admin`, account: OTHER, identityPolicies: [ADMIN] },
      {
        principal: `arn:aws:sts::${THIRD_ACCOUNT}:assumed-role/media-kms-ingest/aspera`,
        principalArn: `arn:aws:iam::${THIRD_ACCOUNT}:role/media-kms-ingest`,
        account: THIRD_ACCOUNT,
        identityPolicies: [ADMIN],
      },
    ];
    for (const caller of callers) {
      for (const action of ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:Encrypt', 'kms:CreateGrant', 'kms:DescribeKey', 'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion']) {
        for (const context of [viaS3(INBOX, caller.account), {}]) {
          expect([caller.principalArn, action, await onCreatedKey(caller, action, context)]).toEqual([caller.principalArn, action, 'ImplicitlyDenied']);
        }
      }
    }
  });
});

describe(`the key given for media-kms-masters, owned by account ${KEY_OWNER}`, () => {
  test('under a key policy that trusts My Account with everything, the grant role\'s own policy is what narrows: an admin role of My Account would be allowed', async () => {
    const adminRole = grantRoleRequest(access, CASE, 'media-kms-mastering', { action: 'kms:Encrypt', resource: MASTERS_KEY, resourcePolicy: MASTERS_KEY_POLICY });
    expect(await decideOnce({ ...adminRole, identityPolicies: [ADMIN] })).toBe('Allowed');
    expect(await decideOnce(adminRole)).toBe('ImplicitlyDenied');
  });

  test('a key policy that does not trust My Account refuses the grant role even its own uses (the key\'s owner must allow them)', async () => {
    for (const action of ['kms:Decrypt', 'kms:GenerateDataKey']) {
      expect([action, await asRole('media-kms-mastering', action, MASTERS_KEY, viaS3(MASTERS), { keyPolicy: keyPolicy(KEY_OWNER) })]).toEqual([action, 'ImplicitlyDenied']);
    }
  });
});
