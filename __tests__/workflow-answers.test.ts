/**
 * scripts/workflow-answers.ts: what CI needs per mode. A half needs its own account's OIDC role variable
 * and profile only; the other half's state is read with that same profile; every mismatch is one
 * line that says what to set. (The workflows that use these outputs: workflows.test.ts.)
 */
import { join } from 'node:path';
import {
  ciAccounts,
  ciAwsSettings,
  githubOutputLines,
  installsDocroots,
  main,
  missingRolesLine,
  planGate,
  planGateOutputLines,
  type RoleArns,
  sshKeyPaths,
  workflowCommand,
} from '../scripts/workflow-answers';
import type { Config } from '../src/config/schema';
import { configOf, ONE_GRANT, SEVERAL_GRANTS, twoOrganizations } from './helpers/report-fixtures';

const roles = (my: string, other: string): RoleArns => ({ MY_ACCOUNT_ROLE_ARN: my, OTHER_ACCOUNT_ROLE_ARN: other });
const NONE = roles('', '');

// Mode "both": SEVERAL_GRANTS (333333333333 / 444444444444, S3 state with profile "owner").
const both = configOf(SEVERAL_GRANTS);
const BOTH_MY = 'arn:aws:iam::333333333333:role/ci-plan';
const BOTH_OTHER = 'arn:aws:iam::444444444444:role/ci-plan';

// The two-organization walkthrough: My Account 111111111111, Other Account 222222222222.
const bucketOwner = configOf(twoOrganizations('bucket-owner.json'));
const bucketOwnerRemote = configOf(twoOrganizations('bucket-owner-remote-state.json'));
const transferHost = configOf(twoOrganizations('transfer-host.json'));
const transferHostRemote = configOf(twoOrganizations('transfer-host-generated-external-id.json'));
const HALF_MY = 'arn:aws:iam::111111111111:role/aspera/ci-deploy';
const HALF_OTHER = 'arn:aws:iam::222222222222:role/ci-deploy';

const problemsOf = (result: ReturnType<typeof ciAwsSettings>): string[] => (result.ok ? [] : result.problems);

describe('which OIDC role each mode needs', () => {
  test('a half assumes a role in its own account only; mode "both" in both accounts', () => {
    expect(ciAccounts(both)).toEqual(['myAccount', 'otherAccount']);
    expect(ciAccounts(bucketOwner)).toEqual(['myAccount']);
    expect(ciAccounts(transferHost)).toEqual(['otherAccount']);
  });

  test('a missing variable is one line: what to set, and in a half which variable is not used', () => {
    expect(missingRolesLine(both, NONE)).toBe(
      'mode both: set MY_ACCOUNT_ROLE_ARN (an OIDC role in My Account 333333333333) and OTHER_ACCOUNT_ROLE_ARN (an OIDC role in Other Account 444444444444)',
    );
    expect(missingRolesLine(both, roles(BOTH_MY, ''))).toBe('mode both: set OTHER_ACCOUNT_ROLE_ARN (an OIDC role in Other Account 444444444444)');
    // The other account's variable being set does not help a half: it is not its account.
    expect(missingRolesLine(bucketOwner, roles('', HALF_OTHER))).toBe(
      'mode bucket-owner: set MY_ACCOUNT_ROLE_ARN (an OIDC role in My Account 111111111111); OTHER_ACCOUNT_ROLE_ARN is not used',
    );
    expect(missingRolesLine(transferHost, roles(HALF_MY, ''))).toBe(
      'mode transfer-host: set OTHER_ACCOUNT_ROLE_ARN (an OIDC role in Other Account 222222222222); MY_ACCOUNT_ROLE_ARN is not used',
    );
    expect(missingRolesLine(bucketOwner, roles(HALF_MY, ''))).toBeUndefined();
    expect(missingRolesLine(transferHost, roles('', HALF_OTHER))).toBeUndefined();
    expect(missingRolesLine(both, roles(BOTH_MY, BOTH_OTHER))).toBeUndefined();
  });

  test.each<[string, boolean, Config, RoleArns]>([
    ['both, both variables', true, both, roles(BOTH_MY, BOTH_OTHER)],
    ['both, My Account only', false, both, roles(BOTH_MY, '')],
    ['bucket-owner, its own variable only', true, bucketOwner, roles(HALF_MY, '')],
    ['bucket-owner, the other variable only', false, bucketOwner, roles('', HALF_OTHER)],
    ['transfer-host, its own variable only', true, transferHost, roles('', HALF_OTHER)],
    ['transfer-host, the other variable only', false, transferHost, roles(HALF_MY, '')],
  ])('the plan gate: %s -> plan %s', (_name, plan, config, given) => {
    expect(planGate(config, given).plan).toBe(plan);
  });

  test('the plan gate says why in one line: the missing variables, and local state', () => {
    const gate = planGate(bucketOwner, NONE);
    expect(planGateOutputLines(gate)).toBe(
      'plan=false\nwhy=mode bucket-owner: set MY_ACCOUNT_ROLE_ARN (an OIDC role in My Account 111111111111); OTHER_ACCOUNT_ROLE_ARN is not used',
    );
    expect(planGateOutputLines(planGate(bucketOwner, roles(HALF_MY, '')))).toBe('plan=true\nwhy=');
    // ONE_GRANT keeps its state locally: roles or not, there is nothing to plan against.
    const local = planGate(configOf(ONE_GRANT), roles('arn:aws:iam::111111111111:role/a', 'arn:aws:iam::222222222222:role/b'));
    expect(local).toEqual({ plan: false, why: expect.stringMatching(/^the config keeps its Terraform state locally/) });
    const localAndMissing = planGate(configOf(ONE_GRANT), NONE);
    expect(localAndMissing.plan === false && localAndMissing.why.split('; and ')).toEqual([
      expect.stringMatching(/^mode both: set MY_ACCOUNT_ROLE_ARN/),
      expect.stringMatching(/^the config keeps/),
    ]);
    expect(localAndMissing.plan === false && localAndMissing.why).not.toContain('\n');
  });
});

describe('AWS settings per mode (the pre-check of .github/actions/aws-profiles)', () => {
  test('mode both: two sessions, written as the two profiles the config names', () => {
    const result = ciAwsSettings(both, 'deploy', roles(BOTH_MY, BOTH_OTHER));
    expect(result).toEqual({
      ok: true,
      warnings: [],
      settings: {
        accounts: [
          { account: 'myAccount', roleVariable: 'MY_ACCOUNT_ROLE_ARN', profile: 'owner', region: 'eu-west-1' },
          { account: 'otherAccount', roleVariable: 'OTHER_ACCOUNT_ROLE_ARN', profile: 'operator', region: 'eu-west-1' },
        ],
        stateProfile: 'owner',
      },
    });
    if (result.ok) {
      expect(githubOutputLines(result.settings).split('\n')).toEqual([
        'my_account=true',
        'my_profile=owner',
        'my_region=eu-west-1',
        'other_account=true',
        'other_profile=operator',
        'other_region=eu-west-1',
        'state_profile=owner',
      ]);
    }
  });

  test('mode bucket-owner: only the My Account session; Other Account gets neither a role nor a profile', () => {
    const result = ciAwsSettings(bucketOwner, 'deploy', roles(HALF_MY, ''));
    expect(result.ok && result.warnings).toEqual([]);
    expect(result.ok && githubOutputLines(result.settings).split('\n')).toEqual([
      'my_account=true',
      'my_profile=acme-storage',
      'my_region=us-east-1',
      'other_account=false',
      'other_profile=',
      'other_region=',
      'state_profile=acme-storage',
    ]);
    // Without its own variable the half cannot run, whatever else is set.
    expect(problemsOf(ciAwsSettings(bucketOwner, 'deploy', roles('', HALF_OTHER)))).toEqual([
      'mode bucket-owner: set MY_ACCOUNT_ROLE_ARN (an OIDC role in My Account 111111111111); OTHER_ACCOUNT_ROLE_ARN is not used',
    ]);
  });

  test('mode transfer-host: only the Other Account session, which the state bucket uses when state.profile is left out', () => {
    const noStateProfile = configOf(twoOrganizations('transfer-host.json'), (d) => {
      if (d.state?.backend === 's3') delete d.state.profile;
    });
    const result = ciAwsSettings(noStateProfile, 'plan', roles('', HALF_OTHER));
    expect(result.ok && githubOutputLines(result.settings).split('\n')).toEqual([
      'my_account=false',
      'my_profile=',
      'my_region=',
      'other_account=true',
      'other_profile=xfer-operator',
      'other_region=us-east-1',
      'state_profile=xfer-operator',
    ]);
    // In mode "both" the default stays My Account's profile.
    const bothNoStateProfile = configOf(SEVERAL_GRANTS, (d) => void (d.state = { backend: 's3', bucket: 'acme-tfstate', key: 'k', region: 'eu-west-1' }));
    const bothResult = ciAwsSettings(bothNoStateProfile, 'plan', roles(BOTH_MY, BOTH_OTHER));
    expect(bothResult.ok && bothResult.settings.stateProfile).toBe('owner');
  });

  test('the unused variable of a half is a warning, not a failure', () => {
    const owner = ciAwsSettings(bucketOwner, 'deploy', roles(HALF_MY, HALF_OTHER));
    expect(owner.ok).toBe(true);
    expect(owner.warnings).toEqual(['mode bucket-owner: OTHER_ACCOUNT_ROLE_ARN is set but not used: this half assumes no role in Other Account']);
    const host = ciAwsSettings(transferHost, 'deploy', roles(HALF_MY, HALF_OTHER));
    expect(host.ok && host.warnings).toEqual(['mode transfer-host: MY_ACCOUNT_ROLE_ARN is set but not used: this half assumes no role in My Account']);
    expect(ciAwsSettings(both, 'deploy', roles(BOTH_MY, BOTH_OTHER)).warnings).toEqual([]);
  });

  test('a role variable that names another account or partition is refused, one line each, its value escaped', () => {
    // Swapped variables: each session would land in the other account.
    expect(problemsOf(ciAwsSettings(both, 'plan', roles(BOTH_OTHER, BOTH_MY)))).toEqual([
      'mode both: MY_ACCOUNT_ROLE_ARN must be a role in My Account ("arn:aws:iam::333333333333:role/<name>", from myAccount.accountId and .region), not "arn:aws:iam::444444444444:role/ci-plan"',
      'mode both: OTHER_ACCOUNT_ROLE_ARN must be a role in Other Account ("arn:aws:iam::444444444444:role/<name>", from otherAccount.accountId and .region), not "arn:aws:iam::333333333333:role/ci-plan"',
    ]);
    // A half checks only its own variable: the unused one may hold anything.
    expect(problemsOf(ciAwsSettings(transferHost, 'plan', roles('not an arn', HALF_OTHER)))).toEqual([]);
    for (const wrong of ['arn:aws-us-gov:iam::222222222222:role/ci', 'arn:aws:iam::222222222222:role/', 'arn:aws:iam::222222222222:user/ci', 'x\n::error::injected']) {
      const problems = problemsOf(ciAwsSettings(transferHost, 'plan', roles('', wrong)));
      expect(problems).toEqual([expect.stringMatching(/^mode transfer-host: OTHER_ACCOUNT_ROLE_ARN must be a role in Other Account /)]);
      expect(problems[0]).not.toContain('\n');
    }
  });

  test('each account this mode uses must name a profile; only mode "both" has two that must differ', () => {
    const ownerByRole = configOf(
      twoOrganizations('bucket-owner.json'),
      (d) => void ((d.myAccount = { accountId: '111111111111', region: 'us-east-1', assumeRoleArn: 'arn:aws:iam::111111111111:role/deployer' }), delete (d.state as { profile?: string }).profile),
    );
    expect(problemsOf(ciAwsSettings(ownerByRole, 'plan', roles(HALF_MY, '')))).toEqual([expect.stringMatching(/^myAccount\.profile: CI writes this account's OIDC role credentials/)]);
    const hostByRole = configOf(
      twoOrganizations('transfer-host.json'),
      (d) => void ((d.otherAccount = { accountId: '222222222222', region: 'us-east-1', assumeRoleArn: 'arn:aws:iam::222222222222:role/deployer' }), delete (d.state as { profile?: string }).profile),
    );
    expect(problemsOf(ciAwsSettings(hostByRole, 'plan', roles('', HALF_OTHER)))).toEqual([expect.stringMatching(/^otherAccount\.profile: /)]);
    const sameProfile = configOf(SEVERAL_GRANTS, (d) => void (d.otherAccount = { accountId: '444444444444', region: 'eu-west-1', profile: 'owner' }));
    expect(problemsOf(ciAwsSettings(sameProfile, 'plan', roles(BOTH_MY, BOTH_OTHER)))).toEqual([expect.stringMatching(/^otherAccount\.profile: must differ/)]);
  });

  test('the state bucket can only use a profile CI writes: in a half, the half\'s own', () => {
    const stray = configOf(twoOrganizations('bucket-owner.json'), (d) => {
      if (d.state?.backend === 's3') d.state.profile = 'acme-state';
    });
    expect(problemsOf(ciAwsSettings(stray, 'plan', roles(HALF_MY, '')))).toEqual(['state.profile: CI provides only the profile "acme-storage"; use it for the state bucket']);
    const strayBoth = configOf(SEVERAL_GRANTS, (d) => void (d.state = { backend: 's3', bucket: 'acme-tfstate', key: 'k', region: 'eu-west-1', profile: 'state' }));
    expect(problemsOf(ciAwsSettings(strayBoth, 'plan', roles(BOTH_MY, BOTH_OTHER)))).toEqual([
      'state.profile: CI provides only the profiles "owner" and "operator"; use one of them for the state bucket',
    ]);
  });

  test('the other half\'s state is read with the half\'s own session: the same profile or none, never another', () => {
    expect(ciAwsSettings(bucketOwnerRemote, 'plan', roles(HALF_MY, '')).ok).toBe(true);
    expect(ciAwsSettings(transferHostRemote, 'deploy', roles('', HALF_OTHER)).ok).toBe(true);
    const noProfile = configOf(twoOrganizations('bucket-owner-remote-state.json'), (d) => void delete d.otherHalfState?.profile);
    expect(ciAwsSettings(noProfile, 'plan', roles(HALF_MY, '')).ok).toBe(true);
    // The operator's profile exists on the operator's machines, not on this half's CI.
    const theirs = configOf(twoOrganizations('bucket-owner-remote-state.json'), (d) => {
      if (d.otherHalfState !== undefined) d.otherHalfState.profile = 'xfer-operator';
    });
    expect(problemsOf(ciAwsSettings(theirs, 'plan', roles(HALF_MY, '')))).toEqual([
      'otherHalfState.profile: CI provides only the profile "acme-storage" (this half\'s OIDC role), and reads the other half\'s state with it; set otherHalfState.profile to "acme-storage" or leave it out, and have the other party allow that role s3:GetObject on acme-xfer-shared-state/aspera/acme-transfer-host.tfstate',
    ]);
    const theirsToo = configOf(twoOrganizations('transfer-host-generated-external-id.json'), (d) => {
      if (d.otherHalfState !== undefined) d.otherHalfState.profile = 'acme-storage';
    });
    expect(problemsOf(ciAwsSettings(theirsToo, 'deploy', roles('', HALF_OTHER)))).toEqual([expect.stringMatching(/^otherHalfState\.profile: CI provides only the profile "xfer-operator" /)]);
  });

  test('local state is never planned, applied or destroyed from CI', () => {
    const local = configOf(ONE_GRANT);
    const given = roles('arn:aws:iam::111111111111:role/a', 'arn:aws:iam::222222222222:role/b');
    expect(problemsOf(ciAwsSettings(local, 'plan', given))).toEqual([expect.stringMatching(/^state\.backend: the config keeps its Terraform state locally/)]);
    expect(problemsOf(ciAwsSettings(local, 'deploy', given))).toEqual([expect.stringMatching(/^state\.backend: "local" state would be lost/)]);
  });
});

describe('SSH keys for the Aspera hosts', () => {
  test('go to each distinct key path, "~" expanded; a relative path is refused', () => {
    const config = configOf(SEVERAL_GRANTS, (d) => {
      d.asperaHosts = [
        { host: 'a.example.com', user: 'u', privateKeyPath: '~/.ssh/a.pem' },
        { host: 'b.example.com', user: 'u', privateKeyPath: '~/.ssh/a.pem' },
        { host: 'c.example.com', user: 'u', privateKeyPath: '/etc/keys/c.pem' },
        { host: 'd.example.com', user: 'u' },
      ];
    });
    expect(sshKeyPaths(config, '/home/runner')).toEqual({ paths: ['/home/runner/.ssh/a.pem', '/etc/keys/c.pem'], problems: [] });
    // The config schema refuses a relative key path; sshKeyPaths still refuses one it is given.
    const absoluteKey = configOf(ONE_GRANT, (d) => void (d.asperaHosts = [{ host: 'a.example.com', user: 'u', privateKeyPath: '/keys/a.pem' }]));
    const relativeKey = { ...absoluteKey, asperaHosts: [{ ...absoluteKey.asperaHosts[0], privateKeyPath: 'keys/a.pem' }] };
    expect(sshKeyPaths(relativeKey, '/home/runner').problems).toEqual([expect.stringMatching(/^asperaHosts\[0\]\.privateKeyPath: /)]);
  });

  test('are needed by the half that configures the hosts, not by the bucket owner', () => {
    expect([installsDocroots(bucketOwner), installsDocroots(transferHost), installsDocroots(both)]).toEqual([false, true, true]);
    expect(sshKeyPaths(transferHost, '/home/runner').paths).toEqual(['/home/runner/.ssh/aspera.pem']);
    expect(installsDocroots(configOf(SEVERAL_GRANTS, (d) => void (d.asperaHosts = [])))).toBe(false);
  });
});

describe('the command line, as the workflows call it', () => {
  const FIXTURES = join(__dirname, 'fixtures', 'configs', 'two-organizations');
  const run = (argv: string[], env: NodeJS.ProcessEnv) => {
    let stdout = '';
    let stderr = '';
    const code = main(argv, { env, cwd: __dirname, stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
    return { code, stdout, stderr };
  };

  test('plan-gate reads the role variables from the environment and writes $GITHUB_OUTPUT lines', () => {
    const env = { ASPERA_CONFIG: join(FIXTURES, 'transfer-host.json') };
    expect(run(['plan-gate'], { ...env, MY_ACCOUNT_ROLE_ARN: HALF_MY })).toEqual({
      code: 0,
      stdout: 'plan=false\nwhy=mode transfer-host: set OTHER_ACCOUNT_ROLE_ARN (an OIDC role in Other Account 222222222222); MY_ACCOUNT_ROLE_ARN is not used\n',
      stderr: '',
    });
    expect(run(['plan-gate'], { ...env, OTHER_ACCOUNT_ROLE_ARN: HALF_OTHER }).stdout).toBe('plan=true\nwhy=\n');
  });

  test('aws: outputs on stdout, an unused variable as a warning annotation, problems as error annotations and exit 1', () => {
    const env = { ASPERA_CONFIG: join(FIXTURES, 'bucket-owner.json') };
    const ok = run(['aws', 'deploy'], { ...env, MY_ACCOUNT_ROLE_ARN: HALF_MY, OTHER_ACCOUNT_ROLE_ARN: HALF_OTHER });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('my_account=true\nmy_profile=acme-storage\n');
    expect(ok.stderr).toBe('::warning title=Unused OIDC role variable::mode bucket-owner: OTHER_ACCOUNT_ROLE_ARN is set but not used: this half assumes no role in Other Account\n');
    const missing = run(['aws', 'deploy'], { ...env, OTHER_ACCOUNT_ROLE_ARN: HALF_OTHER });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr.split('\n')).toContain(
      '::error title=Config not usable on CI::mode bucket-owner: set MY_ACCOUNT_ROLE_ARN (an OIDC role in My Account 111111111111); OTHER_ACCOUNT_ROLE_ARN is not used',
    );
  });

  test('installs-docroots and ssh-key-paths follow the half', () => {
    expect(run(['installs-docroots'], { ASPERA_CONFIG: join(FIXTURES, 'bucket-owner.json') }).stdout).toBe('false\n');
    expect(run(['installs-docroots'], { ASPERA_CONFIG: join(FIXTURES, 'transfer-host.json') }).stdout).toBe('true\n');
    expect(run(['ssh-key-paths'], { ASPERA_CONFIG: join(FIXTURES, 'transfer-host.json'), HOME: '/home/runner' }).stdout).toBe('/home/runner/.ssh/aspera.pem\n');
  });

  test('wrong usage exits 2 and an invalid config 1, naming the file', () => {
    expect(run(['aws'], {}).code).toBe(2);
    expect(run(['plan-gate', 'extra'], {}).code).toBe(2);
    const invalid = run(['plan-gate'], { ASPERA_CONFIG: join(__dirname, 'fixtures', 'configs', 'invalid', 'empty.json') });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^Invalid config .*empty\.json:\n/);
  });

  test('annotations escape what the runner would read as a line break or an escape', () => {
    expect(workflowCommand('error', 'a: b, c', '100% sure\nnext')).toBe('::error title=a%3A b%2C c::100%25 sure%0Anext\n');
  });
});
