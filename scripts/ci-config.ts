/**
 * What the GitHub workflows need to know from the config, checked before any credential is asked for.
 *
 * The stack's providers name AWS profiles (myAccount.profile, otherAccount.profile). On CI those
 * profiles are written from two OIDC role sessions (.github/actions/aws-profiles), so the config
 * must name two distinct profiles, and a state bucket can only use one of them. Local state cannot
 * be applied or destroyed from CI: it would vanish with the runner, and a later destroy (the
 * revocation) would have nothing to destroy.
 *
 *   node --import tsx scripts/ci-config.ts aws plan|deploy   -> key=value lines for $GITHUB_OUTPUT
 *   node --import tsx scripts/ci-config.ts ssh-key-paths     -> one private key path per line
 * Problems go to stderr as "path: message" lines, exit code 1.
 */
import { isAbsolute, join } from 'node:path';
import type { Config } from '../src/config/schema';
import { configPathFromEnv, loadConfigFile } from '../src/config/load';

export type CiPurpose = 'plan' | 'deploy';

export interface CiAwsSettings {
  readonly myRegion: string;
  readonly myProfile: string;
  readonly otherRegion: string;
  readonly otherProfile: string;
  readonly stateBackend: 'local' | 's3';
  /** The profile the S3 state backend uses: state.profile, else the My Account profile. "" for local state. */
  readonly stateProfile: string;
}

export function ciAwsSettings(config: Config, purpose: CiPurpose): { ok: true; settings: CiAwsSettings } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const my = config.myAccount.profile;
  const other = config.otherAccount.profile;
  for (const [path, profile] of [['myAccount', my], ['otherAccount', other]] as const) {
    if (profile === undefined) {
      problems.push(
        `${path}.profile: CI writes this account's OIDC role credentials to a named profile, so the config must name one ("assumeRoleArn" alone cannot be served on CI)`,
      );
    }
  }
  if (my !== undefined && my === other) {
    problems.push(`otherAccount.profile: must differ from myAccount.profile on CI: each profile holds the credentials of one account`);
  }
  const state = config.state;
  if (state.backend === 's3' && state.profile !== undefined && state.profile !== my && state.profile !== other) {
    problems.push(`state.profile: CI provides only the profiles "${my}" and "${other}"; use one of them for the state bucket`);
  }
  if (state.backend === 'local' && purpose === 'deploy') {
    problems.push(
      'state.backend: "local" state would be lost with the CI runner, and a later destroy (the revocation) would find nothing to destroy; use { "backend": "s3", ... } to apply or destroy from CI, or run cdktf from an operator machine',
    );
  }
  if (problems.length > 0 || my === undefined || other === undefined) return { ok: false, problems };
  return {
    ok: true,
    settings: {
      myRegion: config.myAccount.region,
      myProfile: my,
      otherRegion: config.otherAccount.region,
      otherProfile: other,
      stateBackend: state.backend,
      stateProfile: state.backend === 's3' ? (state.profile ?? my) : '',
    },
  };
}

export function githubOutputLines(settings: CiAwsSettings): string {
  return [
    `my_region=${settings.myRegion}`,
    `my_profile=${settings.myProfile}`,
    `other_region=${settings.otherRegion}`,
    `other_profile=${settings.otherProfile}`,
    `state_backend=${settings.stateBackend}`,
    `state_profile=${settings.stateProfile}`,
  ].join('\n');
}

/**
 * Where the SSH private key must be for `cdktf apply|destroy` to reach the Aspera hosts: every
 * distinct privateKeyPath, "~" expanded. Relative paths are reported as problems: Terraform would
 * resolve them from the synthesized stack directory, not from here.
 */
export function sshKeyPaths(config: Config, home: string): { paths: string[]; problems: string[] } {
  const paths = new Set<string>();
  const problems: string[] = [];
  config.asperaHosts.forEach((host, i) => {
    const path = host.privateKeyPath;
    if (path === undefined) return;
    if (path === '~' || path.startsWith('~/')) paths.add(join(home, path.slice(1)));
    else if (isAbsolute(path)) paths.add(path);
    else problems.push(`asperaHosts[${i}].privateKeyPath: CI can only install the key at an absolute or "~/" path`);
  });
  return { paths: [...paths], problems };
}

function main(argv: string[]): number {
  const configPath = configPathFromEnv();
  const loaded = loadConfigFile(configPath);
  if (!loaded.ok) {
    process.stderr.write(`Invalid config ${configPath}:\n${loaded.problems.map((p) => `  ${p}`).join('\n')}\n`);
    return 1;
  }
  const [command, purpose] = argv;
  if (command === 'aws' && (purpose === 'plan' || purpose === 'deploy')) {
    const result = ciAwsSettings(loaded.config, purpose);
    if (!result.ok) {
      process.stderr.write(`${configPath} cannot be used from CI:\n${result.problems.map((p) => `  ${p}`).join('\n')}\n`);
      return 1;
    }
    process.stdout.write(`${githubOutputLines(result.settings)}\n`);
    return 0;
  }
  if (command === 'ssh-key-paths' && purpose === undefined) {
    const { paths, problems } = sshKeyPaths(loaded.config, process.env.HOME ?? '');
    if (problems.length > 0) {
      process.stderr.write(`${problems.join('\n')}\n`);
      return 1;
    }
    process.stdout.write(paths.map((p) => `${p}\n`).join(''));
    return 0;
  }
  process.stderr.write('Usage: node --import tsx scripts/ci-config.ts aws plan|deploy | ssh-key-paths\n');
  return 2;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
