/**
 * Config validation through the pure entry points (parseConfig / loadConfigFile): the bad-input
 * corpus, one line per problem naming the field, and what a valid config turns into.
 * The real CLI is exercised on a few of these in cli.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { configPathFromEnv, DEFAULT_CONFIG_PATH, duplicateKeyPaths, jsonPath, loadConfigFile, parseConfig, validateConfig } from '../src/config-file';
import { bucketNameProblems, type ConfigInput, CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_IN_BOUNDS } from '../src/config/schema';
import { commandOutputPolicy } from '../src/iam/fleet-policy';
import { APPLY_GUARD_EXPECTED } from './helpers/apply-guard-fixtures';
import { EXAMPLE_CONFIG_PATH, invalidFixtureNames, invalidFixtureText } from './helpers/invalid-configs';

/** [JSON path, a phrase the line must contain]; one entry per line the validator must print. */
type Problem = readonly [path: string, says: string];

/**
 * What each fixture must produce: exactly these lines, in any order. Where a line is absent on
 * purpose (a check that must not run on a field that already failed), the comment says why.
 */
const EXPECTED: Record<string, readonly Problem[]> = {
  'account-id-number.patch.json': [['myAccount.accountId', 'written as a string, e.g. "111111111111" (got 111111111111)']],
  'account-id-eleven-digits.patch.json': [['myAccount.accountId', 'exactly 12 digits']],
  'accounts-identical.patch.json': [['otherAccount.accountId', 'must differ from myAccount.accountId']],
  'region-typo.patch.json': [['myAccount.region', 'AWS region name']],
  'regions-in-different-partitions.patch.json': [['otherAccount.region', 'same AWS partition']],
  'profile-and-assume-role.patch.json': [['myAccount.assumeRoleArn', 'either "profile" or "assumeRoleArn", not both']],
  'assume-role-in-wrong-account.patch.json': [['otherAccount.assumeRoleArn', 'must be a role in account 222222222222']],
  'external-id-too-short.patch.json': [['externalId', 'at least 2 characters']],
  'external-id-shell-characters.patch.json': [['externalId', 'may contain only letters, digits and _ + = , . @ : / -']],
  'external-id-too-long.patch.json': [['externalId', 'at most 1224 characters']],
  'host-role-name-and-existing.patch.json': [['hostRole', 'exactly one of "name"']],
  // The typo is reported as such, and the role then has neither field.
  'host-role-field-typo.patch.json': [
    ['hostRole.nmae', 'unknown field'],
    ['hostRole', 'exactly one of "name"'],
  ],
  'host-role-name-too-long.patch.json': [['hostRole.name', 'at most 64 characters']],
  'host-role-name-with-space.patch.json': [['hostRole.name', 'may contain only letters, digits and + = , . @ _ -']],
  // grants[0] still names "acme-aspera-inbox", but the undeclared-bucket check must not run on a
  // bucket list that failed validation: one line, not a second, misleading one.
  'bucket-uppercase.patch.json': [['buckets[0].name', 'only lowercase letters']],
  'bucket-too-short.patch.json': [['buckets[0].name', '3-63 characters']],
  'bucket-adjacent-dots.patch.json': [['buckets[0].name', 'must not contain ".."']],
  'bucket-ip-address.patch.json': [['buckets[0].name', 'IP address']],
  'bucket-reserved-prefix.patch.json': [['buckets[0].name', 'prefix AWS reserves']],
  'bucket-reserved-suffix.patch.json': [['buckets[0].name', 'suffix AWS reserves']],
  'bucket-declared-twice.patch.json': [['buckets[1].name', 'duplicate bucket "acme-aspera-inbox" (also buckets[0])']],
  'bucket-create-as-string.patch.json': [['buckets[0].create', 'true (create and harden the bucket) or false']],
  'buckets-empty.patch.json': [['buckets', 'at least one bucket']],
  'grant-undeclared-bucket.patch.json': [['grants[0].bucket', 'names bucket "acme-aspera-outbox", which is not declared']],
  'grant-duplicate-transfer-user.patch.json': [['grants[1].transferUser', 'duplicate transfer user "xfer2" (also grants[0])']],
  'grant-user-uppercase.patch.json': [['grants[0].transferUser', 'system user name']],
  'grant-user-shell-command.patch.json': [['grants[0].transferUser', 'system user name']],
  'grant-access-typo.patch.json': [['grants[0].access', '"read-write" or "read-only"']],
  'grant-install-as-empty.patch.json': [['grants[0].installAs', 'must name at least one of "docroot" and "access-key"']],
  'grant-install-as-twice.patch.json': [['grants[0].installAs', 'must not name a target twice']],
  'grant-install-as-typo.patch.json': [['grants[0].installAs[0]', 'must be "docroot" or "access-key"']],
  'grant-install-as-string.patch.json': [['grants[0].installAs', 'must be a list such as ["docroot"]']],
  'grant-access-key-in-bucket-owner-mode.patch.json': [['grants[0].installAs', 'which the transfer-host half installs on the Aspera hosts']],
  'external-id-with-script-marker.patch.json': [['externalId', 'must not contain "ASPERAACCESSKEYSEEDMARKER"']],
  'node-api-http-to-numeric-look-alike.patch.json': [['asperaHosts[0].nodeApi.url', 'must use https, unless the host is the Aspera host itself']],
  'node-api-http-to-another-host.patch.json': [['asperaHosts[0].nodeApi.url', 'must use https, unless the host is the Aspera host itself']],
  'node-api-url-with-path.patch.json': [['asperaHosts[0].nodeApi.url', 'scheme, host and port only']],
  'node-api-url-with-password.patch.json': [['asperaHosts[0].nodeApi.url', 'scheme, host and port only']],
  'node-api-ca-file-on-http.patch.json': [['asperaHosts[0].nodeApi.caFile', 'is for an https URL']],
  'node-api-credentials-relative.patch.json': [['asperaHosts[0].nodeApi.credentialsFile', 'must be an absolute path on the host without "." or ".." segments']],
  'node-api-credentials-dot-dot.patch.json': [['asperaHosts[0].nodeApi.credentialsFile', 'must be an absolute path on the host without "." or ".." segments']],
  'node-api-credentials-shell.patch.json': [['asperaHosts[0].nodeApi.credentialsFile', 'no spaces, quotes or "$"']],
  'node-api-password-field.patch.json': [['asperaHosts[0].nodeApi.password', 'unknown field']],
  'grant-access-missing.patch.json': [['grants[0].access', 'is required']],
  'grant-prefix-leading-slash.patch.json': [['grants[0].prefix', 'must not start with "/"']],
  'grant-prefix-dot-dot.patch.json': [['grants[0].prefix', 'must not contain ".."']],
  'grant-prefix-wildcard.patch.json': [['grants[0].prefix', 'wildcards']],
  'grant-prefix-policy-variable.patch.json': [['grants[0].prefix', 'may contain only letters, digits, "/"']],
  'grant-role-names-collide.patch.json': [['grants[1].roleName', 'is also used by grants[0] (IAM role names are case-insensitive)']],
  'grants-not-a-list.patch.json': [['grants', 'must be a list of grants (got {']],
  'host-with-space.patch.json': [['asperaHosts[0].host', 'hostname']],
  'host-ipv4-out-of-range.patch.json': [['asperaHosts[0].host', 'hostname']],
  'host-option-injection.patch.json': [['asperaHosts[0].host', 'hostname']],
  'port-out-of-range.patch.json': [['asperaHosts[0].port', 'from 1 to 65535']],
  'port-as-string.patch.json': [['asperaHosts[0].port', 'TCP port number (got "33001")']],
  'ssh-user-command-substitution.patch.json': [['asperaHosts[0].user', 'system user name']],
  'aspera-conf-relative-path.patch.json': [['asperaHosts[0].asperaConfPath', 'absolute path']],
  'aspera-conf-dot-dot.patch.json': [['asperaHosts[0].asperaConfPath', '".." segments']],
  'aspera-conf-dot-end.patch.json': [['asperaHosts[0].asperaConfPath', 'must name a file, not end in "/."']],
  // Fleets: the same asperaConfPath rules as SSH hosts (the others are in helpers/apply-guard-fixtures.ts).
  'fleet-aspera-conf-relative-path.patch.json': [['asperaFleets[0].asperaConfPath', 'absolute path']],
  'fleet-aspera-conf-dot-dot.patch.json': [['asperaFleets[0].asperaConfPath', '".." segments']],
  // "?" and "$" in the output prefix get the reason, not only the character set (see the "*" one
  // in helpers/apply-guard-fixtures.ts); "{" and ":" are outside the character set as well.
  'fleet-output-key-prefix-question-mark.patch.json': [['asperaFleets[0].outputS3.keyPrefix', 'IAM would read it as a wildcard or a policy variable']],
  'fleet-output-key-prefix-policy-variable.patch.json': [
    ['asperaFleets[0].outputS3.keyPrefix', 'must be an S3 key prefix of 1-500 safe characters'],
    ['asperaFleets[0].outputS3.keyPrefix', 'must not contain "*", "?" or "$"'],
  ],
  // SSE-KMS: "encryption" is for created buckets; a key is named by its full ARN, in the buckets' region and partition.
  'bucket-encryption-unknown.patch.json': [['buckets[0].encryption', 'one of "sse-s3", "sse-kms"']],
  'bucket-encryption-on-existing.patch.json': [['buckets[0].encryption', 'only for a bucket this stack creates']],
  'bucket-kms-key-without-sse-kms.patch.json': [['buckets[0].kmsKeyArn', 'needs "encryption": "sse-kms"']],
  'bucket-kms-key-alias.patch.json': [['buckets[0].kmsKeyArn', 'must be a full KMS key ARN']],
  'bucket-kms-key-other-region.patch.json': [['buckets[0].kmsKeyArn', 'must be a key in us-east-1 (myAccount.region, where the buckets are), not eu-west-1']],
  'bucket-kms-key-other-partition.patch.json': [['buckets[0].kmsKeyArn', 'must be a key in partition "aws"']],
  // connectionTimeout is a Terraform duration from 10s to 30m, written as a string.
  'connection-timeout-too-short.patch.json': [['asperaHosts[0].connectionTimeout', 'must be from 10s to 30m']],
  'connection-timeout-too-long.patch.json': [['asperaHosts[0].connectionTimeout', 'must be from 10s to 30m']],
  'connection-timeout-number.patch.json': [['asperaHosts[0].connectionTimeout', 'a duration such as "90s" or "1m", written as a string (got 60)']],
  'connection-timeout-hours.patch.json': [['asperaHosts[0].connectionTimeout', 'whole minutes "m" and/or seconds "s"']],
  // Host names are case-insensitive, and the default port counts.
  'hosts-duplicate.patch.json': [['asperaHosts[1].host', 'duplicate host "ASPERA.example.com:22" (also asperaHosts[0])']],
  'state-unknown-backend.patch.json': [['state.backend', '{ "backend": "local" } or { "backend": "s3"']],
  'state-s3-missing-key.patch.json': [['state.key', 'is required']],
  'state-s3-bad-bucket.patch.json': [['state.bucket', 'only lowercase letters']],
  'state-local-with-s3-field.patch.json': [['state.bucket', 'unknown field']],
  'state-local-path-tilde.patch.json': [['state.path', 'Terraform does not expand it']],
  'stack-name-underscore.patch.json': [['stackName', 'letters, digits and "-"']],
  'docroot-template-unknown-placeholder.patch.json': [
    ['docrootTemplate', 'unknown placeholder {role}'],
    ['docrootTemplate', 'must contain {roleArn}'],
    ['docrootTemplate', 'must contain {externalId}'],
  ],
  'docroot-template-both-prefix-forms.patch.json': [['docrootTemplate', 'uses both {prefix} and {prefixSlashesEncoded}']],
  'unknown-top-level-field.patch.json': [
    ['externalID', 'unknown field'],
    ['externalId', 'is required'],
  ],
  'unknown-account-field.patch.json': [
    ['myAccount.acountId', 'unknown field'],
    ['myAccount.accountId', 'is required'],
  ],
  'unknown-grant-field.patch.json': [['grants[0].permissions', 'unknown field']],
  // Field problems and cross-field problems in one run: nothing waits for the next attempt. (zod
  // alone would skip every cross-field check after the port's wrong type.)
  'several-problems-at-once.patch.json': [
    ['otherAccount.accountId', 'must differ from myAccount.accountId'],
    ['hostRole.name', 'may contain only'],
    ['grants[0].acess', 'unknown field'],
    ['grants[0].bucket', 'names bucket "acme-aspera-outbox", which is not declared'],
    ['asperaHosts[0].port', 'TCP port number (got "33001")'],
  ],
  'malformed-missing-comma.json': [['(config)', 'is not valid JSON: line 4, column 3: Expected \',\' or \'}\' after property value']],
  // V8 gives no position for this one; the loader finds it (the "]" after "},").
  'malformed-trailing-comma.json': [['(config)', 'is not valid JSON: line 7, column 97: Unexpected token \']\'']],
  'empty.json': [['(config)', 'is empty']],
  'top-level-array.json': [['(config)', 'must be a JSON object']],
  'top-level-string.json': [['(config)', 'must be a JSON object']],
  // JSON.parse would silently keep the second "grants"; the first one is what the author meant too.
  'duplicate-key.json': [['grants', 'appears more than once']],
  // Two organizations (issue 5): each half's config lacks the other's values, names the other's
  // credentials, resources or hosts, or gives an ARN in the wrong account.
  'mode-typo.patch.json': [['mode', 'one of "both", "bucket-owner", "transfer-host"']],
  'mode-bucket-owner-without-external-id.patch.json': [['externalId', 'is required in mode "bucket-owner": the External ID the operator chose']],
  'mode-bucket-owner-with-aspera-hosts.patch.json': [['asperaHosts', 'must be empty in mode "bucket-owner": the Aspera hosts belong to the transfer-host half']],
  'mode-bucket-owner-with-other-account-credentials.patch.json': [['otherAccount.profile', 'is not used in mode "bucket-owner": this half configures no provider for Other Account']],
  'mode-bucket-owner-host-role-arn-wrong-account.patch.json': [['hostRole.arn', 'must be a role in account 222222222222 (otherAccount.accountId)']],
  'mode-bucket-owner-external-id-and-other-half-state.patch.json': [['otherHalfState', 'give either "externalId" (the value the operator sent) or "otherHalfState"']],
  'mode-bucket-owner-other-half-state-without-key.patch.json': [['otherHalfState.key', 'is required']],
  'mode-transfer-host-with-my-account-credentials.patch.json': [['myAccount.profile', 'is not used in mode "transfer-host": this half configures no provider for My Account']],
  'mode-transfer-host-creating-a-bucket.patch.json': [['buckets[0].create', 'must be false in mode "transfer-host"']],
  'mode-transfer-host-grant-role-arn-wrong-account.patch.json': [['grants[0].roleArn', 'must be a role in account 111111111111 (myAccount.accountId)']],
  'mode-both-with-other-half-state.patch.json': [['otherHalfState', 'is only for mode "bucket-owner" or "transfer-host"']],
  'mode-both-with-host-role-arn.patch.json': [['hostRole.arn', 'is only for mode "bucket-owner"']],
  'mode-both-with-grant-role-arn.patch.json': [['grants[0].roleArn', 'is only for mode "transfer-host"']],
  // What used to synthesize and then fail at apply (or crash): see helpers/apply-guard-fixtures.ts.
  ...APPLY_GUARD_EXPECTED,
  'host-role-path-without-slashes.patch.json': [['hostRole.path', 'must be an IAM path: "/" or segments of letters']],
  'host-role-path-with-arn.patch.json': [['hostRole.path', 'is not used with "arn": the ARN carries the role\'s path']],
  'host-policy-typo.patch.json': [['hostPolicy', 'one of "exact-roles", "role-path"']],
  'grant-role-arn-outside-role-path.patch.json': [['grants[0].roleArn', 'must be a role under the IAM path /aspera/aspera-cross-account/ with "hostPolicy": "role-path"']],
};

/** Splits "path: message" (the path never contains ": "). */
const pathOf = (line: string): string => line.slice(0, line.indexOf(': '));

describe('the bad-input corpus', () => {
  test('every fixture file has an expectation and every expectation a file', () => {
    expect(invalidFixtureNames()).toEqual(Object.keys(EXPECTED).sort());
  });

  test.each(Object.entries(EXPECTED))('%s', (name, expected) => {
    const result = parseConfig(invalidFixtureText(name), name);
    if (result.ok) throw new Error(`${name} was accepted`);
    // Exactly the expected fields, each named once per problem...
    expect(result.problems.map(pathOf).sort()).toEqual(expected.map(([path]) => path).sort());
    // ...and each line says what is wrong there.
    for (const [path, says] of expected) {
      expect(result.problems.filter((line) => line.startsWith(`${path}: `)).some((line) => line.includes(says))).toBe(true);
    }
    for (const line of result.problems) {
      expect(line).not.toMatch(/\n|\r/);
      expect(line).toMatch(/^\S+: \S/);
      expect(line).not.toMatch(/\bat .+:\d+:\d+|Error:|ZodError/);
    }
  });
});

describe('files that cannot be read', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'aspera-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a missing file is one line that names it and says how to choose another', () => {
    const path = join(dir, 'nope.json');
    expect(loadConfigFile(path)).toEqual({
      ok: false,
      problems: [`(config): cannot read ${path}: file not found (set ASPERA_CONFIG to choose another file)`],
    });
  });

  test('a directory is reported as such', () => {
    const result = loadConfigFile(dir);
    expect(result.ok ? [] : result.problems).toEqual([`(config): cannot read ${dir}: it is a directory (set ASPERA_CONFIG to choose another file)`]);
  });

  test('messages about the file name the file that was read', () => {
    const path = join(dir, 'blank.json');
    writeFileSync(path, ' \n');
    const result = loadConfigFile(path);
    expect(result.ok ? [] : result.problems).toEqual([`(config): ${path} is empty; it must hold a JSON object (see aspera.config.json for an example)`]);
  });
});

describe('valid configs', () => {
  const example = (): ConfigInput => JSON.parse(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8'));

  test('the example aspera.config.json is valid and keeps its values', () => {
    const result = loadConfigFile(EXAMPLE_CONFIG_PATH);
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.config.myAccount).toEqual({ accountId: '111111111111', region: 'us-east-1', profile: 'my-account' });
    expect(result.config.hostRole).toEqual({ name: 'aspera-transfer-host' });
    expect(result.config.asperaHosts[0]).toMatchObject({ host: '203.0.113.10', port: 33001, user: 'ec2-user' });
  });

  test('defaults are applied to everything left out', () => {
    const minimal = {
      externalId: 'aspera-7f3c9e21',
      myAccount: { accountId: '111111111111', region: 'us-east-1' },
      otherAccount: { accountId: '222222222222', region: 'us-east-1' },
      hostRole: { existingRoleName: 'aspera-ec2' },
      buckets: [{ name: 'acme-aspera-inbox', create: false }],
      grants: [{ transferUser: 'xfer2', bucket: 'acme-aspera-inbox', access: 'read-only' }],
    };
    const result = validateConfig(minimal);
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.config).toEqual({
      ...minimal,
      stackName: 'aspera-cross-account',
      mode: 'both',
      hostPolicy: 'exact-roles',
      grants: [{ ...minimal.grants[0], prefix: '', installAs: ['docroot'] }],
      asperaHosts: [],
      asperaFleets: [],
      s3Endpoint: 's3.amazonaws.com',
      state: { backend: 'local' },
    });
    const withHost = validateConfig({ ...minimal, asperaHosts: [{ host: 'aspera.example.com', user: 'ec2-user' }] });
    expect(withHost.ok && withHost.config.asperaHosts).toEqual([
      {
        host: 'aspera.example.com',
        user: 'ec2-user',
        port: 22,
        asperaConfPath: '/opt/aspera/etc/aspera.conf',
        nodeApi: { url: 'https://127.0.0.1:9092', credentialsFile: '/opt/aspera/etc/aspera-cross-account/node-api.credentials' },
        connectionTimeout: '1m',
        retired: false,
      },
    ]);
    const withFleet = validateConfig({ ...minimal, asperaFleets: [{ name: 'transfer-asg', targets: { autoScalingGroupName: 'aspera-asg' }, scriptS3: { bucket: 'media-ops-aspera-scripts' } }] });
    expect(withFleet.ok && withFleet.config.asperaFleets).toEqual([
      { name: 'transfer-asg', targets: { autoScalingGroupName: 'aspera-asg' }, scriptS3: { bucket: 'media-ops-aspera-scripts' }, asperaConfPath: '/opt/aspera/etc/aspera.conf', nodeApi: { url: 'https://127.0.0.1:9092', credentialsFile: '/opt/aspera/etc/aspera-cross-account/node-api.credentials' }, docroots: 'installed', complianceSeverity: 'HIGH', waitForSuccessSeconds: 900 },
    ]);
  });

  test('a prefix has one spelling: the trailing "/" is dropped', () => {
    const config = example();
    const result = validateConfig({ ...config, grants: [{ ...config.grants[0], prefix: 'incoming/partner-a/' }] });
    expect(result.ok && result.config.grants[0].prefix).toBe('incoming/partner-a');
  });

  test('a relative local state path is taken from where cdktf runs, not from where Terraform runs (cdktf.out/stacks/...)', () => {
    const config = example();
    const result = validateConfig({ ...config, state: { backend: 'local', path: 'state/aspera.tfstate' } });
    expect(result.ok && result.config.state).toEqual({ backend: 'local', path: join(process.cwd(), 'state', 'aspera.tfstate') });
    const absolute = validateConfig({ ...config, state: { backend: 'local', path: '/var/lib/terraform/aspera.tfstate' } });
    expect(absolute.ok && absolute.config.state).toEqual({ backend: 'local', path: '/var/lib/terraform/aspera.tfstate' });
  });

  test('connectionTimeout: every spelling of 10s to 30m passes, nothing else does, and the value is kept as written', () => {
    // The oracle: seconds counted here, not by the schema. "Ns", "Mm" and "MmSs" with S 1-59.
    const spellings: Array<[string, number]> = [];
    for (let n = 0; n <= 2000; n++) spellings.push([`${n}s`, n]);
    for (let m = 0; m <= 40; m++) {
      spellings.push([`${m}m`, m * 60]);
      for (let sec = 1; sec <= 59; sec++) spellings.push([`${m}m${sec}s`, m * 60 + sec]);
    }
    // The schema's two rules, each a pattern (so editors apply them too): the form, then the bounds.
    const passes = (text: string) => CONNECTION_TIMEOUT.test(text) && CONNECTION_TIMEOUT_IN_BOUNDS.test(text);
    expect(spellings.filter(([text, seconds]) => passes(text) !== (!text.startsWith('0') && seconds >= 10 && seconds <= 30 * 60)).map(([text]) => text)).toEqual([]);
    // A value of the wrong form gets the form's message only.
    for (const text of ['1m0s', '1m60s', '1h', '1m30', '90', ' 90s', '90s ', '1.5m', '-1m', '90S', '', '0s', '05s']) {
      expect(CONNECTION_TIMEOUT.test(text)).toBe(false);
      expect(CONNECTION_TIMEOUT_IN_BOUNDS.test(text)).toBe(true);
    }
    // Through the whole schema: kept as written, one message per problem.
    const config = example();
    const timeoutOf = (connectionTimeout: string) => validateConfig({ ...config, asperaHosts: [{ ...config.asperaHosts?.[0], connectionTimeout }] });
    for (const text of ['10s', '90s', '2m30s', '30m', '1800s']) expect(timeoutOf(text)).toMatchObject({ ok: true, config: { asperaHosts: [{ connectionTimeout: text }] } });
    expect(timeoutOf('9s')).toEqual({ ok: false, problems: [expect.stringMatching(/^asperaHosts\[0\]\.connectionTimeout: must be from 10s to 30m/)] });
    expect(timeoutOf('1m0s')).toEqual({ ok: false, problems: [expect.stringMatching(/^asperaHosts\[0\]\.connectionTimeout: must be a duration of whole minutes/)] });
  });

  test('asperaConfPath: fleets and SSH hosts accept and refuse the same paths, with the same messages', () => {
    const config = example();
    const paths = [
      '/opt/aspera/etc/aspera.conf', '/etc/aspera.conf', '/opt/aspera/etc/./aspera.conf', '/opt/aspera/etc/.aspera.conf', '/opt/aspera/etc/aspera.conf.', '/x',
      '/', '//', '/opt/aspera/etc/', '/opt/aspera/etc//', '/opt/aspera/etc/.', '/.', '/opt/aspera/etc/..', '/opt/../etc/shadow', '../aspera.conf',
      'etc/aspera.conf', 'aspera.conf', '~/aspera.conf', '', '/opt/aspera/etc/aspera conf', '/opt/$HOME/aspera.conf',
    ];
    const asHost = (asperaConfPath: string) => validateConfig({ ...config, asperaHosts: [{ ...config.asperaHosts?.[0], asperaConfPath }] });
    const asFleet = (asperaConfPath: string) =>
      validateConfig({ ...config, asperaFleets: [{ name: 'transfer-asg', targets: { autoScalingGroupName: 'aspera-asg' }, scriptS3: { bucket: 'media-ops-aspera-scripts' }, asperaConfPath }] });
    // The messages differ only in where the file is ("on the host", "on the instances").
    const verdict = (result: ReturnType<typeof validateConfig>, field: string) =>
      result.ok ? 'accepted' : result.problems.map((line) => line.replace(`${field}: `, '').replace(/ on the (host|instances)$/, ' on <where>')).sort();
    for (const path of paths) {
      expect([path, verdict(asFleet(path), 'asperaFleets[0].asperaConfPath')]).toEqual([path, verdict(asHost(path), 'asperaHosts[0].asperaConfPath')]);
    }
    // The list covers both outcomes.
    expect(paths.filter((path) => asFleet(path).ok)).toEqual(paths.slice(0, 6));
  });

  test('outputS3.keyPrefix: whatever is accepted reaches the IAM policy as a literal prefix, with no wildcard or policy variable', () => {
    const config = example();
    const withPrefix = (keyPrefix: string) =>
      validateConfig({ ...config, asperaFleets: [{ name: 'transfer-asg', targets: { autoScalingGroupName: 'aspera-asg' }, scriptS3: { bucket: 'media-ops-aspera-scripts' }, outputS3: { bucket: 'acme-ops-ssm-output', keyPrefix } }] });
    const accepted: string[] = [];
    for (let code = 0x20; code < 0x7f; code++) {
      const keyPrefix = `ssm/a${String.fromCharCode(code)}b`;
      const result = withPrefix(keyPrefix);
      if (!result.ok) continue;
      accepted.push(String.fromCharCode(code));
      const resources = commandOutputPolicy(result.config)?.Statement.flatMap((statement) => statement.Resource ?? []) ?? [];
      expect(resources).toContain(`arn:aws:s3:::acme-ops-ssm-output/${keyPrefix}/*`);
      // Only the "*" IAM needs after the prefix: nothing inside the prefix matches more than itself.
      for (const resource of resources) expect(resource.replace(/\/\*$/, '')).not.toMatch(/[*?$]/);
    }
    expect(accepted.join('')).toBe("!'()-./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz");
    for (const keyPrefix of ['ssm/*', '*', 'ssm/run-?', 'ssm/$x', 'ssm/${aws:userid}']) {
      const result = withPrefix(keyPrefix);
      expect(result.ok ? [] : result.problems).toContainEqual(
        'asperaFleets[0].outputS3.keyPrefix: must not contain "*", "?" or "$": the prefix is part of the instances\' IAM policy (the ARN of the objects they may read or write), ' +
          'where IAM would read it as a wildcard or a policy variable ("${...}"), so the policy would allow more than the prefix',
      );
    }
  });

  test('hosts may be IPv6 addresses and names; a byte-order mark is tolerated', () => {
    const config = example();
    const hosts = ['2001:db8::10', 'aspera-1.example.com', '10.0.0.1'].map((host) => ({ host, user: 'ec2-user' }));
    expect(validateConfig({ ...config, asperaHosts: hosts })).toMatchObject({ ok: true });
    expect(parseConfig(`\uFEFF${readFileSync(EXAMPLE_CONFIG_PATH, 'utf8')}`)).toMatchObject({ ok: true });
  });
});

describe('ASPERA_CONFIG', () => {
  test('selects the file, relative to the working directory', () => {
    expect(configPathFromEnv({ ASPERA_CONFIG: 'configs/prod.json' }, '/srv/app')).toBe('/srv/app/configs/prod.json');
    expect(configPathFromEnv({ ASPERA_CONFIG: '/etc/aspera/prod.json' }, '/srv/app')).toBe('/etc/aspera/prod.json');
  });

  test('unset or empty means ./aspera.config.json', () => {
    expect(configPathFromEnv({}, '/srv/app')).toBe(resolve('/srv/app', DEFAULT_CONFIG_PATH));
    expect(configPathFromEnv({ ASPERA_CONFIG: '' }, '/srv/app')).toBe('/srv/app/aspera.config.json');
  });
});

describe('building blocks', () => {
  test('bucket names: valid ones pass, each broken rule is its own message', () => {
    for (const name of ['acme-aspera-inbox', 'a.b.c', '123', 'xn-acme', 'acme-s3alias-x', 'a'.repeat(63)]) expect(bucketNameProblems(name)).toEqual([]);
    expect(bucketNameProblems('-Acme..')).toEqual([
      'may contain only lowercase letters, digits, "." and "-" (S3 bucket naming rules)',
      'must begin with a letter or digit',
      'must end with a letter or digit',
      'must not contain ".."',
    ]);
    expect(bucketNameProblems('sthree-x.mrap')).toHaveLength(2);
    expect(bucketNameProblems('a'.repeat(64))).toEqual(['must be 3-63 characters long (S3 bucket naming rules)']);
  });

  test('duplicate keys are found at any depth, and strings that look like JSON do not confuse the scan', () => {
    const text = '{"g":[{"x":1},{"x":"\\"}{[,","y":2,"x":3}],"b":{"c":1,"c":{"d":1,"d":2}},"a":{"a":1}}';
    expect(JSON.parse(text)).toBeDefined();
    expect(duplicateKeyPaths(text)).toEqual(['g[1].x', 'b.c', 'b.c.d']);
    expect(duplicateKeyPaths('[{"a":1},{"a":2}]')).toEqual([]);
  });

  test('paths: dots for fields, brackets for indexes, quotes for keys that are not identifiers', () => {
    expect(jsonPath([])).toBe('(config)');
    expect(jsonPath(['grants', 0, 'bucket'])).toBe('grants[0].bucket');
    expect(jsonPath(['my account', 'x'])).toBe('["my account"].x');
    expect(jsonPath(['a\nb'])).toBe('["a\\nb"]');
  });

  test('values echoed back are JSON-escaped and short, so a line stays one line', () => {
    const config = JSON.parse(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8'));
    const result = validateConfig({ ...config, stackName: ['line\none', 'x'.repeat(100)] });
    expect(result.ok ? [] : result.problems).toEqual([expect.stringMatching(/^stackName: must be a stack name \(got \["line\\none","x+\.\.\.\)$/)]);
  });
});
