/**
 * The GitHub workflows: valid against the workflow/action schema (@action-validator/core), and
 * the rules this project holds them to: every action pinned to a commit SHA, least-privilege
 * permissions per job, apply/destroy only by manual dispatch behind an environment, Terraform
 * installed wherever cdktf talks to it, no GitHub expression inlined into a shell script, and the
 * access review posted from a diff against the base branch.
 */
import { validateAction, validateWorkflow } from '@action-validator/core';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { ciAwsSettings, githubOutputLines, sshKeyPaths } from '../scripts/ci-config';
import { configOf, ONE_GRANT, SEVERAL_GRANTS } from './report-fixtures';

const ROOT = join(__dirname, '..');
const WORKFLOWS = join(ROOT, '.github', 'workflows');
const ACTIONS = join(ROOT, '.github', 'actions');

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}
interface Job {
  if?: string;
  permissions?: Record<string, string> | string;
  environment?: string | { name: string };
  steps?: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: unknown;
  env?: Record<string, unknown>;
  jobs: Record<string, Job>;
}

const workflowFiles = readdirSync(WORKFLOWS)
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => join(WORKFLOWS, f));
const actionFiles = existsSync(ACTIONS)
  ? readdirSync(ACTIONS)
      .map((d) => join(ACTIONS, d, 'action.yml'))
      .filter((f) => existsSync(f))
  : [];
const text = (file: string) => readFileSync(file, 'utf8');
const workflows = new Map(workflowFiles.map((f) => [relative(ROOT, f), parse(text(f)) as Workflow]));
const composite = new Map(actionFiles.map((f) => [relative(ROOT, f), parse(text(f)) as { runs: { steps: Step[] } }]));

const AWS_PROFILES_ACTION = './.github/actions/aws-profiles';
const allJobs = [...workflows].flatMap(([file, wf]) => Object.entries(wf.jobs).map(([id, job]) => ({ file, wf, id, job, steps: job.steps ?? [] })));
const runs = (steps: Step[]) => steps.map((s) => s.run ?? '').join('\n');

test('the workflows this project relies on exist', () => {
  expect([...workflows.keys()].sort()).toEqual(['.github/workflows/ci.yml', '.github/workflows/deploy.yml']);
  expect([...composite.keys()]).toEqual(['.github/actions/aws-profiles/action.yml']);
});

describe('schema validation (@action-validator/core)', () => {
  test('rejects a broken workflow, so a pass below means something', () => {
    expect(validateWorkflow('on: push\njobs:\n  a:\n    steps:\n      - run: echo\n').errors.length).toBeGreaterThan(0);
    expect(validateWorkflow('on: push\njobs:\n  a:\n    runs-on: x\n    permissions:\n      contents: sometimes\n    steps:\n      - run: echo\n').errors.length).toBeGreaterThan(0);
  });

  test.each(workflowFiles.map((f) => [relative(ROOT, f), f]))('%s is a valid workflow', (_name, file) => {
    expect(validateWorkflow(text(file)).errors).toEqual([]);
  });

  test.each(actionFiles.map((f) => [relative(ROOT, f), f]))('%s is a valid action', (_name, file) => {
    expect(validateAction(text(file)).errors).toEqual([]);
  });
});

describe('pinned actions', () => {
  const files = [...workflowFiles, ...actionFiles];
  const usesLines = files.flatMap((file) =>
    text(file)
      .split('\n')
      .map((line) => /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ file: relative(ROOT, file), ref: m[1], comment: m[2] })),
  );

  test('the line scan sees every uses: the YAML has', () => {
    const parsedUses = [...workflows.values()]
      .flatMap((wf) => Object.values(wf.jobs).flatMap((j) => j.steps ?? []))
      .concat([...composite.values()].flatMap((a) => a.runs.steps))
      .filter((s) => s.uses !== undefined);
    expect(usesLines).toHaveLength(parsedUses.length);
    expect(usesLines.length).toBeGreaterThan(5);
  });

  test('every remote action is pinned to a full commit SHA with its version in a comment', () => {
    for (const use of usesLines) {
      if (use.ref.startsWith('./')) continue;
      expect({ ...use, ok: /^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/.test(use.ref) }).toMatchObject({ ok: true });
      expect({ ...use, ok: /^\s+# v\d+\.\d+\.\d+\s*$/.test(use.comment) }).toMatchObject({ ok: true });
    }
  });

  test('one action, one SHA and one version everywhere', () => {
    const seen = new Map<string, string>();
    for (const use of usesLines.filter((u) => !u.ref.startsWith('./'))) {
      const [action] = use.ref.split('@');
      const pin = `${use.ref}${use.comment.trim()}`;
      expect([action, seen.get(action) ?? pin]).toEqual([action, pin]);
      seen.set(action, pin);
    }
  });
});

describe('permissions', () => {
  test('every workflow grants nothing by default and every job states its own permissions', () => {
    for (const [file, wf] of workflows) expect([file, wf.permissions]).toEqual([file, {}]);
    for (const { file, id, job } of allJobs) expect([file, id, typeof job.permissions]).toEqual([file, id, 'object']);
  });

  test('each job gets only what it uses: read contents, write PR comments only to post one, an OIDC token only to assume AWS roles', () => {
    for (const { file, id, job, steps } of allJobs) {
      const permissions = job.permissions as Record<string, string>;
      const usesAws = steps.some((s) => s.uses === AWS_PROFILES_ACTION || s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
      const comments = steps.some((s) => s.uses?.startsWith('marocchino/sticky-pull-request-comment@'));
      const checksOut = steps.some((s) => s.uses?.startsWith('actions/checkout@'));
      const expected: Record<string, string> = {};
      if (checksOut) expected.contents = 'read';
      if (comments) expected['pull-requests'] = 'write';
      if (usesAws) expected['id-token'] = 'write';
      expect([file, id, permissions]).toEqual([file, id, expected]);
    }
  });

  test('no checkout leaves the token in the git config', () => {
    for (const { file, id, steps } of allJobs) {
      for (const step of steps.filter((s) => s.uses?.startsWith('actions/checkout@'))) {
        expect([file, id, step.with?.['persist-credentials']]).toEqual([file, id, false]);
      }
    }
  });
});

describe('what runs where', () => {
  const APPLY_OR_DESTROY = /\b(cdktf|terraform)\s+(apply|destroy)\b/;

  test('apply and destroy run only by manual dispatch on main, behind an environment', () => {
    const deployJobs = allJobs.filter(({ steps }) => APPLY_OR_DESTROY.test(runs(steps)));
    expect(deployJobs.map((j) => j.id).sort()).toEqual(['apply', 'destroy']);
    for (const { file, wf, id, job } of deployJobs) {
      expect([file, Object.keys(wf.on)]).toEqual([file, ['workflow_dispatch']]);
      expect([id, job.environment]).toEqual([id, 'aspera-access']);
      expect(job.if).toContain("github.ref == 'refs/heads/main'");
      expect(job.if).toContain(`inputs.command == '${id}'`);
    }
    // And nothing that runs on a pull request or a push can apply or destroy.
    for (const { file, wf, id, steps } of allJobs) {
      if ('pull_request' in wf.on || 'push' in wf.on) expect([file, id, APPLY_OR_DESTROY.test(runs(steps))]).toEqual([file, id, false]);
    }
  });

  test('every job that runs cdktf against AWS installs Terraform first, gets the AWS profiles, and leaves no stray credentials', () => {
    const terraformJobs = allJobs.filter(({ steps }) => /^\s*npx cdktf (plan|diff|apply|destroy)\b/m.test(runs(steps)));
    expect(terraformJobs.map((j) => j.id).sort()).toEqual(['apply', 'destroy', 'plan']);
    for (const { id, steps } of terraformJobs) {
      const index = (pred: (s: Step) => boolean) => steps.findIndex(pred);
      const cdktf = index((s) => /^\s*npx cdktf (plan|diff|apply|destroy)\b/m.test(s.run ?? ''));
      const terraform = index((s) => s.uses?.startsWith('hashicorp/setup-terraform@') === true);
      const aws = index((s) => s.uses === AWS_PROFILES_ACTION);
      expect([id, terraform >= 0 && terraform < cdktf, aws >= 0 && aws < cdktf]).toEqual([id, true, true]);
      expect(steps[terraform].with?.terraform_wrapper).toBe(false);
      expect(steps[cdktf].run).toContain('unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN');
      expect(steps[cdktf].env?.AWS_PROFILE).toBe(`\${{ steps.${steps[aws].id}.outputs.state-profile }}`);
      expect(steps[aws].with).toMatchObject({
        'my-account-role-arn': '${{ vars.MY_ACCOUNT_ROLE_ARN }}',
        'other-account-role-arn': '${{ vars.OTHER_ACCOUNT_ROLE_ARN }}',
        purpose: id === 'plan' ? 'plan' : 'deploy',
      });
    }
  });

  test('the plan runs on pull requests and main only when both OIDC roles are configured, and says so when it does not', () => {
    const ci = workflows.get('.github/workflows/ci.yml')!;
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push']);
    expect(ci.on.push).toEqual({ branches: ['main'] });
    const plan = ci.jobs.plan;
    const skipped = ci.jobs['plan-skipped'];
    for (const role of ['MY_ACCOUNT_ROLE_ARN', 'OTHER_ACCOUNT_ROLE_ARN']) {
      expect(plan.if).toContain(`vars.${role} != ''`);
      expect(skipped.if).toContain(`vars.${role} == ''`);
    }
    expect(runs(skipped.steps ?? [])).toContain('::notice title=cdktf plan skipped::');
  });

  test('tests and synth run on every pull request and push', () => {
    const test = workflows.get('.github/workflows/ci.yml')!.jobs.test;
    expect(test.if).toBeUndefined();
    const commands = runs(test.steps ?? []);
    for (const command of ['npm ci', 'npm test', 'npx cdktf synth']) expect(commands).toContain(command);
  });

  test('every workflow turns off the cdktf/Terraform version check', () => {
    for (const [file, wf] of workflows) expect([file, wf.env?.CHECKPOINT_DISABLE]).toEqual([file, '1']);
  });

  test('no shell script inlines a GitHub expression (values come in through env)', () => {
    const scripts = [
      ...allJobs.flatMap(({ file, steps }) => steps.map((s) => ({ file, run: s.run }))),
      ...[...composite].flatMap(([file, a]) => a.runs.steps.map((s) => ({ file, run: s.run }))),
    ].filter((s) => s.run !== undefined);
    expect(scripts.length).toBeGreaterThan(10);
    for (const script of scripts) expect([script.file, script.run?.includes('${{')]).toEqual([script.file, false]);
  });
});

describe('access review comment', () => {
  const review = workflows.get('.github/workflows/ci.yml')!.jobs.review;
  const steps = review.steps ?? [];

  test('runs on pull requests with the full history, and diffs against the base branch passed through env', () => {
    expect(review.if).toBe("github.event_name == 'pull_request'");
    const checkout = steps.find((s) => s.uses?.startsWith('actions/checkout@'));
    expect(checkout?.with?.['fetch-depth']).toBe(0);
    const build = steps.find((s) => s.run?.includes('npm run --silent review'));
    expect(build?.env?.BASE_REF).toBe('${{ github.base_ref }}');
    expect(build?.run).toContain('npm run --silent review -- --base "origin/${BASE_REF}" --max-chars 60000 > "$RUNNER_TEMP/access-review.md"');
  });

  test('posts the report as one sticky comment, updated in place', () => {
    const comment = steps.find((s) => s.uses?.startsWith('marocchino/sticky-pull-request-comment@'));
    expect(comment?.with).toEqual({ header: 'aspera-access-review', path: '${{ runner.temp }}/access-review.md' });
    // Fork PRs get a read-only token; they still get the report in the job summary.
    expect(comment?.if).toBe('github.event.pull_request.head.repo.full_name == github.repository');
    expect(runs(steps)).toContain('>> "$GITHUB_STEP_SUMMARY"');
  });
});

describe('AWS profiles on CI (scripts/ci-config.ts)', () => {
  test('the two OIDC sessions become the profiles and regions the config names', () => {
    const result = ciAwsSettings(configOf(SEVERAL_GRANTS), 'deploy');
    expect(result).toEqual({
      ok: true,
      settings: { myRegion: 'eu-west-1', myProfile: 'owner', otherRegion: 'eu-west-1', otherProfile: 'operator', stateBackend: 's3', stateProfile: 'owner' },
    });
    if (result.ok) expect(githubOutputLines(result.settings)).toContain('my_profile=owner\n');
  });

  test('an S3 state backend without a profile uses the My Account profile', () => {
    const result = ciAwsSettings(configOf(SEVERAL_GRANTS, (d) => void (d.state = { backend: 's3', bucket: 'acme-tfstate', key: 'k', region: 'eu-west-1' })), 'plan');
    expect(result.ok && result.settings.stateProfile).toBe('owner');
  });

  test('refuses what CI cannot serve, naming the config field', () => {
    const noProfile = ciAwsSettings(
      configOf(ONE_GRANT, (d) => void (d.myAccount = { accountId: '111111111111', region: 'us-east-1', assumeRoleArn: 'arn:aws:iam::111111111111:role/deployer' })),
      'plan',
    );
    expect(noProfile.ok === false && noProfile.problems).toEqual([expect.stringMatching(/^myAccount\.profile: /)]);
    const sameProfile = ciAwsSettings(configOf(ONE_GRANT, (d) => void (d.otherAccount = { accountId: '222222222222', region: 'us-east-1', profile: 'my-account' })), 'plan');
    expect(sameProfile.ok === false && sameProfile.problems).toEqual([expect.stringMatching(/^otherAccount\.profile: must differ/)]);
    const strayStateProfile = ciAwsSettings(configOf(SEVERAL_GRANTS, (d) => void (d.state = { backend: 's3', bucket: 'acme-tfstate', key: 'k', region: 'eu-west-1', profile: 'state' })), 'plan');
    expect(strayStateProfile.ok === false && strayStateProfile.problems).toEqual([expect.stringMatching(/^state\.profile: /)]);
  });

  test('local state can be planned around but never applied or destroyed from CI', () => {
    expect(ciAwsSettings(configOf(ONE_GRANT), 'plan')).toMatchObject({ ok: true, settings: { stateBackend: 'local', stateProfile: '' } });
    const deploy = ciAwsSettings(configOf(ONE_GRANT), 'deploy');
    expect(deploy.ok === false && deploy.problems).toEqual([expect.stringMatching(/^state\.backend: "local" state would be lost/)]);
  });

  test('SSH keys go to each distinct key path, "~" expanded; a relative path is refused', () => {
    const config = configOf(SEVERAL_GRANTS, (d) => {
      d.asperaHosts = [
        { host: 'a.example.com', user: 'u', privateKeyPath: '~/.ssh/a.pem' },
        { host: 'b.example.com', user: 'u', privateKeyPath: '~/.ssh/a.pem' },
        { host: 'c.example.com', user: 'u', privateKeyPath: '/etc/keys/c.pem' },
        { host: 'd.example.com', user: 'u' },
      ];
    });
    expect(sshKeyPaths(config, '/home/runner')).toEqual({ paths: ['/home/runner/.ssh/a.pem', '/etc/keys/c.pem'], problems: [] });
    const relativeKey = configOf(ONE_GRANT, (d) => void (d.asperaHosts = [{ host: 'a.example.com', user: 'u', privateKeyPath: 'keys/a.pem' }]));
    expect(sshKeyPaths(relativeKey, '/home/runner').problems).toEqual([expect.stringMatching(/^asperaHosts\[0\]\.privateKeyPath: /)]);
  });

  test('the composite action reads the config before asking AWS for anything, and writes both profiles', () => {
    const steps = composite.get('.github/actions/aws-profiles/action.yml')!.runs.steps;
    expect(steps[0].run).toBe('node --import tsx scripts/ci-config.ts aws "$PURPOSE" >> "$GITHUB_OUTPUT"');
    const oidc = steps.filter((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
    expect(oidc.map((s) => s.with?.['role-to-assume'])).toEqual(['${{ inputs.my-account-role-arn }}', '${{ inputs.other-account-role-arn }}']);
    for (const step of oidc) expect(step.with?.['output-credentials']).toBe(true);
    const write = steps[steps.length - 1];
    expect(write.run).toContain('"$HOME/.aws/credentials"');
    expect(write.env).toMatchObject({ MY_PROFILE: '${{ steps.config.outputs.my_profile }}', OTHER_PROFILE: '${{ steps.config.outputs.other_profile }}' });
  });
});
