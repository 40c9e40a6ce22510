/**
 * The effective access a config grants, as a reviewer needs to see it. Pure: config in, data out.
 *
 * Nothing here decides a permission. Every value is read back from the functions the stack itself
 * renders into Terraform (role ARNs, the grant roles' trust and S3 policies, the host role's policy,
 * the docroots), so the review report cannot disagree with what `cdktf apply` would create. Which
 * of those this config's stack creates, and where its External ID comes from, is read from
 * src/modes/half-ownership.ts: in modes "bucket-owner" and "transfer-host" the rest is the other
 * party's, and the model still holds it as this config expects it to be.
 */
import { type Access, type Config, type InstallTarget, isLoopbackHost, type OtherHalfStateConfig, type StateConfig } from '../config/schema';
import { accessKeyFacts, installsAccessKey } from '../aspera/access-key';
import { docrootPermissions, grantDocroot } from '../aspera/docroot';
import { grantRoleArn, grantRoleName, grantRolePathOf, hostRoleArn, hostRoleName, normalizePrefix } from '../iam/arns';
import { ExternalIds } from '../modes/external-id';
import { halfOwnership, type ExternalIdSource, type HalfOwnership } from '../modes/half-ownership';
import type { Mode } from '../modes/mode';
import { fleetAction, fleetTargets } from '../aspera/fleets';
import { ssmCorePolicyArn } from '../iam/fleet-policy';
import { type HostPolicyForm, hostAssumableRoles, hostMayAssume } from '../iam/host-policy';
import type { PolicyDocument, PolicyStatement, Principal } from '../iam/policy-document';
import { grantPermissionsPolicy } from '../iam/roles';
import type { KeyArnOf } from '../iam/kms-access';
import { keyPolicyNamesRolePath } from '../iam/key-policy';
import { accountOfArn } from '../aws/arns';
import { bucketKmsKey, type BucketKmsKey, kmsKeyOfBucket } from '../s3/bucket-encryption';
import { grantRoleTrustPolicy } from '../iam/trust-policy';
import { s3Uri } from '../aws/arns';

/** One Allow statement of a grant role's S3 policy: these actions on this resource, under this condition. */
export interface S3Permission {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  /** Conditions rendered for people, e.g. 's3:prefix StringLike "incoming/a/*"'; empty when none. */
  readonly conditions: readonly string[];
}

/** Who may assume a grant role: the trust policy's principals and the conditions they must meet. */
export interface TrustSummary {
  readonly principals: readonly string[];
  /** The sts:ExternalId the trust policy requires, if any; during a rotation both values, joined with ", ". */
  readonly externalId?: string;
  /** The aws:PrincipalArn the trust policy requires (the transfer host role), if any. */
  readonly principalArn?: string;
  /** Every condition, rendered, in policy order. */
  readonly conditions: readonly string[];
}

export interface AsperaHostTarget {
  /** "host:port": how the host is named everywhere in the report. */
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly asperaConfPath: string;
  /** "retired": true: the next apply runs the uninstall there; no docroot is installed on it. */
  readonly retired: boolean;
  /** Where the install script calls the Node API on the host, when a grant is installed as an access key. */
  readonly nodeApiUrl?: string;
  /** How that call's certificate is checked (src/aspera/node-api-access-keys.sh decides it the same way), with nodeApiUrl. */
  readonly nodeApiTls?: string;
}

/** A group of instances configured through SSM State Manager (src/constructs/aspera-fleets.ts). */
export interface AsperaFleetTarget {
  readonly name: string;
  /** Each association target as a reviewer reads it, e.g. 'tag "aws:autoscaling:groupName" = "aspera-asg"'. */
  readonly targets: readonly string[];
  readonly asperaConfPath: string;
  /** What the association runs on every matching instance, those launched later included. */
  readonly runs: 'install' | 'uninstall';
  readonly complianceSeverity: string;
  readonly waitForSuccessSeconds: number;
  /** "s3://bucket/prefix/" when the full command output goes to S3. */
  readonly outputLocation?: string;
  /** Where the install script calls the Node API on each instance, when a grant is installed as an access key. */
  readonly nodeApiUrl?: string;
}

/** The KMS key of a grant's bucket, as the review describes it. */
export interface GrantKmsKey {
  /** "created": this stack creates it for the bucket; "my-account": an existing key of My Account; "other-account": another account's key. */
  readonly owner: 'created' | 'my-account' | 'other-account';
  /** The key's ARN; for a created key, how the report names it. */
  readonly arn: string;
  /** The KMS actions the role's policy allows on it (through S3 only). */
  readonly actions: readonly string[];
  /** A created key whose policy names the stack's role path (the list of roles would not fit). */
  readonly keyPolicyNamesRolePath?: true;
}

export interface GrantAccess {
  readonly transferUser: string;
  readonly bucket: string;
  /** True when this stack creates (and on destroy deletes) the bucket. */
  readonly bucketCreated: boolean;
  /** Normalized: "" for the whole bucket, else without a trailing "/". */
  readonly prefix: string;
  readonly access: Access;
  /** "s3://bucket/" or "s3://bucket/prefix/": where the transfer user lands. */
  readonly location: string;
  readonly roleName: string;
  readonly roleArn: string;
  /** Every S3 action the role's policy allows, in policy order, without duplicates. */
  readonly actions: readonly string[];
  /** The role's S3 policy, statement by statement (Allow statements; its guards are in `guards`). */
  readonly permissions: readonly S3Permission[];
  /** The Deny statements of the role's policy, rendered for people: what no allow can override. */
  readonly guards: readonly S3Permission[];
  /** The bucket's KMS key when it is SSE-KMS (src/s3/bucket-encryption.ts). */
  readonly kmsKey?: GrantKmsKey;
  readonly trust: TrustSummary;
  /** Whether the transfer host role's identity policy lets it assume this grant's role. */
  readonly hostMayAssume: boolean;
  /** What the hosts get for this grant ("installAs"): a docroot, a Node API access key, or both. */
  readonly installAs: readonly InstallTarget[];
  /** The docroot as it would be written (meaningful when installAs has "docroot"). */
  readonly docroot: string;
  readonly confPermissions: { readonly readAllowed: boolean; readonly writeAllowed: boolean; readonly dirAllowed: boolean };
  /** The Node API access key, when installAs has "access-key": its id, storage path and STS session name (src/aspera/access-key.ts). */
  readonly accessKey?: { readonly id: string; readonly path: string; readonly sessionName: string };
  /** Hosts ("host:port") that get this grant (its docroot, its access key or both). */
  readonly hosts: readonly string[];
  /** Fleets whose instances get this grant. */
  readonly fleets: readonly string[];
}

export interface AccessModel {
  readonly stackName: string;
  readonly mode: Mode;
  /** What this config's stack creates; everything else in the model is the other party's. */
  readonly ownership: HalfOwnership;
  readonly myAccount: { readonly accountId: string; readonly region: string };
  readonly otherAccount: { readonly accountId: string; readonly region: string };
  /** `managed`: created by this stack, an existing role this stack adds a policy to, or the other party's. */
  readonly hostRole: { readonly name: string; readonly arn: string; readonly managed: HalfOwnership['hostRole'] };
  /**
   * The host policy's form ("hostPolicy"), the grant roles' IAM path, and the role ARNs (or the one
   * ARN pattern) the host role's policy allows sts:AssumeRole on.
   */
  readonly hostPolicy: { readonly form: HostPolicyForm; readonly grantRolePath: string; readonly assumable: readonly string[] };
  /**
   * Where the External ID comes from; only "config" has a value. Otherwise trust.externalId and
   * the docroots hold EXTERNAL_ID_STAND_IN where the value will be.
   */
  readonly externalId: ExternalIdSource;
  /**
   * During a rotation ("nextExternalId"): the value the trust accepts besides the current one, and
   * the one every docroot carries (src/modes/external-id.ts).
   */
  readonly nextExternalId?: string;
  /** `keyCreated`: this stack also creates the bucket's KMS key ("encryption": "sse-kms" without kmsKeyArn). */
  readonly buckets: readonly { readonly name: string; readonly created: boolean; readonly keyCreated: boolean }[];
  readonly hosts: readonly AsperaHostTarget[];
  readonly fleets: readonly AsperaFleetTarget[];
  /**
   * What the instance role needs for the fleets: AmazonSSMManagedInstanceCore attached by this
   * stack (a created role), or required of an existing role; undefined without fleets.
   */
  readonly ssmCorePolicy?: { readonly arn: string; readonly attachedByThisStack: boolean };
  readonly grants: readonly GrantAccess[];
  readonly state: StateConfig;
  /** The other half's state this half reads at plan time (modes "bucket-owner" and "transfer-host"). */
  readonly otherHalfState?: OtherHalfStateConfig;
}

const asList = (value: string | readonly string[]): string[] => (typeof value === 'string' ? [value] : [...value]);

function principalsOf(principal: Principal | undefined): string[] {
  if (principal === undefined) return [];
  if (principal === '*') return ['*'];
  if ('AWS' in principal) return asList(principal.AWS);
  return asList(principal.Service);
}

function renderConditions(statement: PolicyStatement): string[] {
  const rendered: string[] = [];
  for (const [operator, entries] of Object.entries(statement.Condition ?? {})) {
    for (const [key, value] of Object.entries(entries ?? {})) {
      rendered.push(`${key} ${operator} ${asList(value).map((v) => JSON.stringify(v)).join(' or ')}`);
    }
  }
  return rendered;
}

function conditionValue(statements: readonly PolicyStatement[], key: string): string | undefined {
  for (const statement of statements) {
    const value = statement.Condition?.StringEquals?.[key];
    if (value !== undefined) return asList(value).join(', ');
  }
  return undefined;
}

/** The trust policy as a reviewer reads it. Only Allow statements for sts:AssumeRole grant entry. */
export function summarizeTrust(document: PolicyDocument): TrustSummary {
  const allows = document.Statement.filter((s) => s.Effect === 'Allow' && s.Action.includes('sts:AssumeRole'));
  const externalId = conditionValue(allows, 'sts:ExternalId');
  const principalArn = conditionValue(allows, 'aws:PrincipalArn');
  return {
    principals: [...new Set(allows.flatMap((s) => principalsOf(s.Principal)))],
    ...(externalId === undefined ? {} : { externalId }),
    ...(principalArn === undefined ? {} : { principalArn }),
    conditions: allows.flatMap(renderConditions),
  };
}

export function summarizePermissions(document: PolicyDocument, effect: 'Allow' | 'Deny' = 'Allow'): S3Permission[] {
  return document.Statement.filter((s) => s.Effect === effect).map((s) => ({
    actions: [...s.Action],
    resources: [...(s.Resource ?? [])],
    conditions: renderConditions(s),
  }));
}

export const hostTargetId = (host: { host: string; port: number }): string =>
  // IPv6 addresses get brackets so the port stays readable.
  host.host.includes(':') ? `[${host.host}]:${host.port}` : `${host.host}:${host.port}`;

export { EXTERNAL_ID_STAND_IN } from '../modes/external-id';

/** How the report names a key this stack creates (its ARN is known only after apply). */
export const createdKeyName = (bucket: string): string => `the KMS key this stack creates for ${s3Uri(bucket)}`;

const keyInReport: KeyArnOf = (key) => (key.kind === 'given' ? key.arn : createdKeyName(key.bucket));

/** `namesRolePath`: per bucket with a created key, whether its key policy names the role path (asked once per bucket: it renders the policy). */
function kmsKeyOf(config: Config, key: BucketKmsKey, actions: string[], namesRolePath: (bucket: string) => boolean): GrantKmsKey {
  if (key.kind === 'created') return { owner: 'created', arn: keyInReport(key), actions, ...(namesRolePath(key.bucket) ? { keyPolicyNamesRolePath: true as const } : {}) };
  return { owner: accountOfArn(key.arn) === config.myAccount.accountId ? 'my-account' : 'other-account', arn: key.arn, actions };
}

/** How the host script checks the Node API's certificate, in words (the script's rule: node-api-access-keys.sh). */
function nodeApiTls(nodeApi: Config['asperaHosts'][number]['nodeApi']): string {
  if (nodeApi.url.startsWith('http://')) return 'plain http, to the host itself';
  if (nodeApi.caFile !== undefined) return `certificate verified with ${nodeApi.caFile}`;
  return isLoopbackHost(nodeApi.url.replace(/^https:\/\//, '').replace(/:\d+$/, '')) ? 'certificate not verified (loopback: the traffic stays on the host)' : "certificate verified with the host's system CAs";
}

export function accessModel(config: Config): AccessModel {
  const ownership = halfOwnership(config);
  const rolePathByBucket = new Map<string, boolean>();
  const namesRolePath = (bucket: string): boolean => rolePathByBucket.get(bucket) ?? rolePathByBucket.set(bucket, keyPolicyNamesRolePath(config, bucket)).get(bucket)!;
  const externalId = ownership.externalId;
  // The config the policy and docroot functions see: its own External ID, or the stand-in.
  const externalIds = ExternalIds.from(externalId, ownership.nextExternalId);
  const rendered = externalIds.inReport(config);
  // The docroots carry the External ID the hosts present: the next one during a rotation.
  const presented = externalIds.presented.inReport(config);
  const created = new Map(config.buckets.map((b) => [b.name, ownership.createdBuckets.includes(b.name)]));
  const hosts: AsperaHostTarget[] = config.asperaHosts.map((h) => ({
    id: hostTargetId(h),
    host: h.host,
    port: h.port,
    user: h.user,
    asperaConfPath: h.asperaConfPath,
    retired: h.retired,
    ...(config.grants.some(installsAccessKey) ? { nodeApiUrl: h.nodeApi.url, nodeApiTls: nodeApiTls(h.nodeApi) } : {}),
  }));
  const fleets: AsperaFleetTarget[] = ownership.installsDocroots
    ? config.asperaFleets.map((f) => ({
        name: f.name,
        targets: fleetTargets(f).map((t) => `tag ${JSON.stringify(t.key.replace(/^tag:/, ''))} = ${t.values.map((v) => JSON.stringify(v)).join(' or ')}`),
        asperaConfPath: f.asperaConfPath,
        runs: fleetAction(f),
        complianceSeverity: f.complianceSeverity,
        waitForSuccessSeconds: f.waitForSuccessSeconds,
        ...(f.outputS3 === undefined ? {} : { outputLocation: s3Uri(f.outputS3.bucket, f.outputS3.keyPrefix === undefined ? '' : `${f.outputS3.keyPrefix}/`) }),
        ...(config.grants.some(installsAccessKey) ? { nodeApiUrl: f.nodeApi.url } : {}),
      }))
    : [];
  const trust = summarizeTrust(grantRoleTrustPolicy(rendered));
  const grants = config.grants.map((grant): GrantAccess => {
    const prefix = normalizePrefix(grant.prefix);
    const key = kmsKeyOfBucket(config, grant.bucket);
    const policy = grantPermissionsPolicy(rendered, grant, keyInReport);
    const permissions = summarizePermissions(policy);
    const kmsActions = [...new Set(permissions.flatMap((p) => p.actions).filter((a) => a.startsWith('kms:')))];
    const roleArn = grantRoleArn(rendered, grant);
    return {
      transferUser: grant.transferUser,
      bucket: grant.bucket,
      bucketCreated: created.get(grant.bucket) === true,
      prefix,
      access: grant.access,
      location: s3Uri(grant.bucket, prefix === '' ? '' : `${prefix}/`),
      roleName: grantRoleName(rendered, grant),
      roleArn,
      actions: [...new Set(permissions.flatMap((p) => p.actions))],
      permissions,
      guards: summarizePermissions(policy, 'Deny'),
      ...(key === undefined ? {} : { kmsKey: kmsKeyOf(config, key, kmsActions, namesRolePath) }),
      trust,
      hostMayAssume: hostMayAssume(rendered, roleArn),
      installAs: [...grant.installAs],
      docroot: grantDocroot(presented, grant),
      confPermissions: docrootPermissions(grant),
      ...(installsAccessKey(grant) ? { accessKey: (({ id, path, sessionName }) => ({ id, path, sessionName }))(accessKeyFacts(config, grant)) } : {}),
      hosts: ownership.installsDocroots ? hosts.filter((h) => !h.retired).map((h) => h.id) : [],
      fleets: fleets.filter((f) => f.runs === 'install').map((f) => f.name),
    };
  });
  return {
    stackName: config.stackName,
    mode: config.mode,
    ownership,
    myAccount: { accountId: config.myAccount.accountId, region: config.myAccount.region },
    otherAccount: { accountId: config.otherAccount.accountId, region: config.otherAccount.region },
    hostRole: { name: hostRoleName(config), arn: hostRoleArn(config), managed: ownership.hostRole },
    hostPolicy: { form: config.hostPolicy, grantRolePath: grantRolePathOf(config), assumable: hostAssumableRoles(rendered) },
    externalId,
    ...(ownership.nextExternalId === undefined ? {} : { nextExternalId: ownership.nextExternalId }),
    buckets: config.buckets.map((b) => ({ name: b.name, created: created.get(b.name) === true, keyCreated: created.get(b.name) === true && bucketKmsKey(b)?.kind === 'created' })),
    hosts: ownership.installsDocroots ? hosts : [],
    fleets,
    ...(fleets.length === 0 ? {} : { ssmCorePolicy: { arn: ssmCorePolicyArn(config), attachedByThisStack: ownership.hostRole === 'created' } }),
    grants,
    state: config.state,
    ...(config.otherHalfState === undefined ? {} : { otherHalfState: config.otherHalfState }),
  };
}
