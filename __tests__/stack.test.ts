/**
 * The synthesized stack, resource by resource: what lands in which account, how the buckets are
 * hardened, what each role trusts, what the outputs say, and where Terraform keeps state.
 * Each config is synthesized once; expected values are written out from docs/what-the-stack-creates.md by hand.
 */
import { DataAwsIamRole } from '@cdktf/provider-aws/lib/data-aws-iam-role';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { type TerraformResource, Testing } from 'cdktf';
import 'cdktf/lib/testing/adapters/jest';
import { grantDocroot } from '../src/aspera/docroot';
import { AsperaHostConfiguration } from '../src/constructs/aspera-hosts';
import { hostRoleAccess } from '../src/iam/roles';
import { S3_BACKEND_OVERRIDES, type S3BackendOverrides } from '../src/state-backend';
import { AsperaCrossAccountStack } from '../src/stack';
import {
  baseConfigInput,
  fixtureConfigInput,
  halvesOf,
  resolveReference,
  resourceOf,
  resourcesOfType,
  synthConfig,
  terraformAddresses,
  validConfig,
  type TerraformJson,
} from './helpers/synth';

Testing.setupJest();

const MY = 'aws.my_account';
const OTHER = 'aws.other_account';

/**
 * Every AWS "type.name" address in the plan, resources and data sources. (The Aspera host
 * construct's null_resources are issue 3's and are checked by its own tests.)
 */
function addresses(tf: TerraformJson): string[] {
  return terraformAddresses(tf).filter((address) => /^(data\.)?aws_/.test(address));
}

const json = (text: string) => JSON.parse(text);

describe('minimal config: created bucket, created host role, profiles, local state', () => {
  let tf: TerraformJson;
  let raw: string;
  beforeAll(() => {
    tf = synthConfig(fixtureConfigInput('minimal.json'));
    raw = JSON.stringify(tf);
  });

  test('two aliased AWS providers, each pinned to its account and profile, no default provider', () => {
    expect(tf.provider?.aws).toHaveLength(2);
    expect(raw).toHaveProviderWithProperties(AwsProvider, {
      alias: 'my_account',
      region: 'us-east-1',
      profile: 'my-account',
      allowed_account_ids: ['111111111111'],
    });
    expect(raw).toHaveProviderWithProperties(AwsProvider, {
      alias: 'other_account',
      region: 'us-east-1',
      profile: 'other-account',
      allowed_account_ids: ['222222222222'],
    });
    for (const provider of tf.provider!.aws) expect(provider.assume_role).toBeUndefined();
  });

  test('the plan reads well: exactly these resources, named after buckets, grants and the host', () => {
    expect(addresses(tf)).toEqual(
      [
        'aws_iam_instance_profile.transfer_host',
        'aws_iam_role.grant_xfer2',
        'aws_iam_role.transfer_host',
        'aws_iam_role_policy.grant_xfer2',
        'aws_iam_role_policy.transfer_host',
        'aws_s3_bucket.bucket_acme-aspera-inbox',
        'aws_s3_bucket_ownership_controls.bucket_acme-aspera-inbox',
        'aws_s3_bucket_policy.bucket_acme-aspera-inbox',
        'aws_s3_bucket_public_access_block.bucket_acme-aspera-inbox',
        'aws_s3_bucket_server_side_encryption_configuration.bucket_acme-aspera-inbox',
      ],
    );
  });

  test('bucket owner resources go to My Account, transfer host resources to Other Account', () => {
    const account = (address: string) => {
      const [type, name] = address.split('.');
      return resourceOf(tf, type, name).provider;
    };
    expect(addresses(tf).length).toBeGreaterThan(0);
    for (const address of addresses(tf)) {
      expect([address, account(address)]).toEqual([address, address.includes('transfer_host') ? OTHER : MY]);
    }
  });

  test('the created bucket is private, encrypted, owner-enforced and TLS-only', () => {
    expect(resourceOf(tf, 'aws_s3_bucket', 'bucket_acme-aspera-inbox')).toMatchObject({ bucket: 'acme-aspera-inbox', provider: MY });
    expect(raw).toHaveResourceWithProperties(S3BucketPublicAccessBlock, {
      bucket: '${aws_s3_bucket.bucket_acme-aspera-inbox.bucket}',
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(resourceOf(tf, 'aws_s3_bucket_server_side_encryption_configuration', 'bucket_acme-aspera-inbox').rule).toEqual([
      { apply_server_side_encryption_by_default: { sse_algorithm: 'AES256' } },
    ]);
    expect(raw).toHaveResourceWithProperties(S3BucketOwnershipControls, { rule: { object_ownership: 'BucketOwnerEnforced' } });
    const policy = resourceOf(tf, 'aws_s3_bucket_policy', 'bucket_acme-aspera-inbox');
    expect(json(policy.policy)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: ['s3:*'],
          Resource: ['arn:aws:s3:::acme-aspera-inbox', 'arn:aws:s3:::acme-aspera-inbox/*'],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    });
    for (const type of [
      'aws_s3_bucket_public_access_block',
      'aws_s3_bucket_server_side_encryption_configuration',
      'aws_s3_bucket_ownership_controls',
      'aws_s3_bucket_policy',
    ]) {
      expect([type, resolveReference(tf, resourceOf(tf, type, 'bucket_acme-aspera-inbox').bucket)]).toEqual([type, 'acme-aspera-inbox']);
      // By the bucket's "bucket" attribute (the configured name: the plan shows it), never its
      // "id" (computed: "(known after apply)" on a first plan); still a reference, so it waits.
      expect([type, resourceOf(tf, type, 'bucket_acme-aspera-inbox').bucket]).toEqual([type, '${aws_s3_bucket.bucket_acme-aspera-inbox.bucket}']);
    }
  });

  test('the bucket policy waits for the public access block (S3 rejects both at once)', () => {
    expect(resourceOf(tf, 'aws_s3_bucket_policy', 'bucket_acme-aspera-inbox').depends_on).toEqual([
      'aws_s3_bucket_public_access_block.bucket_acme-aspera-inbox',
    ]);
  });

  test('the grant role trusts only the host role of Other Account, only with the External ID', () => {
    expect(raw).toHaveResourceWithProperties(IamRole, { name: 'aspera-cross-account-xfer2', provider: MY, tags: { TransferUser: 'xfer2' } });
    const role = resourceOf(tf, 'aws_iam_role', 'grant_xfer2');
    expect(json(role.assume_role_policy)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'TransferHostRoleWithExternalId',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::222222222222:root' },
          Action: ['sts:AssumeRole'],
          Condition: {
            StringEquals: {
              'sts:ExternalId': 'aspera-7f3c9e21',
              'aws:PrincipalArn': 'arn:aws:iam::222222222222:role/aspera-transfer-host',
            },
          },
        },
      ],
    });
  });

  test('the grant role policy: the read-write Aspera actions on the whole bucket, after the bucket is hardened', () => {
    const policy = resourceOf(tf, 'aws_iam_role_policy', 'grant_xfer2');
    expect(resolveReference(tf, policy.role)).toBe('aspera-cross-account-xfer2');
    expect(json(policy.policy)).toEqual({
      Version: '2012-10-17',
      Statement: [
        // TLS only, whatever the bucket policy says.
        {
          Sid: 'DenyWithoutTls',
          Effect: 'Deny',
          Action: ['s3:*'],
          Resource: ['arn:aws:s3:::acme-aspera-inbox', 'arn:aws:s3:::acme-aspera-inbox/*'],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
        // Each allow only while the bucket is My Account's (111111111111).
        {
          Sid: 'AsperaObjects',
          Effect: 'Allow',
          Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
          Resource: ['arn:aws:s3:::acme-aspera-inbox/*'],
          Condition: { StringEquals: { 's3:ResourceAccount': '111111111111' } },
        },
        {
          Sid: 'AsperaBucket',
          Effect: 'Allow',
          Action: ['s3:ListBucket', 's3:ListBucketMultipartUploads', 's3:GetBucketLocation'],
          Resource: ['arn:aws:s3:::acme-aspera-inbox'],
          Condition: { StringEquals: { 's3:ResourceAccount': '111111111111' } },
        },
      ],
    });
    expect([...policy.depends_on].sort()).toEqual(
      [
        'aws_s3_bucket.bucket_acme-aspera-inbox',
        'aws_s3_bucket_ownership_controls.bucket_acme-aspera-inbox',
        'aws_s3_bucket_policy.bucket_acme-aspera-inbox',
        'aws_s3_bucket_public_access_block.bucket_acme-aspera-inbox',
        'aws_s3_bucket_server_side_encryption_configuration.bucket_acme-aspera-inbox',
      ].sort(),
    );
  });

  test('the host role is an EC2 service role with an instance profile of the same name', () => {
    const role = resourceOf(tf, 'aws_iam_role', 'transfer_host');
    expect(role.name).toBe('aspera-transfer-host');
    expect(json(role.assume_role_policy)).toEqual({
      Version: '2012-10-17',
      Statement: [{ Sid: 'Ec2InstancesAssumeHostRole', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: ['sts:AssumeRole'] }],
    });
    expect(raw).toHaveResourceWithProperties(IamInstanceProfile, { name: 'aspera-transfer-host', role: '${aws_iam_role.transfer_host.name}', provider: OTHER });
    expect(raw).not.toHaveDataSource(DataAwsIamRole);
  });

  test('the host role may assume exactly the grant role', () => {
    const policy = resourceOf(tf, 'aws_iam_role_policy', 'transfer_host');
    expect(resolveReference(tf, policy.role)).toBe('aspera-transfer-host');
    expect(policy.name).toBe('aspera-cross-account-assume-grant-roles');
    expect(json(policy.policy)).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'AssumeAsperaGrantRoles', Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: ['arn:aws:iam::111111111111:role/aspera-cross-account-xfer2'] },
      ],
    });
  });

  test('outputs: role ARN and docroot per transfer user, host role, instance profile, sensitive External ID', () => {
    expect(tf.output?.grant_role_arns).toMatchObject({ value: { xfer2: 'arn:aws:iam::111111111111:role/aspera-cross-account-xfer2' } });
    expect(tf.output?.grant_role_arns?.sensitive).toBeFalsy();
    // s3://{url-encoded role ARN}@s3.amazonaws.com/{bucket};iam-role.external-id={External ID}
    expect(tf.output?.docroots).toMatchObject({
      value: { xfer2: 's3://arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Faspera-cross-account-xfer2@s3.amazonaws.com/acme-aspera-inbox;iam-role.external-id=aspera-7f3c9e21' },
      sensitive: true,
    });
    expect(tf.output?.transfer_host_role_arn?.value).toBe('arn:aws:iam::222222222222:role/aspera-transfer-host');
    expect(resolveReference(tf, tf.output?.instance_profile_name?.value)).toBe('aspera-transfer-host');
    expect(tf.output?.external_id).toMatchObject({ value: 'aspera-7f3c9e21', sensitive: true });
  });

  test('local state by default', () => {
    // cdktf's LocalBackend default: terraform.{stack}.tfstate next to where cdktf runs.
    expect(tf.terraform.backend).toEqual({ local: { path: expect.stringMatching(/\/terraform\.aspera-cross-account\.tfstate$/) } });
  });
});

describe('two buckets, prefixes, existing host role, assumeRoleArn, S3 state', () => {
  let tf: TerraformJson;
  let raw: string;
  beforeAll(() => {
    tf = synthConfig(fixtureConfigInput('two-buckets-prefixes.json'));
    raw = JSON.stringify(tf);
  });

  test('providers assume the configured role in each account instead of a profile', () => {
    const [my, other] = ['my_account', 'other_account'].map((alias) => tf.provider!.aws.find((p) => p.alias === alias)!);
    expect(my).toMatchObject({ region: 'eu-central-1', allowed_account_ids: ['444444444444'], assume_role: [{ role_arn: 'arn:aws:iam::444444444444:role/terraform', session_name: 'acme-exchange' }] });
    expect(other).toMatchObject({ region: 'eu-west-1', allowed_account_ids: ['555555555555'], assume_role: [{ role_arn: 'arn:aws:iam::555555555555:role/ops/terraform', session_name: 'acme-exchange' }] });
    expect(my.profile).toBeUndefined();
    expect(other.profile).toBeUndefined();
  });

  test('only the create:true bucket is created; a dotted bucket name still gives a valid Terraform name', () => {
    expect(addresses(tf).filter((a) => a.startsWith('aws_s3_'))).toEqual([
      'aws_s3_bucket.bucket_acme-aspera-inbox',
      'aws_s3_bucket_ownership_controls.bucket_acme-aspera-inbox',
      'aws_s3_bucket_policy.bucket_acme-aspera-inbox',
      'aws_s3_bucket_public_access_block.bucket_acme-aspera-inbox',
      'aws_s3_bucket_server_side_encryption_configuration.bucket_acme-aspera-inbox',
    ]);
    expect(raw).not.toContain('bucket_acme.partner-archive');
  });

  test('grants on an existing bucket are still scoped to it (and to their prefix), with nothing to wait for', () => {
    const policy = resourceOf(tf, 'aws_iam_role_policy', 'grant_partner_a');
    expect(policy.depends_on).toBeUndefined();
    expect(resolveReference(tf, policy.role)).toBe('acme-partner-a-reader');
    // An existing bucket gets the same guards as a created one (TLS only, owned by My Account
    // 444444444444); read-only: nothing about multipart uploads.
    const owned = { 's3:ResourceAccount': '444444444444' };
    expect(json(policy.policy).Statement).toEqual([
      {
        Sid: 'DenyWithoutTls',
        Effect: 'Deny',
        Action: ['s3:*'],
        Resource: ['arn:aws:s3:::acme.partner-archive', 'arn:aws:s3:::acme.partner-archive/*'],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
      { Sid: 'AsperaObjects', Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::acme.partner-archive/exchange/partner-a/*'], Condition: { StringEquals: owned } },
      {
        Sid: 'AsperaListUnderPrefix',
        Effect: 'Allow',
        Action: ['s3:ListBucket'],
        Resource: ['arn:aws:s3:::acme.partner-archive'],
        Condition: { StringEquals: owned, StringLike: { 's3:prefix': ['exchange/partner-a/*'] } },
      },
      { Sid: 'AsperaBucket', Effect: 'Allow', Action: ['s3:GetBucketLocation'], Resource: ['arn:aws:s3:::acme.partner-archive'], Condition: { StringEquals: owned } },
    ]);
  });

  test('one role per grant, named {stackName}-{transferUser} unless the grant names it', () => {
    const names = Object.entries(resourcesOfType(tf, 'aws_iam_role')).map(([address, role]) => [address, role.name]);
    expect(names.sort()).toEqual([
      ['grant_partner_a', 'acme-partner-a-reader'],
      ['grant_xfer2', 'acme-exchange-xfer2'],
      ['grant_xfer3', 'acme-exchange-xfer3'],
    ]);
  });

  test('the existing host role is not created: the policy is attached to it by name', () => {
    expect(raw).not.toHaveResource(IamInstanceProfile);
    expect(resourcesOfType(tf, 'aws_iam_role').transfer_host).toBeUndefined();
    const policy = resourceOf(tf, 'aws_iam_role_policy', 'transfer_host');
    expect(policy).toMatchObject({ role: 'aspera-node-ec2', name: 'acme-exchange-assume-grant-roles', provider: OTHER });
    expect(json(policy.policy).Statement[0].Resource).toEqual([
      'arn:aws:iam::444444444444:role/acme-exchange-xfer2',
      'arn:aws:iam::444444444444:role/acme-exchange-xfer3',
      'arn:aws:iam::444444444444:role/acme-partner-a-reader',
    ]);
    expect(tf.output?.instance_profile_name).toBeUndefined();
  });

  test('plan fails if the existing host role is not the ARN the grant roles trust (e.g. a role path)', () => {
    expect(raw).toHaveDataSourceWithProperties(DataAwsIamRole, { name: 'aspera-node-ec2', provider: OTHER });
    const [check] = tf.data!.aws_iam_role.transfer_host.lifecycle.postcondition;
    expect(check.condition).toBe('${self.arn == "arn:aws:iam::555555555555:role/aspera-node-ec2"}');
    expect(check.error_message).toContain('hostRole.existingRoleName');
  });

  test('every trust policy names the existing host role', () => {
    for (const [name, role] of Object.entries(resourcesOfType(tf, 'aws_iam_role'))) {
      const condition = json(role.assume_role_policy).Statement[0].Condition.StringEquals;
      expect([name, condition]).toEqual([name, { 'sts:ExternalId': 'acme:partner/7f3c=9e21', 'aws:PrincipalArn': 'arn:aws:iam::555555555555:role/aspera-node-ec2' }]);
    }
  });

  test('docroots: one per transfer user, exactly what src/aspera/docroot.ts installs, with bucket and prefix', () => {
    // How each part is encoded is docroot.ts's contract (and its tests'); here: the right grant
    // lands under the right transfer user, with its role, bucket and prefix.
    const config = validConfig(fixtureConfigInput('two-buckets-prefixes.json'));
    const docroots = tf.output?.docroots?.value as Record<string, string>;
    expect(Object.keys(docroots).sort()).toEqual(['partner_a', 'xfer2', 'xfer3']);
    for (const grant of config.grants) expect(docroots[grant.transferUser]).toBe(grantDocroot(config, grant));
    expect(docroots.xfer2).toMatch(/^s3:\/\/arn%3Aaws%3Aiam%3A%3A444444444444%3Arole%2Facme-exchange-xfer2@s3\.amazonaws\.com\/acme-aspera-inbox;/);
    expect(docroots.xfer3).toMatch(/^s3:\/\/arn%3Aaws%3Aiam%3A%3A444444444444%3Arole%2Facme-exchange-xfer3@s3\.amazonaws\.com\/acme-aspera-inbox\/incoming\/xfer3;/);
    expect(docroots.partner_a).toMatch(/^s3:\/\/arn%3Aaws%3Aiam%3A%3A444444444444%3Arole%2Facme-partner-a-reader@s3\.amazonaws\.com\/acme\.partner-archive\/exchange\/partner-a;/);
  });

  test('S3 state: encrypted and locked with a lock file (use_lockfile override), no DynamoDB table', () => {
    // Pins the typed override: cdktf's S3BackendConfig has no use_lockfile, so it goes in by addOverride.
    const overrides: S3BackendOverrides = { use_lockfile: true };
    expect(S3_BACKEND_OVERRIDES).toEqual(overrides);
    expect(tf.terraform.backend).toEqual({
      s3: {
        bucket: 'acme-terraform-state',
        key: 'aspera/exchange.tfstate',
        region: 'eu-central-1',
        profile: 'state',
        encrypt: true,
        use_lockfile: true,
      },
    });
  });
});

describe('GovCloud, existing buckets only, S3 state with a KMS key', () => {
  let tf: TerraformJson;
  beforeAll(() => {
    tf = synthConfig(fixtureConfigInput('govcloud-existing-buckets.json'));
  });

  test('ARNs use the partition of the regions', () => {
    expect(tf.output?.grant_role_arns?.value).toEqual({ ingest: 'arn:aws-us-gov:iam::666666666666:role/gov-aspera-ingest' });
    expect(json(resourceOf(tf, 'aws_iam_role', 'grant_ingest').assume_role_policy).Statement[0]).toMatchObject({
      Principal: { AWS: 'arn:aws-us-gov:iam::777777777777:root' },
      Condition: { StringEquals: { 'aws:PrincipalArn': 'arn:aws-us-gov:iam::777777777777:role/gov-aspera-host' } },
    });
    const statements = json(resourceOf(tf, 'aws_iam_role_policy', 'grant_ingest').policy).Statement;
    expect(statements.find((st: { Sid: string }) => st.Sid === 'AsperaObjects').Resource).toEqual(['arn:aws-us-gov:s3:::gov-landing/drop/ingest/*']);
    expect(statements.find((st: { Sid: string }) => st.Sid === 'DenyWithoutTls').Resource).toEqual(['arn:aws-us-gov:s3:::gov-landing', 'arn:aws-us-gov:s3:::gov-landing/*']);
  });

  test('no S3 resources at all when every bucket already exists', () => {
    expect(Object.keys(tf.resource ?? {}).filter((type) => type.startsWith('aws_s3_'))).toEqual([]);
  });

  test('S3 state encrypted with the configured KMS key', () => {
    expect(tf.terraform.backend?.s3).toMatchObject({ encrypt: true, kms_key_id: 'alias/terraform-state', use_lockfile: true });
  });
});

describe('a created bucket with dots in its name', () => {
  test('gets Terraform names with "_" for "." and keeps its real name', () => {
    const tf = synthConfig(
      baseConfigInput({
        buckets: [{ name: 'acme.aspera.inbox', create: true }],
        grants: [{ transferUser: 'xfer2', bucket: 'acme.aspera.inbox', access: 'read-only' }],
      }),
    );
    expect(resourceOf(tf, 'aws_s3_bucket', 'bucket_acme_aspera_inbox').bucket).toBe('acme.aspera.inbox');
    expect(resolveReference(tf, resourceOf(tf, 'aws_s3_bucket_policy', 'bucket_acme_aspera_inbox').bucket)).toBe('acme.aspera.inbox');
  });
});

describe('Aspera host configuration wiring', () => {
  test('is instantiated once and waits for bucket hardening, grant roles, their policies and the host policy', () => {
    const app = Testing.app();
    const config = validConfig(fixtureConfigInput('two-buckets-prefixes.json'));
    const stack = new AsperaCrossAccountStack(app, config.stackName, config);
    expect(stack.node.findChild('aspera_hosts')).toBeInstanceOf(AsperaHostConfiguration);
    const waitsFor = stack.asperaHostDependencies.map((d) => {
      const resource = d as TerraformResource;
      return `${resource.terraformResourceType}.${resource.friendlyUniqueId}`;
    });
    expect([...waitsFor].sort()).toEqual(
      [
        'aws_s3_bucket.bucket_acme-aspera-inbox',
        'aws_s3_bucket_public_access_block.bucket_acme-aspera-inbox',
        'aws_s3_bucket_server_side_encryption_configuration.bucket_acme-aspera-inbox',
        'aws_s3_bucket_ownership_controls.bucket_acme-aspera-inbox',
        'aws_s3_bucket_policy.bucket_acme-aspera-inbox',
        'aws_iam_role.grant_xfer2',
        'aws_iam_role_policy.grant_xfer2',
        'aws_iam_role.grant_xfer3',
        'aws_iam_role_policy.grant_xfer3',
        'aws_iam_role.grant_partner_a',
        'aws_iam_role_policy.grant_partner_a',
        'aws_iam_role_policy.transfer_host',
      ].sort(),
    );
  });
});

describe('a host role with a path (hostRole.path)', () => {
  test.each([
    [{ existingRoleName: 'aspera-node', path: '/ops/' }, 'arn:aws:iam::222222222222:role/ops/aspera-node'],
    [{ name: 'aspera-node', path: '/ops/aspera/' }, 'arn:aws:iam::222222222222:role/ops/aspera/aspera-node'],
  ])('%j: the grant roles trust %s, and the existing role is checked for exactly that ARN', (hostRole, arn) => {
    const tf = synthConfig(baseConfigInput({ hostRole }));
    const trust = JSON.parse(resourceOf(tf, 'aws_iam_role', 'grant_xfer2').assume_role_policy);
    expect(trust.Statement[0].Condition.StringEquals['aws:PrincipalArn']).toBe(arn);
    expect(tf.output?.transfer_host_role_arn?.value).toBe(arn);
    if ('existingRoleName' in hostRole) {
      const [check] = tf.data!.aws_iam_role.transfer_host.lifecycle.postcondition;
      expect(check.condition).toBe(`\${self.arn == "${arn}"}`);
      // The path was given: the message names it and does not tell the reader to set it.
      expect(check.error_message).toBe(`hostRole.existingRoleName: the role "aspera-node" must have the ARN ${arn} (path "/ops/"); the grant roles trust exactly that ARN.`);
      expect(tf.data!.aws_iam_role.transfer_host.name).toBe('aspera-node');
    } else {
      expect(resourceOf(tf, 'aws_iam_role', 'transfer_host')).toMatchObject({ name: 'aspera-node', path: '/ops/aspera/' });
    }
  });
});

test('the transfer host\'s half refuses a host role given by ARN (mode "bucket-owner" only) where it would need to create or find one', () => {
  const config = validConfig(halvesOf(baseConfigInput({ hostRole: { arn: 'arn:aws:iam::222222222222:role/aspera/transfer-host' } })).bucketOwner);
  expect(() => hostRoleAccess(config)).toThrow('hostRole.arn (arn:aws:iam::222222222222:role/aspera/transfer-host): the transfer host\'s half needs hostRole.name or hostRole.existingRoleName');
});
