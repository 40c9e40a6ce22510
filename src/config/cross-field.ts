/**
 * Checks across fields: rules that relate two or more fields (accounts and partitions, where the
 * state may live, the host policy's form, fleets). Each check declares the fields it reads, so it
 * runs whenever none of those has a problem (see below); the mode rules are in modes.ts.
 */
import type { z } from 'zod';
import { grantRolePathOf } from '../aws/arns';
import { partitionOf, partitionOfArn, s3EndpointProblem } from '../aws/partitions';
import { canonicalHost } from '../ssh/host-address';
import { type ConfigShape, MAX_ASSOCIATION_TARGETS, SCRIPT_MARKERS } from './fields';

// ---- Cross-field checks -------------------------------------------------------------------------
//
// zod skips refinements on an object as soon as any of its fields failed, so a typo in one field
// would hide, say, a grant that names an undeclared bucket until the next run. Instead every
// cross-field check declares the fields it reads and runs whenever none of those has a problem:
// all problems are reported in one run, and no check ever sees a value that failed validation.

/** A JSON path whose "*" elements match any key or index. */
export type PathPattern = readonly (string | number)[];

export interface CrossFieldCheck {
  reads: readonly PathPattern[];
  check(config: ConfigShape, report: (path: readonly PropertyKey[], message: string) => void): void;
}

/** The paths an issue says are wrong (an unknown key concerns that key, not its object's other fields). */
export const issuePaths = (issue: z.core.$ZodRawIssue): (readonly PropertyKey[])[] => {
  const path = issue.path ?? [];
  return issue.code === 'unrecognized_keys' ? (issue.keys as string[]).map((key) => [...path, key]) : [path];
};

/** True when the issue is about the pattern's field, inside it, or about one of its parents. */
export function overlaps(issuePath: readonly PropertyKey[], pattern: PathPattern): boolean {
  const common = Math.min(issuePath.length, pattern.length);
  for (let i = 0; i < common; i++) if (pattern[i] !== '*' && pattern[i] !== issuePath[i]) return false;
  return true;
}

export const quote = (value: string) => JSON.stringify(value);

const accountChecks = (key: 'myAccount' | 'otherAccount'): CrossFieldCheck[] => [
  {
    reads: [[key, 'profile'], [key, 'assumeRoleArn']],
    check(config, report) {
      const account = config[key];
      if (account.profile !== undefined && account.assumeRoleArn !== undefined) {
        report([key, 'assumeRoleArn'], 'give either "profile" or "assumeRoleArn", not both');
      }
    },
  },
  {
    reads: [[key, 'accountId'], [key, 'assumeRoleArn']],
    check(config, report) {
      const account = config[key];
      if (account.assumeRoleArn !== undefined && account.assumeRoleArn.split(':')[4] !== account.accountId) {
        report([key, 'assumeRoleArn'], `must be a role in account ${account.accountId} (${key}.accountId), so that resources land where they belong`);
      }
    },
  },
  {
    reads: [[key, 'region'], [key, 'assumeRoleArn']],
    check(config, report) {
      const account = config[key];
      if (account.assumeRoleArn !== undefined && partitionOfArn(account.assumeRoleArn) !== partitionOf(account.region)) {
        report([key, 'assumeRoleArn'], `must be an ARN in partition "${partitionOf(account.region)}" (that of ${key}.region ${account.region})`);
      }
    },
  },
];

// Terraform state holds the External ID (and every value of the stack). It must not sit where a
// transfer user can read: not in a bucket this stack creates for transfers, nor one a grant names.
// S3 bucket names are global per partition and lowercase; compared lowercased all the same, so
// that no spelling can slip past.
const sameBucket = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

const STATE_CHECKS: readonly CrossFieldCheck[] = [
  {
    reads: [['state'], ['buckets', '*', 'name'], ['buckets', '*', 'create'], ['grants', '*', 'bucket']],
    check(config, report) {
      if (config.state.backend !== 's3') return;
      const stateBucket = config.state.bucket;
      const created = config.buckets.findIndex((b) => b.create && sameBucket(b.name, stateBucket));
      if (created >= 0) {
        report(['state', 'bucket'], `is buckets[${created}], a bucket this stack creates for transfers (and destroys with it); keep the state, which holds the External ID, in a bucket of its own`);
      }
      const granted = config.grants.flatMap((g, i) => (sameBucket(g.bucket, stateBucket) ? [`grants[${i}] (${g.transferUser})`] : []));
      if (granted.length > 0) {
        report(['state', 'bucket'], `is a bucket that ${granted.join(', ')} give${granted.length === 1 ? 's' : ''} transfer access to: a transfer user could read the state, which holds the External ID; keep it in a bucket no grant names`);
      }
    },
  },
  {
    reads: [['otherHalfState'], ['grants', '*', 'bucket']],
    check(config, report) {
      if (config.otherHalfState === undefined) return;
      const { bucket } = config.otherHalfState;
      const granted = config.grants.flatMap((g, i) => (sameBucket(g.bucket, bucket) ? [`grants[${i}] (${g.transferUser})`] : []));
      if (granted.length > 0) {
        report(['otherHalfState', 'bucket'], `is a bucket that ${granted.join(', ')} give${granted.length === 1 ? 's' : ''} transfer access to: a transfer user could read that state, which holds the External ID; keep it in a bucket no grant names`);
      }
    },
  },
  {
    reads: [['state'], ['otherHalfState']],
    check(config, report) {
      const own = config.state;
      const other = config.otherHalfState;
      // The same object is the same bucket (any region or profile) and exactly the same key (S3 keys are case-sensitive).
      if (own.backend !== 's3' || other === undefined || !sameBucket(own.bucket, other.bucket) || own.key !== other.key) return;
      report(['otherHalfState', 'key'], `is this stack's own state (state.bucket ${quote(own.bucket)}, state.key ${quote(own.key)}): the other half's state is the object the other party's stack writes; ask them for its key`);
    },
  },
  {
    reads: [['state']],
    check(config, report) {
      const state = config.state;
      if (state.backend !== 's3' || state.kmsKeyId === undefined || !state.kmsKeyId.startsWith('arn:')) return;
      const [, partition, , region] = state.kmsKeyId.split(':');
      if (partition !== partitionOf(state.region)) {
        report(['state', 'kmsKeyId'], `must be an ARN in partition "${partitionOf(state.region)}" (that of state.region ${state.region})`);
      } else if (region !== state.region) {
        report(['state', 'kmsKeyId'], `must be a key in the state bucket's region ${state.region} (state.region), not ${region}: S3 encrypts with a key of its own region`);
      }
    },
  },
];

export const CROSS_FIELD_CHECKS: readonly CrossFieldCheck[] = [
  ...accountChecks('myAccount'),
  ...accountChecks('otherAccount'),
  {
    reads: [['myAccount', 'accountId'], ['otherAccount', 'accountId']],
    check(config, report) {
      if (config.myAccount.accountId === config.otherAccount.accountId) {
        report(['otherAccount', 'accountId'], 'must differ from myAccount.accountId: this stack grants access across two accounts');
      }
    },
  },
  {
    reads: [['myAccount', 'region'], ['otherAccount', 'region']],
    check(config, report) {
      if (partitionOf(config.myAccount.region) !== partitionOf(config.otherAccount.region)) {
        report(['otherAccount', 'region'], 'must be in the same AWS partition as myAccount.region (IAM roles cannot be assumed across partitions)');
      }
    },
  },
  {
    reads: [['buckets', '*', 'name']],
    check(config, report) {
      const first = new Map<string, number>();
      config.buckets.forEach((b, i) => {
        const seen = first.get(b.name);
        if (seen !== undefined) report(['buckets', i, 'name'], `duplicate bucket ${quote(b.name)} (also buckets[${seen}])`);
        else first.set(b.name, i);
      });
    },
  },
  {
    reads: [['buckets', '*', 'create'], ['buckets', '*', 'encryption'], ['buckets', '*', 'kmsKeyArn']],
    check(config, report) {
      config.buckets.forEach((b, i) => {
        if (!b.create && b.encryption !== undefined) {
          report(['buckets', i, 'encryption'], 'is only for a bucket this stack creates ("create": true): an existing bucket keeps its encryption; name its KMS key with "kmsKeyArn" if it uses SSE-KMS');
        }
        if (b.create && b.kmsKeyArn !== undefined && b.encryption !== 'sse-kms') {
          report(['buckets', i, 'kmsKeyArn'], 'needs "encryption": "sse-kms" on a bucket this stack creates (with "sse-s3", the default, no KMS key is used)');
        }
      });
    },
  },
  {
    // S3 uses a KMS key of the bucket's own region only; and IAM cannot name a key of another partition.
    reads: [['buckets', '*', 'kmsKeyArn'], ['myAccount', 'region']],
    check(config, report) {
      const region = config.myAccount.region;
      config.buckets.forEach((b, i) => {
        if (b.kmsKeyArn === undefined) return;
        const [, keyPartition, , keyRegion] = b.kmsKeyArn.split(':');
        if (keyPartition !== partitionOf(region)) {
          report(['buckets', i, 'kmsKeyArn'], `must be a key in partition "${partitionOf(region)}" (that of myAccount.region ${region}), not "${keyPartition}": S3 cannot use a key of another partition`);
        } else if (keyRegion !== region) {
          report(['buckets', i, 'kmsKeyArn'], `must be a key in ${region} (myAccount.region, where the buckets are), not ${keyRegion}: S3 encrypts with a key of the bucket's own region only`);
        }
      });
    },
  },
  {
    reads: [['buckets', '*', 'name'], ['grants', '*', 'bucket']],
    check(config, report) {
      const declared = config.buckets.map((b) => b.name);
      config.grants.forEach((g, i) => {
        if (!declared.includes(g.bucket)) {
          report(['grants', i, 'bucket'], `names bucket ${quote(g.bucket)}, which is not declared in "buckets" (declared: ${declared.map(quote).join(', ')})`);
        }
      });
    },
  },
  {
    reads: [['grants', '*', 'transferUser']],
    check(config, report) {
      const first = new Map<string, number>();
      config.grants.forEach((g, i) => {
        const seen = first.get(g.transferUser);
        if (seen !== undefined) {
          report(['grants', i, 'transferUser'], `duplicate transfer user ${quote(g.transferUser)} (also grants[${seen}]): an Aspera user has one docroot`);
        } else first.set(g.transferUser, i);
      });
    },
  },
  {
    reads: [['stackName'], ['grants', '*', 'transferUser'], ['grants', '*', 'roleName']],
    check(config, report) {
      // IAM role names are unique per account regardless of case.
      const first = new Map<string, number>();
      config.grants.forEach((g, i) => {
        const name = g.roleName ?? `${config.stackName}-${g.transferUser}`;
        const seen = first.get(name.toLowerCase());
        if (name.length > 64) {
          report(
            ['grants', i, 'roleName'],
            `the derived role name ${quote(name)} is longer than 64 characters; set a shorter stackName or a "roleName" for this grant`,
          );
        } else if (seen !== undefined) {
          // Two derived names collide only when the transfer users do, which is reported above.
          if (g.roleName === undefined && config.grants[seen].roleName === undefined) return;
          report(['grants', i, 'roleName'], `role name ${quote(name)} is also used by grants[${seen}] (IAM role names are case-insensitive)`);
        } else first.set(name.toLowerCase(), i);
      });
    },
  },
  {
    reads: [['asperaHosts', '*', 'host'], ['asperaHosts', '*', 'port']],
    check(config, report) {
      const first = new Map<string, number>();
      config.asperaHosts.forEach((h, i) => {
        // "ASPERA.example.com." is aspera.example.com, "0:0:0:0:0:0:0:1" is ::1, "::ffff:10.0.0.1" is 10.0.0.1.
        const key = `${canonicalHost(h.host)}:${h.port}`;
        const seen = first.get(key);
        if (seen === undefined) first.set(key, i);
        else {
          const other = config.asperaHosts[seen].host;
          const spelling = other.toLowerCase() === h.host.toLowerCase() ? '' : `: ${quote(h.host)} and ${quote(other)} are the same host`;
          report(['asperaHosts', i, 'host'], `duplicate host ${quote(`${h.host}:${h.port}`)} (also asperaHosts[${seen}])${spelling}`);
        }
      });
    },
  },
  {
    reads: [['s3Endpoint'], ['myAccount', 'region']],
    check(config, report) {
      if (config.s3Endpoint === undefined) return;
      const problem = s3EndpointProblem(config.s3Endpoint, config.myAccount.region);
      if (problem !== undefined) report(['s3Endpoint'], problem);
    },
  },
  ...STATE_CHECKS,
];

// ---- The host policy's form (src/iam/host-policy.ts) --------------------------------------------

// The exact list's size is checked with every other IAM limit, on the rendered policies
// (src/iam/limits.ts), whose message points at "role-path".
export const HOST_POLICY_CHECKS: readonly CrossFieldCheck[] = [
  {
    // Mode "transfer-host" names the bucket owner's roles by ARN: in the path form the host may
    // assume only roles under the stack's path, so a role elsewhere could never be used.
    reads: [['hostPolicy'], ['stackName'], ['grants', '*', 'roleArn']],
    check(config, report) {
      if (config.hostPolicy !== 'role-path') return;
      const path = grantRolePathOf(config);
      config.grants.forEach((g, i) => {
        if (g.roleArn !== undefined && !g.roleArn.includes(`:role${path}`)) {
          report(
            ['grants', i, 'roleArn'],
            `must be a role under the IAM path ${path} with "hostPolicy": "role-path" (the host role may assume only roles there); the bucket owner's half creates its grant roles there when its config has the same stackName and hostPolicy`,
          );
        }
      });
    },
  },
];

// ---- Node API access keys (src/aspera/access-key.ts) ---------------------------------------------

const nodeApiCaChecks = (key: 'asperaHosts' | 'asperaFleets'): CrossFieldCheck => ({
  reads: [[key, '*', 'nodeApi']],
  check(config, report) {
    config[key].forEach((target, i) => {
      if (target.nodeApi.caFile !== undefined && target.nodeApi.url.startsWith('http://')) {
        report([key, i, 'nodeApi', 'caFile'], `is for an https URL; nodeApi.url ${quote(target.nodeApi.url)} is plain http: remove caFile or use https`);
      }
    });
  },
});

/** Every string of a value, with its path. */
function stringsWithPaths(value: unknown, path: (string | number)[] = []): [(string | number)[], string][] {
  if (typeof value === 'string') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsWithPaths(v, [...path, i]));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => stringsWithPaths(v, [...path, k]));
  return [];
}

export const ACCESS_KEY_CHECKS: readonly CrossFieldCheck[] = [
  nodeApiCaChecks('asperaHosts'),
  nodeApiCaChecks('asperaFleets'),
  {
    reads: [],
    check(config, report) {
      for (const [path, value] of stringsWithPaths(config)) {
        const marker = Object.values(SCRIPT_MARKERS).find((m) => value.includes(m));
        if (marker !== undefined) report(path, `must not contain "${marker}": the host scripts use that word for a value Terraform puts in at apply, and it would put it here too`);
      }
    },
  },
];

// ---- Aspera fleets (src/constructs/aspera-fleets.ts) --------------------------------------------

export const FLEET_CHECKS: readonly CrossFieldCheck[] = [
  {
    reads: [['asperaFleets', '*', 'name']],
    check(config, report) {
      const first = new Map<string, number>();
      config.asperaFleets.forEach((f, i) => {
        const seen = first.get(f.name);
        if (seen !== undefined) report(['asperaFleets', i, 'name'], `duplicate fleet ${quote(f.name)} (also asperaFleets[${seen}])`);
        else first.set(f.name, i);
      });
    },
  },
  {
    reads: [['asperaFleets', '*', 'targets']],
    check(config, report) {
      config.asperaFleets.forEach((f, i) => {
        const tags = f.targets.tags ?? [];
        tags.forEach((t, j) => {
          const k = tags.findIndex((u) => u.key === t.key);
          if (k !== j) report(['asperaFleets', i, 'targets', 'tags', j, 'key'], `duplicate tag key ${quote(t.key)} (also tags[${k}]): list its values together`);
        });
        const keys = (f.targets.autoScalingGroupName === undefined ? 0 : 1) + tags.length;
        if (keys === 0) {
          report(['asperaFleets', i, 'targets'], 'must name "autoScalingGroupName" or at least one tag: without a target the association would match no instance');
        } else if (keys > MAX_ASSOCIATION_TARGETS) {
          report(['asperaFleets', i, 'targets'], `has ${keys} targets (the Auto Scaling group counts as one tag); an SSM association takes at most ${MAX_ASSOCIATION_TARGETS}`);
        }
      });
    },
  },
  {
    reads: [['stackName'], ['asperaFleets']],
    check(config, report) {
      if (config.asperaFleets.length > 0 && /^(aws|amazon|amzn)/i.test(config.stackName)) {
        report(['stackName'], 'must not start with "aws", "amazon" or "amzn" when "asperaFleets" is used: it begins the SSM document names, and AWS reserves those prefixes');
      }
    },
  },
  {
    reads: [['buckets', '*', 'name'], ['asperaFleets', '*', 'outputS3', 'bucket']],
    check(config, report) {
      const declared = new Set(config.buckets.map((b) => b.name));
      config.asperaFleets.forEach((f, i) => {
        if (f.outputS3 !== undefined && declared.has(f.outputS3.bucket)) {
          report(['asperaFleets', i, 'outputS3', 'bucket'], `names ${quote(f.outputS3.bucket)}, a bucket of myAccount declared in "buckets": the command output goes to a bucket of otherAccount, where the instances write it with their own role`);
        }
      });
    },
  },
  {
    reads: [['buckets', '*', 'name'], ['asperaFleets', '*', 'scriptS3', 'bucket']],
    check(config, report) {
      const declared = new Set(config.buckets.map((b) => b.name));
      config.asperaFleets.forEach((f, i) => {
        if (declared.has(f.scriptS3.bucket)) {
          report(['asperaFleets', i, 'scriptS3', 'bucket'], `names ${quote(f.scriptS3.bucket)}, a bucket of myAccount declared in "buckets": the fleet scripts hold the External ID and go to a bucket of otherAccount, which this stack writes with the other_account provider and the instances read with their own role`);
        }
      });
    },
  },
];

