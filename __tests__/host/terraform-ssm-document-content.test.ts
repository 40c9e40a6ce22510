/**
 * The content Terraform sends to SSM for a fleet's document, evaluated by real Terraform: the
 * synthesized `content` expression (file(), sensitive(), and for a generated External ID replace())
 * goes into an output of an otherwise empty configuration, next to the SSH path's own install
 * expression, and `terraform apply` evaluates both (no provider needed). The script SSM Agent
 * would write from that document is the script the SSH path uploads, byte for byte.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCRIPTS_DIR } from '../../src/constructs/aspera-hosts';
import { requireHostTools } from '../helpers/host-suite';
import { baseConfigInput, synthConfigToDir, type SynthOutput } from '../helpers/synth';
import { terraformDir } from '../helpers/terraform-host';

const FLEET = { name: 'transfer-asg', targets: { autoScalingGroupName: 'aspera-asg' } };
const HOST = { host: '203.0.113.10', port: 33001, user: 'ec2-user' };
const HEX = '00112233445566778899aabbccddeeff';

const dirs: string[] = [];
beforeAll(() => requireHostTools());
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const inner = (expression: string): string => {
  const m = /^\$\{([\s\S]*)\}$/.exec(expression);
  if (m === null) throw new Error(`not one expression: ${expression}`);
  return m[1];
};

/** Terraform's values of the fleet document's content and of the SSH install step. */
async function evaluate(out: SynthOutput, generated: boolean): Promise<{ document: string; sshScript: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'aspera-ssm-content-'));
  dirs.push(dir, out.outdir);
  cpSync(join(out.stackDir, SCRIPTS_DIR), join(dir, SCRIPTS_DIR), { recursive: true });
  const literal = (e: string) => (generated ? e.split('random_id.external_id.hex').join(JSON.stringify(HEX)) : e);
  const content = literal(inner(out.tf.resource!.aws_ssm_document.fleet_transfer_asg.content));
  const install = Object.entries(out.tf.resource!.null_resource).find(([name]) => /_docroots_/.test(name))![1].provisioner[0]['remote-exec'];
  const ssh = install.script !== undefined ? `file(${JSON.stringify(install.script)})` : literal(inner(install.inline[0]));
  writeFileSync(join(dir, 'main.tf.json'), JSON.stringify({ output: { document: { value: `\${${content}}`, sensitive: true }, ssh: { value: `\${${ssh}}`, sensitive: true } } }));
  const tf = terraformDir(dir, join(dir, 'events.log'));
  await tf.ok(['init', '-input=false', '-no-color']);
  await tf.ok(['apply', '-auto-approve', '-input=false', '-no-color']);
  const outputs = JSON.parse(await tf.ok(['output', '-json', '-no-color']));
  expect(outputs.document.sensitive).toBe(true);
  return { document: outputs.document.value, sshScript: outputs.ssh.value };
}

const agentScript = (document: string): string => `${(JSON.parse(document).mainSteps[0].inputs.runCommand as string[]).join('\n')}\n`;

test('a config External ID: the document Terraform uploads carries the SSH install script byte for byte', async () => {
  const out = synthConfigToDir(baseConfigInput({ asperaHosts: [HOST], asperaFleets: [FLEET] } as never));
  const { document, sshScript } = await evaluate(out, false);
  expect(sshScript).toContain('iam-role.external-id=aspera-7f3c9e21');
  expect(agentScript(document)).toBe(sshScript);
  expect(document).toBe(readFileSync(join(out.stackDir, SCRIPTS_DIR, 'aspera_fleets', 'transfer-asg', 'install.ssm-document.json'), 'utf8'));
});

test('a generated External ID: Terraform puts the same value into both, and they stay the same script', async () => {
  const input = baseConfigInput({ mode: 'transfer-host', asperaHosts: [HOST], asperaFleets: [FLEET], buckets: [{ name: 'acme-aspera-inbox', create: false }] } as never) as Record<string, any>;
  delete input.externalId;
  delete input.myAccount.profile;
  const out = synthConfigToDir(input);
  const { document, sshScript } = await evaluate(out, true);
  expect(sshScript).toContain(`iam-role.external-id=${HEX}`);
  expect(sshScript).not.toContain('ASPERAEXTERNALIDMARKER');
  expect(agentScript(document)).toBe(sshScript);
});
