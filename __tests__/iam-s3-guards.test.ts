/**
 * The guards every grant role's S3 policy carries (src/iam/s3-access.ts), whoever owns the bucket
 * and whatever its bucket policy says, decided by the independent IAM engine
 * (@cloud-copilot/iam-simulate) over the synthesized policies of every valid fixture:
 *  - over TLS, in a bucket of My Account, the grant does what its access level allows;
 *  - without TLS (aws:SecureTransport false) every request on its bucket is explicitly denied, even
 *    when the bucket's policy allows everything;
 *  - in a bucket of another account with the same name (a deleted bucket's name taken over), every
 *    request is refused, even when that bucket's policy lets anyone in: S3 sets s3:ResourceAccount
 *    to the bucket's owner, and each allow holds only for My Account;
 *  - a reader has nothing to do with uploads: no s3:PutObject, no multipart actions.
 * Action lists and account IDs are written by hand (helpers/access-matrix.ts, FIXTURE_CASES).
 */
import {
  decideOnce,
  EXPECTED,
  FIXTURE_CASES,
  grantRoleRequest,
  readSynthesizedAccess,
  takenOverBucket,
  THIRD_ACCOUNT,
  type Decision,
  type ExpectedGrant,
  type PolicyDoc,
  type SynthesizedAccess,
} from './helpers/access-matrix';
import { fixtureConfigInput, synthConfig } from './helpers/synth';

describe.each(FIXTURE_CASES)('$fixture', (c) => {
  let access: SynthesizedAccess;
  beforeAll(() => {
    access = readSynthesizedAccess(synthConfig(fixtureConfigInput(c.fixture)));
  });

  const bucketArn = (bucket: string) => `arn:${c.partition}:s3:::${bucket}`;
  const under = (prefix: string, key: string) => (prefix === '' ? key : `${prefix}/${key}`);
  /** Each action the grant is allowed, on the resource it is allowed on, in the context Aspera uses. */
  const allowedRequests = (grant: ExpectedGrant): Array<{ action: string; resource: string; context: Record<string, string> }> => {
    const listContext: Record<string, string> = grant.prefix === '' ? {} : { 's3:prefix': `${grant.prefix}/` };
    return [
      ...EXPECTED[grant.access].object.map((action) => ({ action, resource: `${bucketArn(grant.bucket)}/${under(grant.prefix, 'batch-7/report.bin')}`, context: {} })),
      ...EXPECTED[grant.access].bucket.map((action) => ({ action, resource: bucketArn(grant.bucket), context: listContext })),
    ];
  };
  const inline = (grant: ExpectedGrant): PolicyDoc[] => {
    const role = access.roles.get(`${c.myAccount}/${grant.role}`);
    if (role === undefined) throw new Error(`no role ${grant.role}; synthesized: ${[...access.roles.keys()].join(', ')}`);
    return role.inline;
  };

  describe.each(c.grants)('$role ($access on $bucket/$prefix)', (grant) => {
    const as = (request: { action: string; resource: string; context?: Record<string, string>; resourceAccount?: string; resourcePolicy?: PolicyDoc }): Promise<Decision> =>
      decideOnce(grantRoleRequest(access, c, grant.role, request));

    test('its policy starts with the TLS-only deny on its bucket, and every allow names My Account as the bucket owner', () => {
      const [policy] = inline(grant);
      expect(policy.Statement[0]).toEqual({
        Sid: 'DenyWithoutTls',
        Effect: 'Deny',
        Action: ['s3:*'],
        Resource: [bucketArn(grant.bucket), `${bucketArn(grant.bucket)}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      });
      const s3Allows = policy.Statement.filter((s) => s.Effect === 'Allow' && ([s.Action].flat() as string[]).some((a) => a.startsWith('s3:')));
      expect(s3Allows.length).toBeGreaterThan(0);
      for (const statement of s3Allows) {
        expect([statement.Sid, (statement.Condition as any)?.StringEquals?.['s3:ResourceAccount']]).toEqual([statement.Sid, c.myAccount]);
      }
    });

    test('over TLS, in its bucket of My Account: every action of its access level is allowed', async () => {
      for (const request of allowedRequests(grant)) {
        expect([request.action, await as(request)]).toEqual([request.action, 'Allowed']);
      }
    });

    test('without TLS: objects and listing explicitly denied, even where the bucket policy allows everything', async () => {
      const openBucketPolicy: PolicyDoc = {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: [bucketArn(grant.bucket), `${bucketArn(grant.bucket)}/*`] }],
      };
      for (const request of allowedRequests(grant)) {
        const insecure = { ...request, context: { ...request.context, 'aws:SecureTransport': 'false' } };
        expect([request.action, await as(insecure)]).toEqual([request.action, 'ExplicitlyDenied']);
        expect([request.action, 'open bucket policy', await as({ ...insecure, resourcePolicy: openBucketPolicy })]).toEqual([request.action, 'open bucket policy', 'ExplicitlyDenied']);
      }
    });

    test.each([
      ['a third account', THIRD_ACCOUNT],
      ['Other Account (the transfer host\'s)', c.otherAccount],
    ])('in a same-named bucket of %s that lets anyone in: every action of its access level refused', async (_whose, account) => {
      const takenOver = takenOverBucket(c, grant.bucket, account);
      for (const request of allowedRequests(grant)) {
        const there = { ...request, ...takenOver, context: { ...request.context, ...takenOver.context } };
        expect([request.action, await as(there)]).toEqual([request.action, 'ImplicitlyDenied']);
        // The same request, were the bucket's owner My Account: the owner pin alone refuses it above.
        expect([request.action, 'if owned by My Account', await as({ ...there, context: { ...there.context, 's3:ResourceAccount': c.myAccount } })]).toEqual([
          request.action,
          'if owned by My Account',
          'Allowed',
        ]);
      }
    });

    test('without s3:ResourceAccount in the request, nothing is allowed (the pin fails closed)', async () => {
      for (const request of allowedRequests(grant)) {
        const { context, ...rest } = grantRoleRequest(access, c, grant.role, request);
        const { 's3:ResourceAccount': _owner, ...withoutOwner } = context ?? {};
        expect([request.action, await decideOnce({ ...rest, context: withoutOwner })]).toEqual([request.action, 'ImplicitlyDenied']);
      }
    });

    if (grant.access === 'read-only') {
      test('a reader cannot upload: no s3:PutObject, no multipart actions, no deletes', async () => {
        const object = `${bucketArn(grant.bucket)}/${under(grant.prefix, 'batch-7/report.bin')}`;
        for (const [action, resource] of [
          ['s3:PutObject', object],
          ['s3:AbortMultipartUpload', object],
          ['s3:ListMultipartUploadParts', object],
          ['s3:DeleteObject', object],
          ['s3:ListBucketMultipartUploads', bucketArn(grant.bucket)],
        ]) {
          expect([action, await as({ action, resource })]).toEqual([action, 'ImplicitlyDenied']);
        }
        const actions = inline(grant).flatMap((p) => p.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => [s.Action].flat() as string[]));
        expect(actions.filter((a) => /Put|Delete|Multipart/.test(a))).toEqual([]);
      });
    }
  });
});
