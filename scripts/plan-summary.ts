/**
 * Prints the Markdown summary of a Terraform plan (src/report/plan-summary.ts) for the pull
 * request: `terraform show -json <plan> | node --import tsx scripts/plan-summary.ts`. Reads the
 * config as every command does (ASPERA_CONFIG, default ./aspera.config.json) to name the accounts.
 */
import { readFileSync } from 'node:fs';
import { configPathFromEnv, loadConfigFile } from '../src/config-file';
import { planSummary, type TerraformPlanJson } from '../src/report/plan-summary';

const loaded = loadConfigFile(configPathFromEnv(process.env));
if (!loaded.ok) {
  process.stderr.write(`${loaded.problems.join('\n')}\n`);
  process.exit(1);
}
const plan = JSON.parse(readFileSync(0, 'utf8')) as TerraformPlanJson;
process.stdout.write(`${planSummary(plan, loaded.config)}\n`);
