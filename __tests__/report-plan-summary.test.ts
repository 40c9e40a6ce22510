/**
 * The plan summary (src/report/plan-summary.ts) on a plan real Terraform wrote (a first apply of
 * sse-kms-buckets.json, __tests__/fixtures/terraform-plans/), and on plans that replace and
 * destroy, written in Terraform's JSON plan format (resource_changes[].change.actions:
 * ["create"], ["update"], ["delete", "create"], ["create", "delete"], ["delete"], ["no-op"], ["read"]).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LISTED_ADDRESSES, planSummary, type TerraformPlanJson } from '../src/report/plan-summary';
import { fixtureConfigInput, validConfig } from './helpers/synth';
import { REPO_ROOT } from './helpers/invalid-configs';

const config = validConfig(fixtureConfigInput('sse-kms-buckets.json'));
const firstApply = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'terraform-plans', 'sse-kms-buckets-first-apply.json'), 'utf8')) as TerraformPlanJson;

const plan = (changes: Array<[address: string, provider: string | undefined, actions: string[]]>): TerraformPlanJson => ({
  resource_changes: changes.map(([address, , actions]) => ({ address, type: address.split('.')[0], change: { actions } })),
  configuration: { root_module: { resources: changes.filter(([, p]) => p !== undefined).map(([address, provider]) => ({ address: address.replace(/\[.*\]$/, ''), provider_config_key: provider })) } },
});

test('a first apply: every resource added, counted per account', () => {
  const summary = planSummary(firstApply, config);
  // 31 resources: in My Account 4 buckets' worth (3 created with 4 settings each, 1 key) and 6 roles
  // with their policies; in Other Account the host role, its profile and policy.
  expect(summary).toContain('Plan: 31 to add, 0 to change, 0 to replace, 0 to destroy.');
  expect(summary).toContain('| My Account `333333333333` | 28 | 0 | 0 | 0 |');
  expect(summary).toContain('| Other Account `222222222222` | 3 | 0 | 0 | 0 |');
  expect(summary).not.toContain('Replaced or destroyed');
});

test('replacements and destructions are counted and named, per account and on the hosts', () => {
  const summary = planSummary(
    plan([
      ['aws_iam_role.grant_editor', 'aws.my_account', ['delete', 'create']],
      ['aws_iam_role_policy.grant_editor', 'aws.my_account', ['create', 'delete']],
      ['aws_iam_role.grant_viewer', 'aws.my_account', ['delete']],
      ['aws_iam_role_policy.transfer_host', 'aws.other_account', ['update']],
      ['terraform_data.aspera_hosts_host_a_22_docroots_1', undefined, ['delete', 'create']],
      ['aws_iam_role.grant_ingest', 'aws.my_account', ['no-op']],
      ['data.aws_iam_role.transfer_host', 'aws.other_account', ['read']],
    ]),
    config,
  );
  expect(summary).toContain('Plan: 0 to add, 1 to change, 3 to replace, 1 to destroy.');
  expect(summary).toContain('| My Account `333333333333` | 0 | 0 | 2 | 1 |');
  expect(summary).toContain('| Other Account `222222222222` | 0 | 1 | 0 | 0 |');
  expect(summary).toContain('| Aspera hosts (aspera.conf over SSH) | 0 | 0 | 1 | 0 |');
  expect(summary).toContain('- **destroyed**: `aws_iam_role.grant_viewer` (My Account `333333333333`)');
  expect(summary).toContain('- replaced: `terraform_data.aspera_hosts_host_a_22_docroots_1` (Aspera hosts (aspera.conf over SSH))');
});

test(`more than ${LISTED_ADDRESSES} replaced resources: the first ${LISTED_ADDRESSES} named, the rest counted`, () => {
  const many = plan(Array.from({ length: LISTED_ADDRESSES + 5 }, (_, i): [string, string, string[]] => [`aws_iam_role.grant_u${i}`, 'aws.my_account', ['delete', 'create']]));
  const summary = planSummary(many, config);
  expect(summary.match(/^- replaced: /gm)).toHaveLength(LISTED_ADDRESSES);
  expect(summary).toContain('- and 5 more (see the plan)');
});

test('no changes says so', () => {
  expect(planSummary(plan([['aws_iam_role.grant_ingest', 'aws.my_account', ['no-op']]]), config)).toBe('## Terraform plan\n\nNo changes: the plan matches what is applied.');
});

test('scripts/plan-summary.ts reads the plan on stdin and the config from ASPERA_CONFIG', () => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'plan-summary.ts')], {
    input: JSON.stringify(firstApply),
    env: { ...process.env, ASPERA_CONFIG: join(REPO_ROOT, '__tests__', 'fixtures', 'configs', 'valid', 'sse-kms-buckets.json') },
    encoding: 'utf8',
  });
  expect(out).toBe(`${planSummary(firstApply, config)}\n`);
});
