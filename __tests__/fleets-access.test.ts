/**
 * The access matrix with an Aspera fleet: the instance role now also carries AmazonSSMManagedInstanceCore
 * (the AWS managed policy, from the AWS Managed Policy Reference: fixtures/aws-managed-policies)
 * the S3 command-output policy and the read of the fleet's scripts. Decided by the independent engine (@cloud-copilot/iam-simulate)
 * over what cdk.tf.json attaches. They grant nothing in My Account: every S3 action on the grant
 * buckets, SSM in My Account and AssumeRole without the External ID stay refused, and the
 * host role's My Account decisions are those of the same config without a fleet.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assumeRoleRequest, decide, loadS3Catalog, type PolicyDoc, readSynthesizedAccess, type SynthesizedAccess } from './helpers/access-matrix';
import { baseConfigInput, synthConfig, type TerraformJson } from './helpers/synth';

const MY = '111111111111';
const OTHER = '222222222222';
const HOST_ROLE = 'aspera-transfer-host';
const HOST_SESSION = `arn:aws:sts::${OTHER}:assumed-role/${HOST_ROLE}/i-0123456789abcdef0`;
const HOST_ROLE_ARN = `arn:aws:iam::${OTHER}:role/${HOST_ROLE}`;
const GRANT_ROLE = 'aspera-cross-account-xfer2';
const BUCKET = 'acme-aspera-inbox';
const EXTERNAL_ID = 'aspera-7f3c9e21';
const OUTPUT_BUCKET = 'ops-ssm-output';
const SCRIPTS_BUCKET = 'media-ops-aspera-scripts';

const MANAGED: Record<string, PolicyDoc> = {
  'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore': JSON.parse(
    readFileSync(join(__dirname, 'fixtures', 'aws-managed-policies', 'AmazonSSMManagedInstanceCore.json'), 'utf8'),
  ),
};

const FLEET = { name: 'transfer-asg', targets: { autoScalingGroupName: 'aspera-asg' }, scriptS3: { bucket: SCRIPTS_BUCKET }, outputS3: { bucket: OUTPUT_BUCKET, keyPrefix: 'aspera' } };

/** The host role's identity policies: inline ones, and the managed ones attached to it. */
function hostPolicies(tf: TerraformJson, access: SynthesizedAccess): PolicyDoc[] {
  const inline = access.roles.get(`${OTHER}/${HOST_ROLE}`)?.inline ?? [];
  const managed = Object.values(tf.resource?.aws_iam_role_policy_attachment ?? {}).map((a) => {
    if (a.role !== '${aws_iam_role.transfer_host.name}') throw new Error(`attachment to ${a.role}`);
    const policy = MANAGED[a.policy_arn];
    if (policy === undefined) throw new Error(`no fixture for ${a.policy_arn}`);
    return policy;
  });
  return [...inline, ...managed];
}

let withFleet: PolicyDoc[];
let withoutFleet: PolicyDoc[];
let access: SynthesizedAccess;
beforeAll(() => {
  const tf = synthConfig(baseConfigInput({ asperaFleets: [FLEET] } as never));
  access = readSynthesizedAccess(tf);
  withFleet = hostPolicies(tf, access);
  const plain = synthConfig(baseConfigInput());
  withoutFleet = hostPolicies(plain, readSynthesizedAccess(plain));
});

const asHost = (policies: PolicyDoc[], action: string, resource: string, resourceAccount: string, resourcePolicy?: PolicyDoc) =>
  decide({
    principal: HOST_SESSION,
    action,
    resource,
    resourceAccount,
    context: { 'aws:PrincipalArn': HOST_ROLE_ARN, 'aws:SecureTransport': 'true' },
    identityPolicies: policies,
    ...(resourcePolicy === undefined ? {} : { resourcePolicy }),
  });

test('the host role now holds four policies: the assume policy, the fleet-scripts policy, the command-output policy and AmazonSSMManagedInstanceCore', () => {
  expect(withoutFleet).toHaveLength(1);
  expect(withFleet).toHaveLength(4);
});

test('the instances read their own fleet\'s scripts only: not another stack\'s or customer\'s in the same bucket, and write nothing there', async () => {
  const ours = `arn:aws:s3:::${SCRIPTS_BUCKET}/aspera-cross-account/${MY}/transfer-asg/install-0123456789abcdef.sh`;
  expect(await asHost(withFleet, 's3:GetObject', ours, OTHER)).toBe('Allowed');
  // Another customer (My Account 333333333333) whose stack has the same name, in the same bucket.
  expect(await asHost(withFleet, 's3:GetObject', `arn:aws:s3:::${SCRIPTS_BUCKET}/aspera-cross-account/333333333333/transfer-asg/install-0123456789abcdef.sh`, OTHER)).toBe('ImplicitlyDenied');
  expect(await asHost(withFleet, 's3:GetObject', `arn:aws:s3:::${SCRIPTS_BUCKET}/other-stack/${MY}/transfer-asg/install-0123456789abcdef.sh`, OTHER)).toBe('ImplicitlyDenied');
  expect(await asHost(withFleet, 's3:PutObject', ours, OTHER)).toBe('ImplicitlyDenied');
  expect(await asHost(withFleet, 's3:ListBucket', `arn:aws:s3:::${SCRIPTS_BUCKET}`, OTHER)).toBe('ImplicitlyDenied');
  expect(await asHost(withoutFleet, 's3:GetObject', ours, OTHER)).toBe('ImplicitlyDenied');
});

test('in Other Account the SSM permissions work: the instance reads its document, reports status, writes output under its prefix only', async () => {
  expect(await asHost(withFleet, 'ssm:GetDocument', `arn:aws:ssm:us-east-1:${OTHER}:document/aspera-cross-account-transfer-asg-install-0123abcd`, OTHER)).toBe('Allowed');
  expect(await asHost(withFleet, 'ssm:UpdateInstanceInformation', `arn:aws:ec2:us-east-1:${OTHER}:instance/i-0123456789abcdef0`, OTHER)).toBe('Allowed');
  expect(await asHost(withFleet, 's3:PutObject', `arn:aws:s3:::${OUTPUT_BUCKET}/aspera/cmd/i-0/stdout`, OTHER)).toBe('Allowed');
  expect(await asHost(withFleet, 's3:PutObject', `arn:aws:s3:::${OUTPUT_BUCKET}/elsewhere/stdout`, OTHER)).toBe('ImplicitlyDenied');
  expect(await asHost(withFleet, 's3:GetObject', `arn:aws:s3:::${OUTPUT_BUCKET}/aspera/cmd/i-0/stdout`, OTHER)).toBe('ImplicitlyDenied');
});

describe('nothing in My Account', () => {
  test('every S3 action on the grant bucket and its objects is refused to the host role itself, as without a fleet', async () => {
    const { actionResourceTypes } = await loadS3Catalog();
    const policy = access.bucketPolicies.get(BUCKET);
    expect(policy).toBeDefined();
    let checked = 0;
    for (const { action, resourceTypes } of actionResourceTypes) {
      for (const type of resourceTypes.filter((t) => t === 'bucket' || t === 'object')) {
        const resource = type === 'bucket' ? `arn:aws:s3:::${BUCKET}` : `arn:aws:s3:::${BUCKET}/incoming/file.bin`;
        const [now, before] = await Promise.all([asHost(withFleet, action, resource, MY, policy), asHost(withoutFleet, action, resource, MY, policy)]);
        expect({ action, resource, now }).toEqual({ action, resource, now: before });
        expect({ action, resource, now }).not.toEqual({ action, resource, now: 'Allowed' });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  test.each([
    ['ssm:GetDocument', `arn:aws:ssm:us-east-1:${MY}:document/anything`],
    ['ssm:GetParameter', `arn:aws:ssm:us-east-1:${MY}:parameter/secret`],
    ['ssm:SendCommand', `arn:aws:ssm:us-east-1:${MY}:document/AWS-RunShellScript`],
    ['ssm:UpdateInstanceInformation', `arn:aws:ec2:us-east-1:${MY}:instance/i-0fedcba9876543210`],
  ])('%s on %s is refused (no resource policy lets Other Account in)', async (action, resource) => {
    expect(await asHost(withFleet, action, resource, MY)).not.toBe('Allowed');
  });

  test('the grant role: assumable with the External ID, refused without it, exactly as without a fleet', async () => {
    const trust = access.roles.get(`${MY}/${GRANT_ROLE}`)?.trust;
    const c = { partition: 'aws', myAccount: MY };
    const caller = (policies: PolicyDoc[]) => ({ principal: HOST_SESSION, principalArn: HOST_ROLE_ARN, identityPolicies: policies });
    const decisions = (policies: PolicyDoc[]) =>
      Promise.all([
        decide(assumeRoleRequest(c, GRANT_ROLE, trust, caller(policies), EXTERNAL_ID)),
        decide(assumeRoleRequest(c, GRANT_ROLE, trust, caller(policies))),
        decide(assumeRoleRequest(c, GRANT_ROLE, trust, caller(policies), 'wrong-id')),
        decide(assumeRoleRequest(c, 'some-other-role', undefined, caller(policies), EXTERNAL_ID)),
      ]);
    const now = await decisions(withFleet);
    expect(now[0]).toBe('Allowed');
    expect(now.slice(1).filter((d) => d === 'Allowed')).toEqual([]);
    expect(now).toEqual(await decisions(withoutFleet));
  });
});
