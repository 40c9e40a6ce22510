/**
 * Who can do what, decided by an independent IAM engine (@cloud-copilot/iam-simulate) over the
 * policies read back out of the synthesized cdk.tf.json, i.e. exactly what Terraform applies.
 *
 * The expectations below are written from docs/what-the-stack-creates.md by hand (account IDs, role names, action
 * lists), not computed by the code under test, so widening any policy (an extra action, a broader
 * resource, a dropped condition) turns a test red.
 */
import {
  ADMIN,
  assumeRoleRequest,
  decide,
  EXPECTED,
  FIXTURE_CASES as CASES,
  grantRoleRequest,
  KMS_EXPECTED,
  loadS3Catalog,
  readSynthesizedAccess,
  THIRD_ACCOUNT,
  type ExpectedGrant,
  type PolicyDoc,
  type SynthesizedAccess,
} from './helpers/access-matrix';
import { fixtureConfigInput, synthConfig } from './helpers/synth';

/** Every S3 action with each resource type it can be authorized against (iam-data's service reference). */
let s3ActionResourceTypes: Array<{ action: string; resourceTypes: string[] }>;
let resourceArnTemplates: Map<string, string>;

beforeAll(async () => {
  ({ actionResourceTypes: s3ActionResourceTypes, arnTemplates: resourceArnTemplates } = await loadS3Catalog());
});

describe.each(CASES)('access matrix for $fixture', (c) => {
  let access: SynthesizedAccess;
  const roleArn = (role: string) => `arn:${c.partition}:iam::${c.myAccount}:role/${role}`;
  const hostRoleArn = `arn:${c.partition}:iam::${c.otherAccount}:role/${c.hostRole}`;
  const hostSession = `arn:${c.partition}:sts::${c.otherAccount}:assumed-role/${c.hostRole}/i-0123456789abcdef0`;
  const bucketArn = (bucket: string) => `arn:${c.partition}:s3:::${bucket}`;
  const under = (prefix: string, key: string) => (prefix === '' ? key : `${prefix}/${key}`);

  const grantRole = (grant: ExpectedGrant) => {
    const role = access.roles.get(`${c.myAccount}/${grant.role}`);
    if (role === undefined) throw new Error(`no role ${grant.role} in ${c.myAccount}; synthesized: ${[...access.roles.keys()].join(', ')}`);
    return role;
  };
  const hostPolicies = () => access.roles.get(`${c.otherAccount}/${c.hostRole}`)?.inline ?? [];

  const assume = (grant: ExpectedGrant, principal: string, principalArn: string, identityPolicies: PolicyDoc[], externalId?: string) =>
    decide(assumeRoleRequest(c, grant.role, grantRole(grant).trust, { principal, principalArn, identityPolicies }, externalId));

  /** A request made with a grant role's credentials, as Aspera makes it (over TLS unless told). */
  const asGrant = (grant: ExpectedGrant, action: string, resource: string, context: Record<string, string> = {}) => {
    grantRole(grant); // fails loudly when the role was not synthesized at all
    return decide(grantRoleRequest(access, c, grant.role, { action, resource, context }));
  };

  beforeAll(() => {
    access = readSynthesizedAccess(synthConfig(fixtureConfigInput(c.fixture)));
  });

  test('the synthesized roles are exactly the grant roles in My Account (plus the host role when created)', () => {
    const grantRoles = c.grants.map((g) => `${c.myAccount}/${g.role}`);
    const myRoles = [...access.roles.keys()].filter((k) => k.startsWith(`${c.myAccount}/`));
    expect(myRoles.sort()).toEqual(grantRoles.sort());
    for (const key of grantRoles) expect(access.roles.get(key)?.inline).toHaveLength(1);
    expect(hostPolicies()).toHaveLength(1);
  });

  describe('assuming a grant role', () => {
    test.each(c.grants)('the transfer host role may assume $role with the External ID', async (grant) => {
      expect(await assume(grant, hostSession, hostRoleArn, hostPolicies(), c.externalId)).toBe('Allowed');
    });

    test.each(c.grants)('the transfer host role is refused $role without, or with a wrong, External ID', async (grant) => {
      expect(await assume(grant, hostSession, hostRoleArn, hostPolicies())).not.toBe('Allowed');
      expect(await assume(grant, hostSession, hostRoleArn, hostPolicies(), `${c.externalId}x`)).not.toBe('Allowed');
      expect(await assume(grant, hostSession, hostRoleArn, hostPolicies(), c.externalId.slice(0, -1))).not.toBe('Allowed');
    });

    test.each(c.grants)('the trust policy alone lets the host in: without its identity policy it is refused $role', async (grant) => {
      expect(await assume(grant, hostSession, hostRoleArn, [], c.externalId)).not.toBe('Allowed');
    });

    test.each(c.grants)('another role or user of the host account is refused $role even with admin rights and the External ID', async (grant) => {
      const otherRole = `arn:${c.partition}:iam::${c.otherAccount}:role/some-other-app`;
      const otherSession = `arn:${c.partition}:sts::${c.otherAccount}:assumed-role/some-other-app/s`;
      expect(await assume(grant, otherSession, otherRole, [ADMIN], c.externalId)).not.toBe('Allowed');
      const admin = `arn:${c.partition}:iam::${c.otherAccount}:user/admin`;
      expect(await assume(grant, admin, admin, [ADMIN], c.externalId)).not.toBe('Allowed');
    });

    test.each(c.grants)('a third account is refused $role, even with a role of the same name and the External ID', async (grant) => {
      const sameName = `arn:${c.partition}:iam::${THIRD_ACCOUNT}:role/${c.hostRole}`;
      const session = `arn:${c.partition}:sts::${THIRD_ACCOUNT}:assumed-role/${c.hostRole}/i-0`;
      expect(await assume(grant, session, sameName, [ADMIN], c.externalId)).not.toBe('Allowed');
    });

    test('the transfer host role may assume no other role in My Account, however trusting', async () => {
      const lenientTrust: PolicyDoc = {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:${c.partition}:iam::${c.otherAccount}:root` }, Action: 'sts:AssumeRole' }],
      };
      for (const role of ['OrganizationAccountAccessRole', `${c.grants[0].role}-other`, 'admin']) {
        const decision = await decide({
          principal: hostSession,
          action: 'sts:AssumeRole',
          resource: roleArn(role),
          resourceAccount: c.myAccount,
          context: { 'aws:PrincipalArn': hostRoleArn, 'sts:ExternalId': c.externalId },
          identityPolicies: hostPolicies(),
          resourcePolicy: lenientTrust,
        });
        expect([role, decision]).toEqual([role, 'ImplicitlyDenied']);
      }
    });
  });

  describe.each(c.grants)('what $role ($access on $bucket/$prefix) may do', (grant) => {
    const expected = EXPECTED[grant.access];
    const objectInside = () => `${bucketArn(grant.bucket)}/${under(grant.prefix, 'batch-7/report.bin')}`;

    /** A concrete ARN of each S3 resource type; buckets and objects are this grant's own. */
    const resourceFor = (type: string): string => {
      if (type === 'bucket') return bucketArn(grant.bucket);
      if (type === 'object') return objectInside();
      return resourceArnTemplates
        .get(type)!
        .replace('${Partition}', c.partition)
        .replace('${Account}', c.myAccount)
        .replace('${Region}', 'us-east-1')
        .replace(/\$\{[A-Za-z]+\}/g, 'example');
    };

    test('every S3 action on every resource type: allowed exactly for its access level', async () => {
      const allowed: string[] = [];
      for (const { action, resourceTypes } of s3ActionResourceTypes) {
        // Listing as Aspera does: below the docroot (the whole bucket needs no prefix).
        const context: Record<string, string> = grant.prefix === '' ? {} : { 's3:prefix': `${grant.prefix}/` };
        if (resourceTypes.length === 0) {
          if ((await asGrant(grant, action, '*', context)) === 'Allowed') allowed.push(`${action} *`);
        }
        for (const type of resourceTypes) {
          if ((await asGrant(grant, action, resourceFor(type), context)) === 'Allowed') allowed.push(`${action} ${type}`);
        }
      }
      expect(allowed.sort()).toEqual([...expected.object.map((a) => `${a} object`), ...expected.bucket.map((a) => `${a} bucket`)].sort());
    });

    const kmsKey = c.kmsKeys?.[grant.bucket];
    const outsideS3 = () => [
      ['sts:AssumeRole', roleArn(CASES[0].grants[0].role)],
      ['iam:PassRole', roleArn(grant.role)],
      ['iam:PutRolePolicy', roleArn(grant.role)],
      // A key whose policy lets My Account do anything (the evaluator's default for a key it did not create).
      ['kms:Decrypt', `arn:${c.partition}:kms:us-east-1:${c.myAccount}:key/1234abcd-12ab-34cd-56ef-1234567890ab`],
    ];

    if (kmsKey === undefined) {
      test('nothing outside S3: no role chaining, no IAM, no KMS', async () => {
        for (const [action, resource] of outsideS3()) {
          expect([action, await asGrant(grant, action, resource)]).toEqual([action, 'ImplicitlyDenied']);
        }
        // Allowed: named S3 actions only. (Denied: s3:* without TLS, see below.)
        for (const policy of grantRole(grant).inline) {
          for (const statement of policy.Statement) {
            const pattern = statement.Effect === 'Deny' ? /^s3:\*$/ : /^s3:[A-Za-z]+$/;
            for (const action of [statement.Action].flat() as string[]) expect(action).toMatch(pattern);
          }
        }
      });
    } else {
      // What the grant may do with its bucket's key: iam-kms-access.test.ts.
      test('nothing outside S3 but its bucket\'s KMS key: no role chaining, no IAM, no other key', async () => {
        for (const [action, resource] of outsideS3()) {
          expect([action, await asGrant(grant, action, resource)]).toEqual([action, 'ImplicitlyDenied']);
        }
        // Allowed: named S3 actions, and one statement of its access level's KMS actions on its bucket's key.
        const outsideS3Statements = grantRole(grant).inline.flatMap((policy) =>
          policy.Statement.filter((statement) => {
            const pattern = statement.Effect === 'Deny' ? /^s3:\*$/ : /^s3:[A-Za-z]+$/;
            return !([statement.Action].flat() as string[]).every((a) => pattern.test(a));
          }),
        );
        expect(outsideS3Statements).toEqual([expect.objectContaining({ Effect: 'Allow', Action: KMS_EXPECTED[grant.access], Resource: [kmsKey.arn] })]);
      });
    }

    test('no access to any other bucket', async () => {
      const others = ['acme-unrelated-bucket', ...c.grants.map((g) => g.bucket).filter((b) => b !== grant.bucket)];
      for (const other of others) {
        for (const action of expected.bucket) expect([action, other, await asGrant(grant, action, bucketArn(other))]).toEqual([action, other, 'ImplicitlyDenied']);
        for (const action of expected.object) {
          const key = `${bucketArn(other)}/${under(grant.prefix, 'x.bin')}`;
          expect([action, key, await asGrant(grant, action, key)]).toEqual([action, key, 'ImplicitlyDenied']);
        }
      }
    });

    test('object actions only on keys below the prefix', async () => {
      for (const action of expected.object) expect([action, await asGrant(grant, action, objectInside())]).toEqual([action, 'Allowed']);
      if (grant.prefix === '') return;
      const segments = grant.prefix.split('/');
      const outside = [
        'top-level.bin',
        `${grant.prefix}`, // the "folder" key itself is not below it
        `${grant.prefix}x/file.bin`, // a sibling whose name starts with the prefix
        `${grant.prefix}-old/file.bin`,
        `${segments.slice(0, -1).concat('other').join('/')}/file.bin`,
        `other/${grant.prefix}/file.bin`,
      ];
      for (const action of expected.object) {
        for (const key of outside) {
          const arn = `${bucketArn(grant.bucket)}/${key}`;
          expect([action, key, await asGrant(grant, action, arn)]).toEqual([action, key, 'ImplicitlyDenied']);
        }
      }
    });

    test('listing only below the prefix', async () => {
      const list = (prefix?: string) => asGrant(grant, 's3:ListBucket', bucketArn(grant.bucket), prefix === undefined ? {} : { 's3:prefix': prefix });
      if (grant.prefix === '') {
        expect(await list()).toBe('Allowed');
        expect(await list('any/where/')).toBe('Allowed');
        return;
      }
      for (const inside of [`${grant.prefix}/`, `${grant.prefix}/batch-7/`]) expect([inside, await list(inside)]).toEqual([inside, 'Allowed']);
      // The bare prefix would also list "<prefix>x/..." keys: S3 compares prefixes as strings.
      for (const outside of [undefined, '', grant.prefix, `${grant.prefix}x/`, `${grant.prefix.split('/')[0]}/`, 'other/']) {
        expect([outside, await list(outside)]).toEqual([outside, 'ImplicitlyDenied']);
      }
    });

    test('no bucket administration and no ACLs', async () => {
      const bucket = bucketArn(grant.bucket);
      for (const [action, resource] of [
        ['s3:PutBucketPolicy', bucket],
        ['s3:DeleteBucketPolicy', bucket],
        ['s3:DeleteBucket', bucket],
        ['s3:PutBucketAcl', bucket],
        ['s3:PutBucketPublicAccessBlock', bucket],
        ['s3:PutEncryptionConfiguration', bucket],
        ['s3:PutBucketOwnershipControls', bucket],
        ['s3:PutObjectAcl', objectInside()],
        ['s3:DeleteObjectVersion', objectInside()],
        ['s3:ListAllMyBuckets', '*'],
      ]) {
        expect([action, await asGrant(grant, action, resource)]).toEqual([action, 'ImplicitlyDenied']);
      }
    });

    // Whoever owns the bucket and whatever its policy says: the role's own policy refuses plain HTTP
    // (a created bucket's TLS-only policy refuses it as well).
    test('plain HTTP is refused, by the role\'s own policy', async () => {
      const insecure = { 'aws:SecureTransport': 'false' };
      const listContext = grant.prefix === '' ? insecure : { ...insecure, 's3:prefix': `${grant.prefix}/` };
      const requests: Array<[string, string, Record<string, string>]> = [
        ...expected.object.map((action): [string, string, Record<string, string>] => [action, objectInside(), insecure]),
        ...expected.bucket.map((action): [string, string, Record<string, string>] => [action, bucketArn(grant.bucket), listContext]),
      ];
      for (const [action, resource, context] of requests) {
        expect([action, await asGrant(grant, action, resource, context)]).toEqual([action, 'ExplicitlyDenied']);
        const { resourcePolicy: _bucketPolicy, ...withoutBucketPolicy } = grantRoleRequest(access, c, grant.role, { action, resource, context });
        expect([action, 'without bucket policy', await decide(withoutBucketPolicy)]).toEqual([action, 'without bucket policy', 'ExplicitlyDenied']);
      }
    });
  });

  test('buckets this stack creates carry the TLS-only policy, and only they have a bucket policy', () => {
    expect([...access.bucketPolicies.keys()].sort()).toEqual([...c.createdBuckets].sort());
  });
});
