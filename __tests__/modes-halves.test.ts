/**
 * Two organizations, two halves (mode "bucket-owner" and mode "transfer-host"): what each half's
 * synthesized stack contains, that it touches only its own account, that together the halves are
 * exactly mode "both", and what crosses between them (outputs, remote state, checks).
 *
 * Each config is synthesized once. Expected names and values are written out from docs/two-organizations.md;
 * where a value is compared with another synthesized stack, that is the claim under test (the
 * halves equal mode "both"), not a copy of the output.
 */
import { createHash } from 'node:crypto';
import {
  fixtureConfigInput,
  HALF_STATES,
  halvesOf,
  resolvePlanTime,
  synthConfig,
  terraformAddresses,
  twoOrganizationsConfigInput,
  validFixtureNames,
  type TerraformJson,
} from './helpers/synth';

const MY = 'aws.my_account';
const OTHER = 'aws.other_account';

const addresses = terraformAddresses;

/** Resource bodies without cdktf's "//" metadata, by address. */
function bodies(tf: TerraformJson): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [type, byName] of Object.entries(tf.resource ?? {})) {
    for (const [name, body] of Object.entries(byName)) {
      const { '//': _metadata, ...rest } = body;
      out[`${type}.${name}`] = rest;
    }
  }
  return out;
}

const providerNames = (tf: TerraformJson) => Object.keys(tf.provider ?? {}).sort();
const requiredProviders = (tf: TerraformJson) => Object.keys(tf.terraform.required_providers ?? {}).sort();
const awsAliases = (tf: TerraformJson) => (tf.provider?.aws ?? []).map((p) => `${p.alias}:${p.allowed_account_ids.join(',')}`);

/** The provider every resource and data source of the stack names ("(none)" where none is set). */
function providersUsed(tf: TerraformJson): Map<string, string> {
  const used = new Map<string, string>();
  for (const [type, byName] of Object.entries(tf.resource ?? {})) for (const [name, body] of Object.entries(byName)) used.set(`${type}.${name}`, body.provider ?? '(none)');
  for (const [type, byName] of Object.entries(tf.data ?? {})) {
    if (type === 'terraform_remote_state') continue; // Terraform's built-in data source: no provider, reads with its own credentials.
    for (const [name, body] of Object.entries(byName)) used.set(`data.${type}.${name}`, body.provider ?? '(none)');
  }
  return used;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** An HCL object literal as src/exchange/hcl.ts writes it ({ "k" = "v", ... }), read back as JSON. */
const hclObjectToJson = (literal: string): unknown => JSON.parse(literal.replace(/" = /g, '": '));

describe.each(validFixtureNames())('%s split into two halves (values exchanged through the configs)', (fixture) => {
  let both: TerraformJson;
  let bucketOwner: TerraformJson;
  let transferHost: TerraformJson;
  const input = fixtureConfigInput(fixture);
  const myAccount = input.myAccount.accountId;
  const otherAccount = input.otherAccount.accountId;
  const hasHosts = (input.asperaHosts ?? []).length > 0;
  const hasFleets = (input.asperaFleets ?? []).length > 0;
  // Grants installed as Node API access keys: the transfer-host half generates the seed of their secrets (random_bytes).
  const hasAccessKeys = input.grants.some((g) => (g.installAs ?? []).includes('access-key'));
  // Written out, not derived with the code's own grantRolePathOf: "/aspera/<stackName>/" in the path form.
  const grantRolePath = input.hostPolicy === 'role-path' ? `/aspera/${input.stackName}/` : '/';

  beforeAll(() => {
    const halves = halvesOf(input);
    both = synthConfig(input);
    bucketOwner = synthConfig(halves.bucketOwner);
    transferHost = synthConfig(halves.transferHost);
  });

  test('bucket-owner: only the My Account provider is configured, and every resource uses it', () => {
    expect(providerNames(bucketOwner)).toEqual(['aws']);
    expect(requiredProviders(bucketOwner)).toEqual(['aws']);
    expect(awsAliases(bucketOwner)).toEqual([`my_account:${myAccount}`]);
    const used = providersUsed(bucketOwner);
    expect(used.size).toBeGreaterThan(0);
    for (const [address, provider] of used) expect([address, provider]).toEqual([address, MY]);
  });

  test('bucket-owner: nothing of Other Account, no Aspera host, no generated External ID', () => {
    const all = addresses(bucketOwner);
    expect(all.filter((a) => /transfer_host|instance_profile|null_resource|random_/.test(a))).toEqual([]);
    expect(JSON.stringify(bucketOwner)).not.toContain(OTHER);
    expect(all.filter((a) => a.startsWith('aws_iam_role.')).every((a) => a.startsWith('aws_iam_role.grant_'))).toBe(true);
  });

  test('transfer-host: only the Other Account provider is configured (and null for the hosts, random for the access key seed), and every resource uses it', () => {
    const expected = ['aws', ...(hasHosts ? ['null'] : []), ...(hasAccessKeys ? ['random'] : [])];
    expect(providerNames(transferHost)).toEqual(expected);
    expect(requiredProviders(transferHost)).toEqual(expected);
    expect(awsAliases(transferHost)).toEqual([`other_account:${otherAccount}`]);
    for (const [address, provider] of providersUsed(transferHost)) {
      expect([address, provider]).toEqual([address, address.startsWith('null_resource.') || address.startsWith('random_bytes.') ? '(none)' : OTHER]);
    }
  });

  test('transfer-host: nothing of My Account: no bucket, no bucket policy, no grant role', () => {
    const all = addresses(transferHost);
    // The fleets' script objects are S3 objects of Other Account (in the operator's bucket).
    // And the access key seed is the operator's (their hosts use it).
    expect(all.filter((a) => /^aws_s3_|grant_|random_/.test(a) && !/^aws_s3_object\.fleet_/.test(a) && a !== 'random_bytes.access_key_secret_seed')).toEqual([]);
    expect(all.includes('random_bytes.access_key_secret_seed')).toBe(hasAccessKeys);
    expect(JSON.stringify(transferHost)).not.toContain(MY);
  });

  test('together the halves create exactly what mode "both" creates, attribute for attribute', () => {
    const union = { ...bodies(bucketOwner), ...bodies(transferHost) };
    expect(Object.keys(union).sort()).toEqual(Object.keys(bodies(both)).sort());
    expect(Object.keys(bodies(bucketOwner)).filter((a) => a in bodies(transferHost))).toEqual([]);
    for (const [address, body] of Object.entries(bodies(both))) {
      // The host configuration (SSH hosts, SSM fleets) waits for everything in mode "both"; in its
      // half it can only wait for what that half creates (the host policy), which the next test pins.
      const hostConfiguration = address.startsWith('null_resource.') || address.startsWith('aws_ssm_association.');
      const strip = (b: unknown) => (hostConfiguration ? { ...(b as object), depends_on: undefined } : b);
      expect([address, strip(union[address])]).toEqual([address, strip(body)]);
    }
  });

  if (hasHosts) {
    test('transfer-host: the Aspera hosts are configured after the host may assume the grant roles', () => {
      const hostResources = Object.entries(transferHost.resource?.null_resource ?? {});
      expect(hostResources.length).toBeGreaterThan(0);
      for (const [name, body] of hostResources) {
        // The revocation (uninstall) waits for the host policy; the docroots (install) for it and the
        // revocation; a retired host's uninstall needs no grant and waits for nothing, as in mode "both".
        const revocation = `null_resource.${name.replace(/_docroots_[0-9A-F]{8}$/, '_revocation_')}`;
        if (/_revocation_[0-9A-F]{8}$/.test(name)) expect([name, body.depends_on]).toEqual([name, ['aws_iam_role_policy.transfer_host']]);
        else if (/_retirement_[0-9A-F]{8}$/.test(name)) expect([name, body.depends_on, both.resource?.null_resource?.[name]?.depends_on]).toEqual([name, undefined, undefined]);
        else expect([name, body.depends_on]).toEqual([name, ['aws_iam_role_policy.transfer_host', expect.stringMatching(new RegExp(`^${revocation}[0-9A-F]{8}$`))]]);
      }
    });
  }

  if (hasFleets) {
    test('transfer-host: each fleet\'s association waits for the host policy and the instance role\'s SSM permissions', () => {
      const associations = Object.entries(transferHost.resource?.aws_ssm_association ?? {});
      expect(associations.map(([name]) => name).sort()).toEqual((input.asperaFleets ?? []).map((f) => `fleet_${f.name.replace(/-/g, '_')}`).sort());
      const commandOutput = (input.asperaFleets ?? []).some((f) => f.outputS3 !== undefined) ? ['aws_iam_role_policy.transfer_host_ssm_command_output'] : [];
      for (const [name, body] of associations) {
        // The stack attaches AmazonSSMManagedInstanceCore only to a host role it creates.
        const ssmCore = input.hostRole.name !== undefined ? ['aws_iam_role_policy_attachment.transfer_host_ssm_core'] : [];
        expect([name, body.depends_on]).toEqual([name, ['aws_iam_role_policy.transfer_host', ...ssmCore, ...commandOutput, 'aws_iam_role_policy.transfer_host_fleet_scripts']]);
      }
    });
  }

  test('every output of mode "both" is published by one half, with the same value', () => {
    const published = { ...bucketOwner.output, ...transferHost.output };
    for (const [name, output] of Object.entries(both.output ?? {})) {
      expect([name, published[name]?.value, published[name]?.sensitive]).toEqual([name, output.value, output.sensitive]);
    }
  });

  test('mode "both" publishes every output of the halves but those only the other half\'s stack reads', () => {
    // Read by the other half alone (src/exchange/contract.ts): account IDs, the trusted role, the
    // published grants, the External IDs' hashes and the grant-role path.
    const exchangeOnly = ['bucket_owner_account_id', 'external_id_sha256', 'external_id_sha256s', 'grant_role_path', 'grants', 'transfer_host_account_id', 'trusted_host_role_arn'];
    const ofHalves = [...new Set([...Object.keys(bucketOwner.output ?? {}), ...Object.keys(transferHost.output ?? {})])];
    expect(Object.keys(both.output ?? {}).sort()).toEqual(ofHalves.filter((name) => !exchangeOnly.includes(name)).sort());
  });

  test('each half publishes what the other needs, under the contract names', () => {
    expect(Object.keys(bucketOwner.output ?? {}).sort()).toEqual([
      'bucket_owner_account_id',
      'external_id_sha256',
      'external_id_sha256s',
      'grant_role_arns',
      'grant_role_path',
      'grants',
      'trusted_host_role_arn',
    ]);
    expect(Object.keys(transferHost.output ?? {}).sort()).toEqual(
      [
        ...(hasAccessKeys ? ['access_key_secrets', 'access_keys'] : []),
        ...(hasFleets ? ['aspera_fleets'] : []),
        'docroots',
        'external_id',
        'grant_role_path',
        ...('name' in input.hostRole ? ['instance_profile_name'] : []),
        'transfer_host_account_id',
        'transfer_host_role_arn',
      ].sort(),
    );
    expect(bucketOwner.output?.bucket_owner_account_id?.value).toBe(myAccount);
    expect(transferHost.output?.transfer_host_account_id?.value).toBe(otherAccount);
    // The grant roles' path, the same on both sides: "/" with the exact host policy (the default).
    expect([bucketOwner.output?.grant_role_path?.value, transferHost.output?.grant_role_path?.value]).toEqual([grantRolePath, grantRolePath]);
    expect(bucketOwner.output?.trusted_host_role_arn?.value).toBe(transferHost.output?.transfer_host_role_arn?.value);
    expect(bucketOwner.output?.external_id_sha256?.value).toBe(sha256(input.externalId as string));
    // Outside a rotation the trust accepts that one External ID alone.
    expect(bucketOwner.output?.external_id_sha256s?.value).toEqual([sha256(input.externalId as string)]);
    expect(transferHost.output?.external_id).toMatchObject({ value: input.externalId, sensitive: true });
    const grants = bucketOwner.output?.grants?.value as Record<string, { role_arn: string; bucket: string; prefix: string; access: string }>;
    expect(Object.keys(grants).sort()).toEqual(input.grants.map((g) => g.transferUser).sort());
    for (const grant of input.grants) {
      expect(grants[grant.transferUser]).toEqual({
        role_arn: (both.output?.grant_role_arns?.value as Record<string, string>)[grant.transferUser],
        bucket: grant.bucket,
        prefix: (grant.prefix ?? '').replace(/\/+$/, ''),
        access: grant.access,
      });
    }
  });

  test('no remote state is read when the values come from the configs', () => {
    expect(bucketOwner.data?.terraform_remote_state).toBeUndefined();
    expect(transferHost.data?.terraform_remote_state).toBeUndefined();
  });
});

describe('minimal.json through remote state: each half reads the other from a shared state bucket', () => {
  const input = fixtureConfigInput('minimal.json');
  let bucketOwner: TerraformJson;
  let transferHost: TerraformJson;
  beforeAll(() => {
    const halves = halvesOf(input, { otherHalfState: true });
    bucketOwner = synthConfig(halves.bucketOwner);
    transferHost = synthConfig(halves.transferHost);
  });

  const remote = (tf: TerraformJson, id: string) => tf.data?.terraform_remote_state?.[id] as Record<string, any>;
  const checks = (tf: TerraformJson, id: string): Array<{ condition: string; error_message: string }> => remote(tf, id).lifecycle.postcondition;

  test('the bucket owner reads the operator\'s state object with its own profile; every output it uses defaults to null', () => {
    const data = remote(bucketOwner, 'transfer_host_half');
    expect(data.backend).toBe('s3');
    expect(data.config).toEqual(HALF_STATES.transferHost);
    expect(data.defaults).toMatchObject({ external_id: null, transfer_host_role_arn: null });
  });

  test('the trust policy takes the External ID from there as a plan-time reference, and stays valid JSON', () => {
    const role = bucketOwner.resource!.aws_iam_role.grant_xfer2;
    const policy = JSON.parse(role.assume_role_policy);
    expect(policy.Statement[0].Condition.StringEquals).toEqual({
      'sts:ExternalId': '${data.terraform_remote_state.transfer_host_half.outputs.external_id}',
      // The role it trusts is this config's, not the other half's: concrete.
      'aws:PrincipalArn': 'arn:aws:iam::222222222222:role/aspera-transfer-host',
    });
    expect(bucketOwner.output?.external_id_sha256?.value).toBe('${sha256(data.terraform_remote_state.transfer_host_half.outputs.external_id)}');
    expect(bucketOwner.output?.external_id_sha256s?.value).toEqual(['${sha256(data.terraform_remote_state.transfer_host_half.outputs.external_id)}']);
    // The only plan-time expressions in the stack are reads of that output (and resource references).
    const expressions = JSON.stringify(bucketOwner).match(/\$\{[^}]*\}/g) ?? [];
    for (const e of new Set(expressions)) {
      expect([e, /^\$\{(data\.terraform_remote_state\.transfer_host_half\.outputs\.external_id|sha256\(data\.terraform_remote_state\.transfer_host_half\.outputs\.external_id\)|aws_[a-z0-9_]+\.[A-Za-z0-9_-]+\.(id|name|bucket)|self\.outputs\.[a-z_]+.*|coalesce\(.*|can\(regex.*)\}$/.test(e)]).toEqual([e, true]);
    }
  });

  test('before any role is planned, the bucket owner checks the External ID cannot break the policy JSON', () => {
    const [externalIdCheck] = checks(bucketOwner, 'transfer_host_half');
    const pattern = /regex\("(.*?)", self\.outputs\.external_id\)/.exec(externalIdCheck.condition)![1];
    const regex = new RegExp(JSON.parse(`"${pattern}"`));
    for (const good of ['aspera-7f3c9e21', 'acme:partner/7f3c=9e21', '0f1e2d3c4b5a69788796a5b4c3d2e1f0']) expect([good, regex.test(good)]).toEqual([good, true]);
    for (const bad of ['a"b', 'a\\b', '${x}', 'a b', 'a\nb', '']) expect([bad, regex.test(bad)]).toEqual([bad, false]);
    expect(externalIdCheck.condition).toContain('length(self.outputs.external_id) >= 2 && length(self.outputs.external_id) <= 1224');
    expect(externalIdCheck.error_message).toContain('The operator applies the transfer-host half first');
  });

  test('the bucket owner checks the operator runs the role its config trusts, which is what the operator publishes', () => {
    const roleCheck = checks(bucketOwner, 'transfer_host_half')[1];
    expect(roleCheck.condition).toBe(`\${self.outputs.transfer_host_role_arn == ${JSON.stringify(transferHost.output?.transfer_host_role_arn?.value)}}`);
  });

  test('the operator checks the bucket owner\'s published account, trusted role, grants and External ID against its own config', () => {
    const data = remote(transferHost, 'bucket_owner_half');
    expect(data.config).toEqual(HALF_STATES.bucketOwner);
    const [account, trusted, grants, externalId] = checks(transferHost, 'bucket_owner_half');
    expect(account.condition).toBe(`\${self.outputs.bucket_owner_account_id == "${bucketOwner.output?.bucket_owner_account_id?.value}"}`);
    expect(trusted.condition).toBe(`\${self.outputs.trusted_host_role_arn == "${bucketOwner.output?.trusted_host_role_arn?.value}"}`);
    const expectedGrants = /^\$\{self\.outputs\.grants == (\{.*\})\}$/.exec(grants.condition)![1];
    expect(hclObjectToJson(expectedGrants)).toEqual(bucketOwner.output?.grants?.value);
    // Every External ID the bucket owner's trust accepts, or its one External ID from a version that publishes no list.
    expect(externalId.condition).toBe(
      `\${contains(self.outputs.external_id_sha256s != null ? self.outputs.external_id_sha256s : [self.outputs.external_id_sha256], "${sha256('aspera-7f3c9e21')}")}`,
    );
    // The bucket owner publishes sha256() of the External ID it read from the operator's output:
    expect(bucketOwner.output?.external_id_sha256?.value).toBe('${sha256(data.terraform_remote_state.transfer_host_half.outputs.external_id)}');
    expect(sha256(transferHost.output?.external_id?.value as string)).toBe(sha256('aspera-7f3c9e21'));
  });

  test('a mismatch would fail the operator\'s plan: another role name on the bucket owner\'s side changes what it publishes', () => {
    const renamed = halvesOf({ ...input, grants: [{ ...input.grants[0], roleName: 'renamed-role' }] }, { otherHalfState: true });
    const published = synthConfig(renamed.bucketOwner).output?.grants?.value;
    const expected = /^\$\{self\.outputs\.grants == (\{.*\})\}$/.exec(checks(transferHost, 'bucket_owner_half')[2].condition)![1];
    expect(hclObjectToJson(expected)).not.toEqual(published);
  });
});

describe('the transfer-host half generates the External ID when its config has none', () => {
  const input = fixtureConfigInput('minimal.json');
  let transferHost: TerraformJson;
  let again: TerraformJson;
  beforeAll(() => {
    const { transferHost: config } = halvesOf(input, { generateExternalId: true, otherHalfState: true });
    transferHost = synthConfig(config);
    again = synthConfig(config);
  });

  test('random_id with 16 bytes and no keepers: created once at apply, kept in state, never replaced by a config change', () => {
    expect(transferHost.resource?.random_id?.external_id).toMatchObject({ byte_length: 16 });
    expect(transferHost.resource?.random_id?.external_id.keepers).toBeUndefined();
    // null: minimal.json configures an Aspera host, which gets the generated External ID too.
    expect(providerNames(transferHost)).toEqual(['aws', 'null', 'random']);
    // Nothing random at synth time: the value lives only in state.
    expect(JSON.stringify(again)).toBe(JSON.stringify(transferHost));
  });

  test('published as a sensitive output, and in the docroots where the configured one would be', () => {
    expect(transferHost.output?.external_id).toMatchObject({ value: '${random_id.external_id.hex}', sensitive: true });
    const hex = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
    const docroots = resolvePlanTime(transferHost.output?.docroots?.value, { 'random_id.external_id.hex': hex });
    expect(docroots).toEqual({
      xfer2: `s3://arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Faspera-cross-account-xfer2@s3.amazonaws.com/acme-aspera-inbox;iam-role.external-id=${hex}`,
    });
    expect(transferHost.output?.docroots?.sensitive).toBe(true);
  });

  test('checks the bucket owner\'s External ID against the generated one', () => {
    const checks = transferHost.data!.terraform_remote_state.bucket_owner_half.lifecycle.postcondition as Array<{ condition: string }>;
    expect(checks[3].condition).toBe(
      '${contains(self.outputs.external_id_sha256s != null ? self.outputs.external_id_sha256s : [self.outputs.external_id_sha256], sha256(random_id.external_id.hex))}',
    );
  });
});

describe('the docs/two-organizations.md walkthrough through a shared state bucket: bucket-owner-remote-state.json and transfer-host-generated-external-id.json', () => {
  const bucketOwnerInput = twoOrganizationsConfigInput('bucket-owner-remote-state.json');
  const transferHostInput = twoOrganizationsConfigInput('transfer-host-generated-external-id.json');
  let bucketOwner: TerraformJson;
  let transferHost: TerraformJson;
  beforeAll(() => {
    bucketOwner = synthConfig(bucketOwnerInput);
    transferHost = synthConfig(transferHostInput);
  });

  test('each half reads exactly the state object the other writes', () => {
    const { backend: _b, profile: _p1, ...transferHostState } = transferHostInput.state as Record<string, string>;
    const { backend: _c, profile: _p2, ...bucketOwnerState } = bucketOwnerInput.state as Record<string, string>;
    expect(bucketOwner.data?.terraform_remote_state?.transfer_host_half.config).toMatchObject(transferHostState);
    expect(transferHost.data?.terraform_remote_state?.bucket_owner_half.config).toMatchObject(bucketOwnerState);
  });

  test('the operator generates the External ID and the bucket owner takes it from there, nowhere else', () => {
    expect(transferHost.resource?.random_id?.external_id).toBeDefined();
    expect(JSON.stringify(bucketOwner)).not.toMatch(/3f9c2d5e|random_id/);
    for (const role of Object.values(bucketOwner.resource?.aws_iam_role ?? {})) {
      expect(JSON.parse(role.assume_role_policy).Statement[0].Condition.StringEquals['sts:ExternalId']).toBe(
        '${data.terraform_remote_state.transfer_host_half.outputs.external_id}',
      );
    }
  });

  test('what each checks is what the other publishes', () => {
    const [, hostRoleCheck] = bucketOwner.data!.terraform_remote_state.transfer_host_half.lifecycle.postcondition;
    expect(hostRoleCheck.condition).toBe(`\${self.outputs.transfer_host_role_arn == ${JSON.stringify(transferHost.output?.transfer_host_role_arn?.value)}}`);
    const [account, trusted, grants] = transferHost.data!.terraform_remote_state.bucket_owner_half.lifecycle.postcondition;
    expect(account.condition).toBe(`\${self.outputs.bucket_owner_account_id == "${bucketOwner.output?.bucket_owner_account_id?.value}"}`);
    expect(trusted.condition).toBe(`\${self.outputs.trusted_host_role_arn == "${bucketOwner.output?.trusted_host_role_arn?.value}"}`);
    expect(hclObjectToJson(/^\$\{self\.outputs\.grants == (\{.*\})\}$/.exec(grants.condition)![1])).toEqual(bucketOwner.output?.grants?.value);
  });
});
