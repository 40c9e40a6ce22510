/**
 * A Terraform plan in a few lines, for the pull request: how many resources are added, changed,
 * replaced and destroyed in each account (and on the Aspera hosts), and which ones are replaced or
 * destroyed, since those are the lines a reviewer must not miss. Pure: the JSON of `terraform show
 * -json <plan>` and the config in, Markdown out. Which account a resource is in comes from its
 * provider (aws.my_account, aws.other_account), as src/providers.ts names them.
 */
import type { Config } from '../config/schema';
import { MY_ACCOUNT_ALIAS, OTHER_ACCOUNT_ALIAS } from '../providers';
import { withThousands } from '../number-format';
import { code, table } from './text';

/** The parts of Terraform's JSON plan representation read here. */
export interface TerraformPlanJson {
  readonly resource_changes?: ReadonlyArray<{ readonly address: string; readonly type: string; readonly change: { readonly actions: readonly string[] } }>;
  readonly configuration?: { readonly root_module?: { readonly resources?: ReadonlyArray<{ readonly address: string; readonly provider_config_key?: string }> } };
}

type Kind = 'add' | 'change' | 'replace' | 'destroy';

/** One plan entry's kind; undefined for no-op and read (nothing changes). */
function kindOf(actions: readonly string[]): Kind | undefined {
  const has = (a: string) => actions.includes(a);
  if (has('create') && has('delete')) return 'replace';
  if (has('create')) return 'add';
  if (has('delete')) return 'destroy';
  if (has('update')) return 'change';
  return undefined;
}

/** How many replaced or destroyed addresses are listed by name before the rest is counted. */
export const LISTED_ADDRESSES = 20;

export function planSummary(plan: TerraformPlanJson, config: Config): string {
  const providerOf = new Map((plan.configuration?.root_module?.resources ?? []).map((r) => [r.address, r.provider_config_key]));
  // Instances of counted or module resources ("x.y[0]") are configured under their resource's address.
  const configured = (address: string) => providerOf.get(address) ?? providerOf.get(address.replace(/\[[^\]]*\]$/, ''));
  const whereOf = (address: string, type: string): string => {
    const provider = configured(address);
    if (provider === `aws.${MY_ACCOUNT_ALIAS}`) return `My Account ${code(config.myAccount.accountId)}`;
    if (provider === `aws.${OTHER_ACCOUNT_ALIAS}`) return `Other Account ${code(config.otherAccount.accountId)}`;
    if (type === 'null_resource' || type === 'terraform_data') return 'Aspera hosts (aspera.conf over SSH)';
    return 'this stack\'s state only';
  };
  const counts = new Map<string, Record<Kind, number>>();
  const attention: string[] = [];
  for (const rc of plan.resource_changes ?? []) {
    const kind = kindOf(rc.change.actions);
    if (kind === undefined) continue;
    const where = whereOf(rc.address, rc.type);
    const row = counts.get(where) ?? counts.set(where, { add: 0, change: 0, replace: 0, destroy: 0 }).get(where)!;
    row[kind] += 1;
    if (kind === 'replace' || kind === 'destroy') attention.push(`- ${kind === 'replace' ? 'replaced' : '**destroyed**'}: ${code(rc.address)} (${where})`);
  }
  const out = ['## Terraform plan', ''];
  if (counts.size === 0) {
    out.push('No changes: the plan matches what is applied.');
    return out.join('\n');
  }
  const total = (kind: Kind) => [...counts.values()].reduce((sum, row) => sum + row[kind], 0);
  out.push(
    `Plan: ${withThousands(total('add'))} to add, ${withThousands(total('change'))} to change, ${withThousands(total('replace'))} to replace, ${withThousands(total('destroy'))} to destroy.`,
    '',
    table(
      ['Where', 'Add', 'Change', 'Replace', 'Destroy'],
      [...counts].map(([where, row]) => [where, withThousands(row.add), withThousands(row.change), withThousands(row.replace), withThousands(row.destroy)]),
    ),
  );
  if (attention.length > 0) {
    out.push('', 'Replaced or destroyed (a replaced grant role is deleted, then created again):', '', ...attention.slice(0, LISTED_ADDRESSES));
    if (attention.length > LISTED_ADDRESSES) out.push(`- and ${withThousands(attention.length - LISTED_ADDRESSES)} more (see the plan)`);
  }
  return out.join('\n');
}
