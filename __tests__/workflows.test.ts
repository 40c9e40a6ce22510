/**
 * The GitHub workflows: valid against the workflow/action schema (@action-validator/core), and
 * the rules this project holds them to: every action pinned to a commit SHA, least-privilege
 * permissions per job, apply/destroy only by manual dispatch behind an environment, Terraform
 * installed wherever cdktf talks to it, no GitHub expression inlined into a shell script, and the
 * access review posted from a diff against the base branch. Per mode (both, bucket-owner,
 * transfer-host), the plan gate, its notice and the AWS profiles action are run (their shell
 * scripts under bash, their few expressions evaluated here) with scripts/workflow-answers.ts's answers,
 * whose own rules are in workflow-answers.test.ts.
 */
import { validateAction, validateWorkflow } from '@action-validator/core';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { ciAwsSettings, githubOutputLines, planGate, planGateOutputLines, roleArnsFromEnv, type RoleArns } from '../scripts/workflow-answers';
import type { Config } from '../src/config/schema';
import { configOf, SEVERAL_GRANTS, twoOrganizations } from './helpers/report-fixtures';

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
  outputs?: Record<string, string>;
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
const composite = new Map(
  actionFiles.map((f) => [relative(ROOT, f), parse(text(f)) as { inputs: Record<string, { default?: string }>; outputs: Record<string, { value: string }>; runs: { steps: Step[] } }]),
);

const AWS_PROFILES_ACTION = './.github/actions/aws-profiles';
const allJobs = [...workflows].flatMap(([file, wf]) => Object.entries(wf.jobs).map(([id, job]) => ({ file, wf, id, job, steps: job.steps ?? [] })));
const runs = (steps: Step[]) => steps.map((s) => s.run ?? '').join('\n');

/** A job's steps, for the tests below (a missing job is a failure, not an empty list). */
const stepsOf = (file: string, job: string): Step[] => {
  const steps = workflows.get(file)?.jobs[job]?.steps;
  if (steps === undefined) throw new Error(`no job ${job} in ${file}`);
  return steps;
};

const scratch = mkdtempSync(join(tmpdir(), 'aspera-workflows-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let scratchCount = 0;
const scratchDir = () => {
  const dir = join(scratch, String(scratchCount++));
  spawnSync('mkdir', ['-p', dir]);
  return dir;
};

/** A step's script as the runner runs a `run:` with the default shell (bash -e, pipefail) on Linux. */
function runScript(script: string, env: Record<string, string>) {
  const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface ExpressionContext {
  readonly steps?: Record<string, Record<string, string>>;
  readonly inputs?: Record<string, string>;
  readonly vars?: Record<string, string>;
  readonly needs?: Record<string, Record<string, string>>;
}

/**
 * The value of one context reference as GitHub evaluates it (an unset output or variable is "").
 * Only the forms these workflows use; anything else throws, so that a new form cannot pass unchecked.
 */
function reference(ref: string, ctx: ExpressionContext): string {
  let m: RegExpExecArray | null;
  if ((m = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(ref))) return ctx.steps?.[m[1]]?.[m[2]] ?? '';
  if ((m = /^needs\.([\w-]+)\.outputs\.([\w-]+)$/.exec(ref))) return ctx.needs?.[m[1]]?.[m[2]] ?? '';
  if ((m = /^inputs\.([\w-]+)$/.exec(ref))) return ctx.inputs?.[m[1]] ?? '';
  if ((m = /^vars\.(\w+)$/.exec(ref))) return ctx.vars?.[m[1]] ?? '';
  throw new Error(`unsupported expression: ${ref}`);
}

/** A value that is exactly one `${{ reference }}`, or a plain string. */
function valueOf(value: unknown, ctx: ExpressionContext): string {
  const m = /^\$\{\{\s*(.+?)\s*\}\}$/.exec(String(value));
  if (m === null) {
    if (String(value).includes('${{')) throw new Error(`unsupported value: ${String(value)}`);
    return String(value);
  }
  return reference(m[1], ctx);
}

/** A step's env with its expressions evaluated. */
const envOf = (step: Step, ctx: ExpressionContext): Record<string, string> =>
  Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, valueOf(v, ctx)]));

/** An `if:` of the form `<reference> == '<literal>'` (or none: always). */
function condition(expr: string | undefined, ctx: ExpressionContext): boolean {
  if (expr === undefined) return true;
  const m = /^([\w.-]+) == '([^']*)'$/.exec(expr.trim());
  if (m === null) throw new Error(`unsupported condition: ${expr}`);
  return reference(m[1], ctx) === m[2];
}

/** "key=value" lines, as the runner reads $GITHUB_OUTPUT. */
const outputsFrom = (lines: string): Record<string, string> =>
  Object.fromEntries(
    lines
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

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

  test('the plan job waits for the config\'s gate: no job condition asks for a role variable itself', () => {
    const ci = workflows.get('.github/workflows/ci.yml')!;
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push']);
    expect(ci.on.push).toEqual({ branches: ['main'] });
    const notFromFork = "(github.event_name == 'push' || github.event.pull_request.head.repo.full_name == github.repository)";
    const fromFork = "(github.event_name == 'pull_request' && github.event.pull_request.head.repo.full_name != github.repository)";
    expect(ci.jobs.plan.if).toBe(`needs.test.outputs.plan == 'true' && ${notFromFork}`);
    expect(ci.jobs['plan-skipped'].if).toBe(`needs.test.outputs.plan != 'true' || ${fromFork}`);
    // Which variables a run needs depends on the config's mode: only scripts/workflow-answers.ts knows.
    for (const { file, id, job } of allJobs) expect([file, id, job.if ?? '']).not.toEqual([file, id, expect.stringMatching(/ROLE_ARN/)]);

    const test = ci.jobs.test;
    const gate = (test.steps ?? []).find((s) => s.id === 'plan-gate');
    expect(gate?.run).toBe('node --import tsx scripts/workflow-answers.ts plan-gate >> "$GITHUB_OUTPUT"');
    expect(test.outputs).toEqual({ plan: '${{ steps.plan-gate.outputs.plan }}', 'plan-skipped-why': '${{ steps.plan-gate.outputs.why }}' });
  });

  const BUCKET_OWNER = configOf(twoOrganizations('bucket-owner.json'));
  const TRANSFER_HOST = configOf(twoOrganizations('transfer-host.json'));
  // The last column: the notice when the plan is skipped (undefined: the plan runs).
  describe.each<[string, Config, RoleArns, string | undefined]>([
    [
      'both with MY_ACCOUNT_ROLE_ARN only',
      configOf(SEVERAL_GRANTS),
      { MY_ACCOUNT_ROLE_ARN: 'arn:aws:iam::333333333333:role/plan', OTHER_ACCOUNT_ROLE_ARN: '' },
      'mode both: set OTHER_ACCOUNT_ROLE_ARN (an OIDC role in Other Account 444444444444) (docs/review-and-ci.md: OIDC roles).',
    ],
    [
      'bucket-owner with OTHER_ACCOUNT_ROLE_ARN only',
      BUCKET_OWNER,
      { MY_ACCOUNT_ROLE_ARN: '', OTHER_ACCOUNT_ROLE_ARN: 'arn:aws:iam::222222222222:role/plan' },
      'mode bucket-owner: set MY_ACCOUNT_ROLE_ARN (an OIDC role in My Account 111111111111); OTHER_ACCOUNT_ROLE_ARN is not used (docs/review-and-ci.md: OIDC roles).',
    ],
    ['bucket-owner with MY_ACCOUNT_ROLE_ARN only', BUCKET_OWNER, { MY_ACCOUNT_ROLE_ARN: 'arn:aws:iam::111111111111:role/plan', OTHER_ACCOUNT_ROLE_ARN: '' }, undefined],
    [
      'transfer-host with no variable',
      TRANSFER_HOST,
      { MY_ACCOUNT_ROLE_ARN: '', OTHER_ACCOUNT_ROLE_ARN: '' },
      'mode transfer-host: set OTHER_ACCOUNT_ROLE_ARN (an OIDC role in Other Account 222222222222); MY_ACCOUNT_ROLE_ARN is not used (docs/review-and-ci.md: OIDC roles).',
    ],
    ['transfer-host with OTHER_ACCOUNT_ROLE_ARN only', TRANSFER_HOST, { MY_ACCOUNT_ROLE_ARN: '', OTHER_ACCOUNT_ROLE_ARN: 'arn:aws:iam::222222222222:role/plan' }, undefined],
  ])('mode %s', (_title, config, vars, notice) => {
    const ci = workflows.get('.github/workflows/ci.yml')!;
    const plans = notice === undefined;

    test(`the gate step passes the repository variables to the script, and the test job outputs plan=${plans}`, () => {
      const gate = ci.jobs.test.steps!.find((s) => s.id === 'plan-gate')!;
      // The step's env, as the runner fills it from the repository variables, is what the script reads.
      const gateOutputs = outputsFrom(planGateOutputLines(planGate(config, roleArnsFromEnv(envOf(gate, { vars })))));
      const jobOutputs = Object.fromEntries(Object.entries(ci.jobs.test.outputs ?? {}).map(([k, v]) => [k, valueOf(v, { steps: { 'plan-gate': gateOutputs } })]));
      // The job conditions compare exactly this output with 'true' (previous test).
      expect(jobOutputs.plan).toBe(String(plans));
      expect(jobOutputs['plan-skipped-why'] === '').toBe(plans);
    });

    if (notice !== undefined) {
      test('the notice says which variable this mode needs (and which it does not use), in one line', () => {
        const gate = planGate(config, vars);
        const step = stepsOf('.github/workflows/ci.yml', 'plan-skipped')[0];
        const why = valueOf(step.env?.WHY, { needs: { test: { 'plan-skipped-why': gate.plan ? '' : gate.why } } });
        const summary = join(scratchDir(), 'summary.md');
        const result = runScript(step.run!, { WHY: why, FROM_FORK: 'false', GITHUB_STEP_SUMMARY: summary });
        expect(result).toEqual({ code: 0, stderr: '', stdout: `::notice title=cdktf plan skipped::cdktf plan skipped: ${notice}\n` });
        expect(readFileSync(summary, 'utf8')).toBe(`cdktf plan skipped: ${notice}\n`);
      });
    }
  });

  test('the notice for a pull request from a fork says so, whatever the gate says', () => {
    const step = stepsOf('.github/workflows/ci.yml', 'plan-skipped')[0];
    const summary = join(scratchDir(), 'summary.md');
    const result = runScript(step.run!, { FROM_FORK: 'true', WHY: 'mode both: set MY_ACCOUNT_ROLE_ARN', GITHUB_STEP_SUMMARY: summary });
    expect(result.stdout).toBe('::notice title=cdktf plan skipped::cdktf plan skipped: pull requests from forks get no OIDC token, so they cannot be planned against AWS.\n');
  });

  test('tests and synth run on every pull request and push', () => {
    const test = workflows.get('.github/workflows/ci.yml')!.jobs.test;
    expect(test.if).toBeUndefined();
    const commands = runs(test.steps ?? []);
    for (const command of ['npm ci', 'npx cdktf synth']) expect(commands).toContain(command);
    // npm test as the runner's own (unprivileged) user; the host suite as root, as .ci/run runs it:
    // it starts sshd, adds users and runs Terraform, so Terraform is installed before it.
    const steps = test.steps ?? [];
    const at = (pred: (s: Step) => boolean) => steps.findIndex(pred);
    const unprivileged = at((s) => s.run?.trim() === 'npm test');
    const host = at((s) => s.run?.trim() === 'sudo env "PATH=$PATH" CHECKPOINT_DISABLE=1 npm run test:host');
    const terraform = at((s) => s.uses?.startsWith('hashicorp/setup-terraform@') === true);
    const packages = at((s) => /apt-get install .*openssh-server.*shellcheck.*dash.*sudo/.test(s.run ?? ''));
    expect({ unprivileged: unprivileged >= 0, host: host >= 0, packagesFirst: packages >= 0 && packages < host, terraformFirst: terraform >= 0 && terraform < host }).toEqual({
      unprivileged: true,
      host: true,
      packagesFirst: true,
      terraformFirst: true,
    });
    expect(steps[terraform].with?.terraform_wrapper).toBe(false);
    expect(commands).not.toMatch(/sudo[^\n]* npm test\b/);
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

describe('the AWS profiles action, per mode', () => {
  const action = composite.get('.github/actions/aws-profiles/action.yml')!;
  const steps = action.runs.steps;
  const OIDC = 'aws-actions/configure-aws-credentials@';

  /**
   * The action as the runner would run it for `config` with these role inputs: the config step's
   * outputs from scripts/workflow-answers.ts (given the env the step passes it), each OIDC step when its
   * condition holds (recording what it would assume, answering with fake credentials), and the
   * last step's script under bash in a scratch HOME.
   */
  function runAction(config: Config, inputs: Record<string, string>, purpose: 'plan' | 'deploy') {
    const ctx = { inputs: { ...inputs, purpose }, steps: {} as Record<string, Record<string, string>> };
    const configStep = steps[0];
    const configEnv = envOf(configStep, ctx);
    const result = ciAwsSettings(config, configEnv.PURPOSE as 'plan' | 'deploy', roleArnsFromEnv(configEnv));
    if (!result.ok) throw new Error(result.problems.join('\n'));
    ctx.steps[configStep.id!] = outputsFrom(githubOutputLines(result.settings));
    const assumed: { role: string; region: string }[] = [];
    for (const step of steps.filter((s) => s.uses?.startsWith(OIDC))) {
      if (!condition(step.if, ctx)) continue;
      assumed.push({ role: valueOf(step.with?.['role-to-assume'], ctx), region: valueOf(step.with?.['aws-region'], ctx) });
      ctx.steps[step.id!] = { 'aws-access-key-id': `KEY-${step.id}`, 'aws-secret-access-key': `SECRET-${step.id}`, 'aws-session-token': `TOKEN-${step.id}` };
    }
    const home = scratchDir();
    const githubEnv = join(home, 'github-env');
    const write = steps[steps.length - 1];
    const run = runScript(write.run!, { ...envOf(write, ctx), HOME: home, GITHUB_ENV: githubEnv });
    const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');
    return {
      run,
      assumed,
      stateProfile: valueOf(action.outputs['state-profile'].value, ctx),
      credentials: read(join(home, '.aws', 'credentials')),
      awsConfig: read(join(home, '.aws', 'config')),
      githubEnv: read(githubEnv),
    };
  }

  const sections = (ini: string) => [...ini.matchAll(/^\[([^\]]+)\]$/gm)].map((m) => m[1]);

  test('reads the config (with the role inputs) before asking AWS for anything', () => {
    expect(steps[0].run).toBe('node --import tsx scripts/workflow-answers.ts aws "$PURPOSE" >> "$GITHUB_OUTPUT"');
    expect(steps[0].env).toEqual({
      PURPOSE: '${{ inputs.purpose }}',
      MY_ACCOUNT_ROLE_ARN: '${{ inputs.my-account-role-arn }}',
      OTHER_ACCOUNT_ROLE_ARN: '${{ inputs.other-account-role-arn }}',
    });
    // A half passes only one role: neither role input may be required.
    expect(action.inputs['my-account-role-arn'].default).toBe('');
    expect(action.inputs['other-account-role-arn'].default).toBe('');
    for (const step of steps.filter((s) => s.uses?.startsWith(OIDC))) expect(step.with?.['output-credentials']).toBe(true);
  });

  const MY = 'arn:aws:iam::111111111111:role/ci-deploy';
  const OTHER = 'arn:aws:iam::222222222222:role/ci-deploy';
  const bothInputs = { 'my-account-role-arn': 'arn:aws:iam::333333333333:role/ci', 'other-account-role-arn': 'arn:aws:iam::444444444444:role/ci' };

  test('mode both: assumes both roles and writes both profiles', () => {
    const out = runAction(configOf(SEVERAL_GRANTS), bothInputs, 'deploy');
    expect(out.run).toMatchObject({ code: 0, stderr: '' });
    expect(out.assumed).toEqual([
      { role: bothInputs['my-account-role-arn'], region: 'eu-west-1' },
      { role: bothInputs['other-account-role-arn'], region: 'eu-west-1' },
    ]);
    expect(sections(out.credentials)).toEqual(['owner', 'operator']);
    expect(out.credentials).toContain('[owner]\naws_access_key_id = KEY-my-account\naws_secret_access_key = SECRET-my-account\naws_session_token = TOKEN-my-account\n');
    expect(out.credentials).toContain('[operator]\naws_access_key_id = KEY-other-account\n');
    expect(sections(out.awsConfig)).toEqual(['profile owner', 'profile operator']);
    expect(out.stateProfile).toBe('owner');
    expect(out.githubEnv).toBe('AWS_ACCESS_KEY_ID=\nAWS_SECRET_ACCESS_KEY=\nAWS_SESSION_TOKEN=\n');
  });

  test('mode bucket-owner: assumes the My Account role only and writes only its profile, even with the other variable set', () => {
    const out = runAction(configOf(twoOrganizations('bucket-owner-remote-state.json')), { 'my-account-role-arn': MY, 'other-account-role-arn': OTHER }, 'plan');
    expect(out.run).toMatchObject({ code: 0, stderr: '' });
    expect(out.assumed).toEqual([{ role: MY, region: 'us-east-1' }]);
    expect(sections(out.credentials)).toEqual(['acme-storage']);
    expect(out.credentials).not.toContain('other-account');
    expect(out.awsConfig).toBe('[profile acme-storage]\nregion = us-east-1\n\n');
    // The same profile serves the state bucket and the read of the operator's state.
    expect(out.stateProfile).toBe('acme-storage');
  });

  test('mode transfer-host: assumes the Other Account role only and writes only its profile', () => {
    const out = runAction(configOf(twoOrganizations('transfer-host.json')), { 'other-account-role-arn': OTHER }, 'deploy');
    expect(out.run).toMatchObject({ code: 0, stderr: '' });
    expect(out.assumed).toEqual([{ role: OTHER, region: 'us-east-1' }]);
    expect(sections(out.credentials)).toEqual(['xfer-operator']);
    expect(out.credentials).toContain('aws_access_key_id = KEY-other-account\n');
    expect(out.stateProfile).toBe('xfer-operator');
  });

  test('writing a profile without its session fails instead of writing empty credentials', () => {
    const write = steps[steps.length - 1];
    const home = scratchDir();
    const env = { MY_PROFILE: 'acme-storage', MY_REGION: 'us-east-1', MY_KEY_ID: '', MY_SECRET: '', MY_TOKEN: '', OTHER_PROFILE: '' };
    const result = runScript(write.run!, { ...env, HOME: home, GITHUB_ENV: join(home, 'github-env') });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('::error title=No credentials::the OIDC role for profile acme-storage returned no credentials');
    expect(readFileSync(join(home, '.aws', 'credentials'), 'utf8')).toBe('');
  });
});

describe('the SSH key step of apply and destroy', () => {
  // workflow-answers.ts's answer per mode is in workflow-answers.test.ts; here a stand-in `node` gives it, so
  // the test runs only the shell logic, in milliseconds.
  const bin = scratchDir();
  writeFileSync(
    join(bin, 'node'),
    '#!/bin/sh\ncase "$*" in\n  *installs-docroots) echo "$FAKE_INSTALLS_DOCROOTS" ;;\n  *) echo "unexpected node $*" >&2; exit 3 ;;\nesac\n',
  );
  chmodSync(join(bin, 'node'), 0o755);
  const run = (job: string, installs: string, key: string) => {
    const step = stepsOf('.github/workflows/deploy.yml', job).find((s) => s.name === 'SSH key for the Aspera hosts')!;
    return runScript(step.run!, { PATH: `${bin}:${process.env.PATH}`, FAKE_INSTALLS_DOCROOTS: installs, ASPERA_SSH_PRIVATE_KEY: key, HOME: scratchDir() });
  };

  test.each(['apply', 'destroy'])('%s: a config without hosts to configure (mode bucket-owner) needs no key and gets no warning', (job) => {
    const result = run(job, 'false', '');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe('This config configures no Aspera host: no SSH key is installed.\n');
  });

  test.each(['apply', 'destroy'])('%s: a config with hosts and no key is warned about', (job) => {
    const result = run(job, 'true', '');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^::warning title=No SSH key::The environment secret ASPERA_SSH_PRIVATE_KEY is not set: /);
  });
});
