/**
 * The answers to the GitHub workflows' questions about the config (may the plan run? which AWS
 * accounts and profiles? does apply reach Aspera hosts, with which SSH keys?), checked before any
 * credential is asked for.
 *
 * The stack configures an AWS provider for each account whose half it applies (src/modes/mode.ts):
 * both accounts in mode "both", My Account only in "bucket-owner", Other Account only in
 * "transfer-host". On CI, each of those accounts' provider profiles is written from one OIDC role
 * session (.github/actions/aws-profiles), whose ARN is in the variable MY_ACCOUNT_ROLE_ARN or
 * OTHER_ACCOUNT_ROLE_ARN. So CI needs exactly those variables and profiles, a state bucket can only
 * use one of those profiles, and so can the read of the other half's state (otherHalfState). Local
 * state cannot be planned, applied or destroyed from CI: it would vanish with the runner, and a
 * later destroy (the revocation) would have nothing to destroy.
 *
 *   node --import tsx scripts/workflow-answers.ts plan-gate          -> plan=true|false, why=... for $GITHUB_OUTPUT
 *   node --import tsx scripts/workflow-answers.ts aws plan|deploy    -> key=value lines for $GITHUB_OUTPUT
 *   node --import tsx scripts/workflow-answers.ts installs-docroots  -> true|false
 *   node --import tsx scripts/workflow-answers.ts ssh-key-paths      -> one private key path per line
 * The role ARNs are read from the environment variables of the same names ("" or unset: not set).
 * Problems go to stderr, one ::error:: line each (an annotation on the run), exit code 1; warnings
 * as ::warning:: lines.
 */
import { isAbsolute, join } from 'node:path';
import type { Config } from '../src/config/schema';
import { configPathFromEnv, loadConfigFile } from '../src/config-file';
import { iamRoleArn } from '../src/aws/arns';
import { partitionOf } from '../src/aws/partitions';
import { halfOwnership } from '../src/modes/half-ownership';
import { appliesBucketOwnerHalf, appliesTransferHostHalf } from '../src/modes/mode';

export type CiPurpose = 'plan' | 'deploy';

/** The two accounts as CI knows them: the variable with the account's OIDC role, and the prefix of its $GITHUB_OUTPUT keys. */
export const CI_ACCOUNTS = {
  myAccount: { roleVariable: 'MY_ACCOUNT_ROLE_ARN', label: 'My Account', output: 'my' },
  otherAccount: { roleVariable: 'OTHER_ACCOUNT_ROLE_ARN', label: 'Other Account', output: 'other' },
} as const;
export type CiAccountKey = keyof typeof CI_ACCOUNTS;
export type RoleVariable = (typeof CI_ACCOUNTS)[CiAccountKey]['roleVariable'];

/** The OIDC role ARNs CI was given (repository or environment variables); "" when a variable is not set. */
export type RoleArns = Readonly<Record<RoleVariable, string>>;

export function roleArnsFromEnv(env: NodeJS.ProcessEnv): RoleArns {
  return { MY_ACCOUNT_ROLE_ARN: env.MY_ACCOUNT_ROLE_ARN ?? '', OTHER_ACCOUNT_ROLE_ARN: env.OTHER_ACCOUNT_ROLE_ARN ?? '' };
}

/** The accounts whose provider the config's stack configures, in order: CI assumes one role in each, and no other. */
export function ciAccounts(config: Config): CiAccountKey[] {
  return [...(appliesBucketOwnerHalf(config.mode) ? ['myAccount' as const] : []), ...(appliesTransferHostHalf(config.mode) ? ['otherAccount' as const] : [])];
}

const unusedAccounts = (config: Config): CiAccountKey[] => (['myAccount', 'otherAccount'] as const).filter((a) => !ciAccounts(config).includes(a));

const roleIn = (config: Config, account: CiAccountKey) =>
  `an OIDC role in ${CI_ACCOUNTS[account].label} ${config[account].accountId}`;

/**
 * The one line that says which role variables the config's mode needs, when one of them is not
 * set: "mode bucket-owner: set MY_ACCOUNT_ROLE_ARN (...); OTHER_ACCOUNT_ROLE_ARN is not used".
 * undefined when every needed variable is set.
 */
export function missingRolesLine(config: Config, roles: RoleArns): string | undefined {
  const missing = ciAccounts(config).filter((a) => roles[CI_ACCOUNTS[a].roleVariable] === '');
  if (missing.length === 0) return undefined;
  const set = missing.map((a) => `${CI_ACCOUNTS[a].roleVariable} (${roleIn(config, a)})`).join(' and ');
  const unused = unusedAccounts(config).map((a) => `; ${CI_ACCOUNTS[a].roleVariable} is not used`).join('');
  return `mode ${config.mode}: set ${set}${unused}`;
}

/**
 * A role variable that is set but cannot be the role of its account: its session would land in
 * another account, which the provider's allowed_account_ids refuses only after Terraform started.
 */
export function roleArnProblems(config: Config, roles: RoleArns): string[] {
  return ciAccounts(config).flatMap((account) => {
    const { roleVariable, label } = CI_ACCOUNTS[account];
    const arn = roles[roleVariable];
    // What every role ARN in the account starts with: the role ARN with an empty name.
    const expected = iamRoleArn(partitionOf(config[account].region), config[account].accountId, '');
    if (arn === '' || (arn.startsWith(expected) && arn.length > expected.length && !/\s/.test(arn))) return [];
    // JSON: a variable's value is shown escaped, so it cannot start a line of its own (a workflow command).
    return [`mode ${config.mode}: ${roleVariable} must be a role in ${label} ("${expected}<name>", from ${account}.accountId and .region), not ${JSON.stringify(arn)}`];
  });
}

/** Role variables that are set although this mode assumes no role in their account: harmless, but likely a mix-up. */
export function unusedRoleWarnings(config: Config, roles: RoleArns): string[] {
  return unusedAccounts(config)
    .filter((a) => roles[CI_ACCOUNTS[a].roleVariable] !== '')
    .map((a) => `mode ${config.mode}: ${CI_ACCOUNTS[a].roleVariable} is set but not used: this half assumes no role in ${CI_ACCOUNTS[a].label}`);
}

const LOCAL_STATE_PLAN =
  'the config keeps its Terraform state locally (state.backend "local"), so CI has no state to plan against; use an S3 state backend';

/**
 * Whether the pull request / main plan can run: the role variables the mode needs are set and the
 * state is in S3. Otherwise why not, in one line, for the notice. (Everything else the plan job
 * checks itself, and fails on: see ciAwsSettings.)
 */
export function planGate(config: Config, roles: RoleArns): { plan: true } | { plan: false; why: string } {
  const reasons = [missingRolesLine(config, roles), config.state.backend === 'local' ? LOCAL_STATE_PLAN : undefined].filter((r) => r !== undefined);
  return reasons.length === 0 ? { plan: true } : { plan: false, why: reasons.join('; and ') };
}

export function planGateOutputLines(gate: ReturnType<typeof planGate>): string {
  return gate.plan ? 'plan=true\nwhy=' : `plan=false\nwhy=${gate.why}`;
}

export interface CiAccount {
  readonly account: CiAccountKey;
  readonly roleVariable: RoleVariable;
  readonly profile: string;
  readonly region: string;
}

export interface CiAwsSettings {
  /** One per account whose provider the stack configures, in ciAccounts order. */
  readonly accounts: readonly CiAccount[];
  /** The profile the S3 state backend uses: state.profile, else the first account's (My Account's in mode "both"). */
  readonly stateProfile: string;
}

export type CiAwsResult = { ok: true; settings: CiAwsSettings; warnings: string[] } | { ok: false; problems: string[]; warnings: string[] };

export function ciAwsSettings(config: Config, purpose: CiPurpose, roles: RoleArns): CiAwsResult {
  const problems: string[] = [];
  const missingRoles = missingRolesLine(config, roles);
  if (missingRoles !== undefined) problems.push(missingRoles);
  problems.push(...roleArnProblems(config, roles));

  const accounts: CiAccount[] = [];
  for (const account of ciAccounts(config)) {
    const { profile, region } = config[account];
    if (profile === undefined) {
      problems.push(
        `${account}.profile: CI writes this account's OIDC role credentials to a named profile, so the config must name one ("assumeRoleArn" alone cannot be served on CI)`,
      );
    } else accounts.push({ account, roleVariable: CI_ACCOUNTS[account].roleVariable, profile, region });
  }
  // Only mode "both" has two profiles.
  if (accounts.length === 2 && accounts[0].profile === accounts[1].profile) {
    problems.push(`otherAccount.profile: must differ from myAccount.profile on CI: each profile holds the credentials of one account`);
  }
  const profiles = accounts.map((a) => a.profile);
  const provided = profiles.length === 1 ? `only the profile "${profiles[0]}"` : `only the profiles ${profiles.map((p) => `"${p}"`).join(' and ')}`;
  const state = config.state;
  if (state.backend === 's3' && state.profile !== undefined && profiles.length > 0 && !profiles.includes(state.profile)) {
    problems.push(`state.profile: CI provides ${provided}; use ${profiles.length === 1 ? 'it' : 'one of them'} for the state bucket`);
  }
  // The other half's state is read with this half's own session (a half has one profile): its
  // owner grants that role s3:GetObject on the object. CI has no way to get credentials of another
  // account or organization, and must not.
  const remote = config.otherHalfState;
  if (remote?.profile !== undefined && profiles.length > 0 && !profiles.includes(remote.profile)) {
    problems.push(
      `otherHalfState.profile: CI provides ${provided} (this half's OIDC role), and reads the other half's state with it; set otherHalfState.profile to "${profiles[0]}" or leave it out, and have the other party allow that role s3:GetObject on ${remote.bucket}/${remote.key}`,
    );
  }
  if (state.backend === 'local') {
    problems.push(
      purpose === 'deploy'
        ? 'state.backend: "local" state would be lost with the CI runner, and a later destroy (the revocation) would find nothing to destroy; use { "backend": "s3", ... } to apply or destroy from CI, or run cdktf from an operator machine'
        : `state.backend: ${LOCAL_STATE_PLAN}`,
    );
  }
  const warnings = unusedRoleWarnings(config, roles);
  if (problems.length > 0) return { ok: false, problems, warnings };
  return {
    ok: true,
    warnings,
    settings: { accounts, stateProfile: state.backend === 's3' ? (state.profile ?? accounts[0].profile) : '' },
  };
}

/**
 * The $GITHUB_OUTPUT lines the composite action reads: per account "<my|other>_account" (whether
 * to assume its role), its profile and region ("" when not used), and the state backend's profile.
 */
export function githubOutputLines(settings: CiAwsSettings): string {
  const lines = (Object.keys(CI_ACCOUNTS) as CiAccountKey[]).flatMap((key) => {
    const prefix = CI_ACCOUNTS[key].output;
    const used = settings.accounts.find((a) => a.account === key);
    return [`${prefix}_account=${used !== undefined}`, `${prefix}_profile=${used?.profile ?? ''}`, `${prefix}_region=${used?.region ?? ''}`];
  });
  return [...lines, `state_profile=${settings.stateProfile}`].join('\n');
}

/** Whether apply/destroy of this config connects to Aspera hosts (and so needs the SSH key). */
export const installsDocroots = (config: Config): boolean => halfOwnership(config).installsDocroots;

/**
 * Where the SSH private key must be for `cdktf apply|destroy` to reach the Aspera hosts: every
 * distinct privateKeyPath, "~" expanded. Relative paths are reported as problems: Terraform would
 * resolve them from the synthesized stack directory, not from here.
 */
export function sshKeyPaths(config: Config, home: string): { paths: string[]; problems: string[] } {
  const paths = new Set<string>();
  const problems: string[] = [];
  if (!installsDocroots(config)) return { paths: [], problems };
  config.asperaHosts.forEach((host, i) => {
    const path = host.privateKeyPath;
    if (path === undefined) return;
    if (path === '~' || path.startsWith('~/')) paths.add(join(home, path.slice(1)));
    else if (isAbsolute(path)) paths.add(path);
    else problems.push(`asperaHosts[${i}].privateKeyPath: CI can only install the key at an absolute or "~/" path`);
  });
  return { paths: [...paths], problems };
}

export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/**
 * A GitHub workflow command line (an annotation on the run), its message escaped as the runner
 * expects, so a value in it can neither end the line nor be read as another command.
 */
export function workflowCommand(command: 'error' | 'warning' | 'notice', title: string, message: string): string {
  const escape = (text: string) => text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const escapeProperty = (text: string) => escape(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
  return `::${command} title=${escapeProperty(title)}::${escape(message)}\n`;
}

const COMMANDS: readonly (readonly string[])[] = [['plan-gate'], ['aws', 'plan'], ['aws', 'deploy'], ['installs-docroots'], ['ssh-key-paths']];

export function main(argv: readonly string[], io: CliIo): number {
  if (!COMMANDS.some((c) => c.length === argv.length && c.every((word, i) => word === argv[i]))) {
    io.stderr('Usage: node --import tsx scripts/workflow-answers.ts plan-gate | aws plan|deploy | installs-docroots | ssh-key-paths\n');
    return 2;
  }
  const configPath = configPathFromEnv(io.env, io.cwd);
  const loaded = loadConfigFile(configPath);
  if (!loaded.ok) {
    io.stderr(`Invalid config ${configPath}:\n${loaded.problems.map((p) => `  ${p}`).join('\n')}\n`);
    return 1;
  }
  const config = loaded.config;
  const roles = roleArnsFromEnv(io.env);
  const [command, purpose] = argv;
  if (command === 'plan-gate') {
    io.stdout(`${planGateOutputLines(planGate(config, roles))}\n`);
    return 0;
  }
  if (command === 'aws') {
    const result = ciAwsSettings(config, purpose as CiPurpose, roles);
    for (const warning of result.warnings) io.stderr(workflowCommand('warning', 'Unused OIDC role variable', warning));
    if (!result.ok) {
      io.stderr(`${configPath} cannot be used from CI:\n`);
      for (const problem of result.problems) io.stderr(workflowCommand('error', 'Config not usable on CI', problem));
      return 1;
    }
    io.stdout(`${githubOutputLines(result.settings)}\n`);
    return 0;
  }
  if (command === 'installs-docroots') {
    io.stdout(`${installsDocroots(config)}\n`);
    return 0;
  }
  // ssh-key-paths
  const { paths, problems } = sshKeyPaths(config, io.env.HOME ?? '');
  if (problems.length > 0) {
    io.stderr(`${problems.join('\n')}\n`);
    return 1;
  }
  io.stdout(paths.map((p) => `${p}\n`).join(''));
  return 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2), {
    env: process.env,
    cwd: process.cwd(),
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
}
