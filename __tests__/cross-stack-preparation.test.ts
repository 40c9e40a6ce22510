/**
 * The stack skips cdktf's cross-stack preparation only when it is the app's only stack
 * (src/synth/cross-stack-preparation.ts): alone, cdktf's pass does not run (the golden files show
 * the output is unchanged without it); with another stack in the app, cdktf's pass runs and a
 * reference from this stack to the other becomes a remote-state lookup, as cdktf makes it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { App, TerraformOutput, TerraformStack } from 'cdktf';
import { AsperaCrossAccountStack } from '../src/stack';
import { baseConfigInput, validConfig } from './helpers/synth';

let outdir: string;
beforeEach(() => {
  outdir = mkdtempSync(join(tmpdir(), 'aspera-prepare-'));
});
afterEach(() => {
  rmSync(outdir, { recursive: true, force: true });
  jest.restoreAllMocks();
});

const config = validConfig(baseConfigInput());
const stackJson = (name: string) => JSON.parse(readFileSync(join(outdir, 'stacks', name, 'cdk.tf.json'), 'utf8'));

test('alone in the app, the stack does not run cdktf\'s preparing pass', () => {
  const preparation = jest.spyOn(TerraformStack.prototype, 'prepareStack');
  const app = new App({ outdir, stackTraces: false });
  new AsperaCrossAccountStack(app, config.stackName, config);
  app.synth();
  expect(preparation).not.toHaveBeenCalled();
  expect(Object.keys(stackJson(config.stackName).resource.aws_iam_role)).toContain('grant_xfer2');
});

test('with another stack in the app, cdktf\'s preparation runs: a reference from this stack to the other goes through remote state', () => {
  const app = new App({ outdir, stackTraces: false });
  const producer = new TerraformStack(app, 'producer');
  new AwsProvider(producer, 'aws', { region: 'us-east-1' });
  const role = new IamRole(producer, 'shared', { name: 'shared', assumeRolePolicy: '{}' });
  const stack = new AsperaCrossAccountStack(app, config.stackName, config);
  // Only this stack's own preparation can turn its reference into a remote-state lookup.
  new TerraformOutput(stack, 'shared_role', { value: role.arn });
  app.synth();

  const synthesized = stackJson(config.stackName);
  const [remoteState] = Object.keys(synthesized.data?.terraform_remote_state ?? {});
  expect(remoteState).toBeDefined();
  expect(synthesized.output.shared_role.value).toMatch(new RegExp(`^\\$\\{data\\.terraform_remote_state\\.${remoteState}\\.outputs\\.`));
  expect(Object.values(stackJson('producer').output).map((o: any) => o.value)).toContain('${aws_iam_role.shared.arn}');
});
