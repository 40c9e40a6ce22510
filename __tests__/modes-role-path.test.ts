/**
 * Two organizations and the host policy's form: both halves publish the grant-role path their
 * config uses and check the other half's, so a bucket owner and an operator that disagree on
 * "hostPolicy" fail the plan instead of leaving roles the host can never assume. Expected values
 * are written by hand from docs/what-the-stack-creates.md (path /aspera/<stackName>/; "/" for the exact list).
 */
import { BUCKET_OWNER_HALF_ID, TRANSFER_HOST_HALF_ID } from '../src/modes/compose';
import { baseConfigInput, halvesOf, synthConfig, type TerraformJson } from './helpers/synth';

const checksOf = (tf: TerraformJson, id: string): Array<{ condition: string; error_message: string }> =>
  tf.data?.terraform_remote_state?.[id]?.lifecycle?.postcondition ?? [];
const pathCheck = (tf: TerraformJson, id: string) => {
  const found = checksOf(tf, id).filter((c) => c.condition.includes('grant_role_path'));
  expect(found).toHaveLength(1);
  return found[0];
};

describe.each([
  ['role-path', '/aspera/media/'],
  ['exact-roles', '/'],
] as const)('halves with "hostPolicy": "%s"', (hostPolicy, path) => {
  let bucketOwner: TerraformJson;
  let transferHost: TerraformJson;
  beforeAll(() => {
    const halves = halvesOf(baseConfigInput({ stackName: 'media', hostPolicy }), { otherHalfState: true });
    bucketOwner = synthConfig(halves.bucketOwner);
    transferHost = synthConfig(halves.transferHost);
  });

  test(`both halves publish the grant-role path ${path}`, () => {
    expect(bucketOwner.output?.grant_role_path?.value).toBe(path);
    expect(transferHost.output?.grant_role_path?.value).toBe(path);
  });

  test("each half checks the other's path; one that publishes none (an older half) counts as \"/\"", () => {
    expect(pathCheck(transferHost, BUCKET_OWNER_HALF_ID).condition).toBe(`\${coalesce(self.outputs.grant_role_path, "/") == "${path}"}`);
    expect(pathCheck(bucketOwner, TRANSFER_HOST_HALF_ID).condition).toBe(`\${coalesce(self.outputs.grant_role_path, "/") == "${path}"}`);
    expect(pathCheck(transferHost, BUCKET_OWNER_HALF_ID).error_message).toContain(`but this config uses ${path} ("hostPolicy": "${hostPolicy}"). Both halves must set the same "hostPolicy"`);
    // A missing output reaches the check as null rather than failing with "Unsupported attribute".
    expect(bucketOwner.data?.terraform_remote_state?.[TRANSFER_HOST_HALF_ID]?.defaults?.grant_role_path).toBeNull();
    expect(transferHost.data?.terraform_remote_state?.[BUCKET_OWNER_HALF_ID]?.defaults?.grant_role_path).toBeNull();
  });

  test('the bucket owner creates the roles where the operator\'s policy and docroots expect them', () => {
    const roleArn = `arn:aws:iam::111111111111:role${path}media-xfer2`;
    expect(bucketOwner.output?.grant_role_arns?.value).toEqual({ xfer2: roleArn });
    expect(bucketOwner.resource?.aws_iam_role?.grant_xfer2?.path).toBe(hostPolicy === 'role-path' ? path : undefined);
    const hostPolicyDoc = JSON.parse(transferHost.resource?.aws_iam_role_policy?.transfer_host?.policy);
    expect(hostPolicyDoc.Statement[0].Resource).toEqual([hostPolicy === 'role-path' ? `arn:aws:iam::111111111111:role${path}*` : roleArn]);
    const docroots = JSON.stringify(transferHost.output?.docroots?.value);
    expect(docroots).toContain(encodeURIComponent(roleArn));
  });
});

test('a bucket owner with the path form and an operator with the exact list fail each other\'s check', () => {
  const pathHalves = halvesOf(baseConfigInput({ stackName: 'media', hostPolicy: 'role-path' }), { otherHalfState: true });
  const exactHalves = halvesOf(baseConfigInput({ stackName: 'media' }), { otherHalfState: true });
  const bucketOwner = synthConfig(pathHalves.bucketOwner);
  const transferHost = synthConfig(exactHalves.transferHost);
  const published = bucketOwner.output?.grant_role_path?.value;
  const expected = /== "(.*)"\}$/.exec(pathCheck(transferHost, BUCKET_OWNER_HALF_ID).condition)?.[1];
  expect([published, expected]).toEqual(['/aspera/media/', '/']);
});
