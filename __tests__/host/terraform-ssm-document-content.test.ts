/**
 * What Terraform sends to AWS for a fleet, and what its plan shows of it, by real Terraform.
 *
 * 1. Values, with no provider: the synthesized expressions (the document's `content`, a file(); the
 *    script object's `source` and `source_hash`, or for a generated External ID its `content`,
 *    sensitive(replace(file(...)))) go into outputs of an otherwise empty configuration, next to the
 *    SSH path's own install expression, and `terraform apply` evaluates them. The script Terraform
 *    uploads is the script the SSH path uploads, byte for byte; the document is the file written
 *    for review, not sensitive, and carries no External ID; only the script is sensitive, and only
 *    when it holds a generated External ID (issensitive()).
 * 2. The plan, with the real AWS provider (from a local filesystem mirror: this machine reaches no
 *    provider registry): the fleet's aws_s3_object, aws_ssm_document and aws_ssm_association as
 *    synthesized (the generated External ID a value known when planning, the harder case for
 *    hiding it; the provider is the mirror's version, not necessarily the stack's), under a
 *    provider configured to call no AWS API. The plan shows the document, and never the script's
 *    content: no External ID, no docroot. With `source`, not even the saved plan holds it; with a
 *    generated External ID, the saved plan file does (Terraform's way with sensitive values).
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCRIPTS_DIR } from '../../src/constructs/aspera-hosts';
import { requireHostTools } from '../helpers/host-suite';
import { awsProviderMirror } from '../helpers/real-provider';
import { baseConfigInput, mapStrings, synthConfigToDir, type SynthOutput } from '../helpers/synth';
import { terraformDir } from '../helpers/terraform-host';

const FLEET = { name: 'transfer-asg', targets: { autoScalingGroupName: 'aspera-asg' }, scriptS3: { bucket: 'media-ops-aspera-scripts' } };
const HOST = { host: '203.0.113.10', port: 33001, user: 'ec2-user' };
const EXTERNAL_ID = 'aspera-7f3c9e21';
const HEX = '00112233445566778899aabbccddeeff';
const MARKER = 'ASPERAEXTERNALIDMARKER';
const FLEET_DIR = `${SCRIPTS_DIR}/aspera_fleets/transfer-asg`;
const RESOURCE = 'fleet_transfer_asg';

const dirs: string[] = [];
beforeAll(() => requireHostTools());
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const inner = (expression: string): string => {
  const m = /^\$\{([\s\S]*)\}$/.exec(expression);
  if (m === null) throw new Error(`not one expression: ${expression}`);
  return m[1];
};
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A directory for Terraform with the stack's script files where the expressions find them. */
function workDir(out: SynthOutput): string {
  const dir = mkdtempSync(join(tmpdir(), 'aspera-ssm-content-'));
  dirs.push(dir, out.outdir);
  cpSync(join(out.stackDir, SCRIPTS_DIR), join(dir, SCRIPTS_DIR), { recursive: true });
  return dir;
}

/** The expression with the generated External ID as a literal (Terraform would know it from apply on). */
const literalId = (expression: string): string => expression.split('random_id.external_id.hex').join(JSON.stringify(HEX));

interface Values {
  /** The document's content, as Terraform sends it to CreateDocument, and whether it is sensitive. */
  readonly document: string;
  readonly documentSensitive: boolean;
  /** The script object's body, as Terraform uploads it, and whether it is sensitive. */
  readonly script: string;
  readonly scriptSensitive: boolean;
  /** source_hash, when the object is uploaded from `source`. */
  readonly sourceHash?: string;
  /** What the SSH path uploads to the host. */
  readonly sshScript: string;
}

/** Terraform's values of the fleet's document and script, and of the SSH install step. */
async function evaluate(out: SynthOutput): Promise<Values> {
  const dir = workDir(out);
  const resource = out.tf.resource!;
  const object = resource.aws_s3_object[RESOURCE];
  const document = literalId(inner(resource.aws_ssm_document[RESOURCE].content));
  // With `source`, the provider uploads the file's bytes: file() of it, as Terraform reads it.
  const script = object.source !== undefined ? `file(${JSON.stringify(object.source)})` : literalId(inner(object.content));
  const install = Object.entries(resource.null_resource).find(([name]) => /_docroots_/.test(name))![1].provisioner[0]['remote-exec'];
  const ssh = install.script !== undefined ? `file(${JSON.stringify(install.script)})` : literalId(inner(install.inline[0]));
  const output = {
    // Not marked sensitive: Terraform refuses that output if the document's content is.
    document: { value: `\${${document}}` },
    document_sensitive: { value: `\${issensitive(${document})}` },
    script: { value: `\${${script}}`, sensitive: true },
    script_sensitive: { value: `\${issensitive(${script})}` },
    ssh: { value: `\${${ssh}}`, sensitive: true },
    ...(object.source_hash !== undefined ? { source_hash: { value: object.source_hash } } : {}),
  };
  writeFileSync(join(dir, 'main.tf.json'), JSON.stringify({ output }));
  const tf = terraformDir(dir, join(dir, 'events.log'));
  await tf.ok(['init', '-input=false', '-no-color']);
  await tf.ok(['apply', '-auto-approve', '-input=false', '-no-color']);
  const o = JSON.parse(await tf.ok(['output', '-json', '-no-color']));
  return {
    document: o.document.value,
    documentSensitive: o.document_sensitive.value,
    script: o.script.value,
    scriptSensitive: o.script_sensitive.value,
    sourceHash: o.source_hash?.value,
    sshScript: o.ssh.value,
  };
}

/** One resource's part of a plan's text: from its "# <address> will be ..." line to the next such line. */
function planOf(text: string, address: string): string {
  const start = text.indexOf(`# ${address} will be `);
  if (start < 0) throw new Error(`${address} is not in the plan:\n${text}`);
  const next = text.indexOf('\n  # ', start + 1);
  return text.slice(start, next < 0 ? undefined : next);
}

/** The plan of the fleet's three resources with the real AWS provider: its text, and `terraform show -json` of it. */
async function plan(out: SynthOutput): Promise<{ text: string; json: string }> {
  const dir = workDir(out);
  const mirror = awsProviderMirror();
  const resource = out.tf.resource!;
  const picked: Record<string, Record<string, Record<string, any>>> = {};
  for (const type of ['aws_s3_object', 'aws_ssm_document', 'aws_ssm_association']) {
    const { '//': _metadata, ...body } = resource[type][RESOURCE];
    picked[type] = { [RESOURCE]: body };
  }
  const addresses = new Set(Object.keys(picked).map((type) => `${type}.${RESOURCE}`));
  // The grant roles, buckets and host role the association waits for are not part of this plan.
  for (const type of Object.keys(picked)) {
    const body = picked[type][RESOURCE];
    if (body.depends_on !== undefined) body.depends_on = (body.depends_on as string[]).filter((d) => addresses.has(d));
  }
  // The generated External ID: a local value where its value is read (known when planning; not a
  // literal, since a precondition must refer to something), a terraform_data in its place where
  // the document is replaced with it.
  const generated = JSON.stringify(picked).includes('random_id.external_id');
  const resources = mapStrings(picked, (s) => s.split('random_id.external_id.hex').join('local.external_id').split('random_id.external_id').join('terraform_data.external_id')) as Record<
    string,
    any
  >;
  if (generated) resources.terraform_data = { external_id: { input: 'stands in for random_id.external_id, whose value is in local.external_id' } };
  const other = out.tf.provider!.aws.find((p) => p.alias === 'other_account')!;
  const config = {
    terraform: { required_providers: { aws: { source: 'hashicorp/aws', version: mirror.version } } },
    provider: {
      aws: [
        {
          alias: 'other_account',
          region: other.region,
          default_tags: other.default_tags,
          // No AWS API is called to plan these creations; these make the provider call none to start.
          access_key: 'not-an-access-key',
          secret_key: 'not-a-secret-key',
          skip_credentials_validation: true,
          skip_requesting_account_id: true,
          skip_metadata_api_check: true,
          skip_region_validation: true,
        },
      ],
    },
    ...(generated ? { locals: { external_id: HEX } } : {}),
    resource: resources,
  };
  writeFileSync(join(dir, 'main.tf.json'), JSON.stringify(config, null, 2));
  const tf = terraformDir(dir, join(dir, 'events.log'));
  await tf.ok(['init', '-input=false', '-no-color', `-plugin-dir=${mirror.dir}`], 300000);
  const text = await tf.ok(['plan', '-input=false', '-no-color', '-out=fleet.tfplan'], 300000);
  const json = await tf.ok(['show', '-json', '-no-color', 'fleet.tfplan'], 300000);
  return { text, json };
}

/** The document's download step, what it fetches and where it puts it, and the run step. */
function documentSteps(document: string) {
  const [download, run] = JSON.parse(document).mainSteps;
  return { download, run, url: JSON.parse(download.inputs.sourceInfo).path as string };
}

describe('a config External ID', () => {
  let out: SynthOutput;
  beforeAll(() => {
    out = synthConfigToDir(baseConfigInput({ asperaHosts: [HOST], asperaFleets: [FLEET] } as never));
  });

  test('Terraform uploads the SSH install script byte for byte, from `source`; the document it sends is the file written for review, names the object, and holds no External ID', async () => {
    const object = out.tf.resource!.aws_s3_object[RESOURCE];
    expect(object.source).toBe(`${FLEET_DIR}/install.sh`);
    expect(object.content).toBeUndefined();
    const v = await evaluate(out);
    expect(v.sshScript).toContain(`iam-role.external-id=${EXTERNAL_ID}`);
    expect(v.script).toBe(v.sshScript);
    expect(v.sourceHash).toBe(sha256(v.script));
    expect(object.key).toBe(`aspera-cross-account/111111111111/transfer-asg/install-${sha256(v.script).slice(0, 16)}.sh`);
    expect({ document: v.documentSensitive, script: v.scriptSensitive }).toEqual({ document: false, script: false });

    expect(v.document).toBe(readFileSync(join(out.stackDir, FLEET_DIR, 'install.ssm-document.json'), 'utf8'));
    expect(v.document).not.toContain(EXTERNAL_ID);
    expect(v.document).not.toContain('s3://');
    const { download, run, url } = documentSteps(v.document);
    expect(url).toBe(`https://s3.us-east-1.amazonaws.com/${object.bucket}/${object.key}`);
    expect(download.inputs).toMatchObject({ sourceType: 'S3', destinationPath: 'install.sh', onFailure: 'exit' });
    expect(run.inputs.runCommand).toContain('exec /bin/sh "$script"');
  });

  test('the plan (real AWS provider) shows the document, and of the script only its path and hash: no External ID, no docroot', async () => {
    const { text, json } = await plan(out);
    const script = planOf(text, `aws_s3_object.${RESOURCE}`);
    expect(script).toMatch(/ will be created\n/);
    expect(script).toMatch(new RegExp(`\\+ source\\s+= "${FLEET_DIR}/install\\.sh"\n`));
    expect(script).not.toMatch(/\bcontent\s+=/);
    const key = out.tf.resource!.aws_s3_object[RESOURCE].key as string;
    const document = planOf(text, `aws_ssm_document.${RESOURCE}`);
    expect(document).toMatch(/ will be created\n/);
    expect(document).toContain('aws:downloadContent');
    expect(document).toContain(`media-ops-aspera-scripts/${key}`);
    // Not in the plan as shown, nor in the saved plan: with `source`, the content is not an attribute.
    for (const shown of [text, json]) {
      expect(shown).not.toContain(EXTERNAL_ID);
      expect(shown).not.toContain('iam-role.external-id');
      expect(shown).not.toContain('s3://');
    }
  });
});

describe('a generated External ID', () => {
  let out: SynthOutput;
  beforeAll(() => {
    const input = baseConfigInput({ mode: 'transfer-host', asperaHosts: [HOST], asperaFleets: [FLEET], buckets: [{ name: 'acme-aspera-inbox', create: false }] } as never) as Record<string, any>;
    delete input.externalId;
    delete input.myAccount.profile;
    out = synthConfigToDir(input);
  });

  test('Terraform puts the same value into the script it uploads and the SSH script, and only the script is sensitive', async () => {
    const object = out.tf.resource!.aws_s3_object[RESOURCE];
    expect(object.source).toBeUndefined();
    expect(object.content).toBe(`\${sensitive(replace(file("${FLEET_DIR}/install.sh"), "${MARKER}", random_id.external_id.hex))}`);
    expect(out.tf.resource!.aws_ssm_document[RESOURCE].content).toBe(`\${file("${FLEET_DIR}/install.ssm-document.json")}`);
    const v = await evaluate(out);
    expect(v.sshScript).toContain(`iam-role.external-id=${HEX}`);
    expect(v.sshScript).not.toContain(MARKER);
    expect(v.script).toBe(v.sshScript);
    expect({ document: v.documentSensitive, script: v.scriptSensitive }).toEqual({ document: false, script: true });
    expect(v.document).not.toContain(HEX);
    expect(v.document).not.toContain(MARKER);
    expect(documentSteps(v.document).url).toBe(`https://s3.us-east-1.amazonaws.com/${object.bucket}/${object.key}`);
  });

  test('the plan (real AWS provider) shows the document, and the script as "(sensitive value)": no External ID, no docroot', async () => {
    const { text, json } = await plan(out);
    const script = planOf(text, `aws_s3_object.${RESOURCE}`);
    expect(script).toMatch(/ will be created\n/);
    expect(script).toMatch(/\+ content\s+= \(sensitive value\)\n/);
    expect(script).not.toMatch(/\bsource\s+=/);
    expect(planOf(text, `aws_ssm_document.${RESOURCE}`)).toContain('aws:downloadContent');
    expect(text).not.toContain(HEX);
    expect(text).not.toContain('iam-role.external-id');
    expect(text).not.toContain('s3://');
    // The saved plan file does hold the value: Terraform keeps sensitive values in a plan file and
    // prints them in `show -json`, only marked in sensitive_values (as the state will hold it).
    const planned = JSON.parse(json).planned_values.root_module.resources.find((r: { address: string }) => r.address === `aws_s3_object.${RESOURCE}`);
    expect(planned.sensitive_values.content).toBe(true);
    expect(planned.values.content).toContain(`iam-role.external-id=${HEX}`);
  });
});
