/**
 * Aspera fleets (AWS Systems Manager State Manager) as synthesized: the SSM document, the
 * association and its targets, the instance role's SSM policy, the outputs, and what of the
 * docroots and the External ID reaches cdk.tf.json, the document's metadata and the plan.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig } from '../src/config-file';
import type { ConfigInput } from '../src/config/schema';
import { hostIds, SCRIPTS_DIR } from '../src/constructs/aspera-hosts';
import { baseConfigInput, synthConfigToDir, type SynthOutput } from './helpers/synth';

const EXTERNAL_ID = 'aspera-7f3c9e21';
const FLEET = { name: 'transfer-asg', targets: { autoScalingGroupName: 'aspera-asg', tags: [{ key: 'Role', values: ['aspera', 'aspera-hsts'] }] }, scriptS3: { bucket: 'media-ops-aspera-scripts' } };
// The SSH host and the fleet share the default aspera.conf path: their install scripts are the same script.
const SSH_HOST = { host: '203.0.113.10', port: 33001, user: 'ec2-user', privateKeyPath: '~/.ssh/aspera.pem' };

const withFleets = (fleets: unknown[], overrides: Partial<ConfigInput> = {}): ConfigInput =>
  baseConfigInput({ asperaHosts: [SSH_HOST], asperaFleets: fleets, ...overrides } as Partial<ConfigInput>);

/** The file a stack-relative file("...") in a resource names, read from the stack directory. */
function fileOf(out: SynthOutput, expression: string): string {
  const m = /file\("([^"]+)"\)/.exec(expression);
  if (m === null) throw new Error(`no file() in ${expression}`);
  return readFileSync(join(out.stackDir, m[1]), 'utf8');
}

/**
 * The script a fleet's document runs: the object its aws:downloadContent step fetches (named by URL
 * in the document; the stack uploads it from the file its aws_s3_object names), which the second
 * step, aws:runShellScript, runs with /bin/sh.
 */
function downloadedScript(out: SynthOutput, documentText: string, resource: string): string {
  const document = JSON.parse(documentText);
  expect(document.mainSteps.map((s: { action: string }) => s.action)).toEqual(['aws:downloadContent', 'aws:runShellScript']);
  const [download, run] = document.mainSteps;
  const object = out.tf.resource!.aws_s3_object[resource];
  expect(download.inputs).toEqual({
    sourceType: 'S3',
    sourceInfo: JSON.stringify({ path: `https://s3.us-east-1.amazonaws.com/${object.bucket}/${object.key}` }),
    destinationPath: `${run.name}.sh`,
    onFailure: 'exit',
  });
  expect(run.inputs.runCommand.join('\n')).toContain(`exec /bin/sh "$script"`);
  expect(run.inputs.runCommand.join('\n')).toContain(`script="\${0%/*}/../downloads/${run.name}.sh"`);
  return readFileSync(join(out.stackDir, object.source), 'utf8');
}

const sshScript = (out: SynthOutput, name: 'install' | 'uninstall'): string =>
  readFileSync(join(out.stackDir, SCRIPTS_DIR, 'aspera_hosts', hostIds(out.config.asperaHosts)[0], `${name}.sh`), 'utf8');

describe('a fleet with docroots installed (mode "both", created host role)', () => {
  let out: SynthOutput;
  beforeAll(() => {
    out = synthConfigToDir(withFleets([{ ...FLEET, complianceSeverity: 'CRITICAL', waitForSuccessSeconds: 600, outputS3: { bucket: 'ops-ssm-output', keyPrefix: 'aspera/' } }]));
  });
  const document = () => out.tf.resource!.aws_ssm_document.fleet_transfer_asg;
  const association = () => out.tf.resource!.aws_ssm_association.fleet_transfer_asg;

  test('the document is a Linux Command document in Other Account, read from the stack directory; it holds no secret, so the plan shows it', () => {
    expect(document()).toMatchObject({ provider: 'aws.other_account', document_type: 'Command', document_format: 'JSON', target_type: '/AWS::EC2::Instance' });
    expect(document().content).toBe(`\${file("${SCRIPTS_DIR}/aspera_fleets/transfer-asg/install.ssm-document.json")}`);
    expect(document().depends_on).toEqual(['aws_s3_object.fleet_transfer_asg']);
    expect(document().name).toMatch(/^aspera-cross-account-transfer-asg-install-[0-9a-f]{8}$/);
    const parsed = JSON.parse(fileOf(out, document().content));
    expect(parsed.schemaVersion).toBe('2.2');
    expect(parsed.parameters).toBeUndefined();
    for (const step of parsed.mainSteps) expect(step.precondition).toEqual({ StringEquals: ['platformType', 'Linux'] });
  });

  test('the script the document downloads and runs is byte for byte the script the SSH path uploads', () => {
    const ssh = sshScript(out, 'install');
    expect(ssh).toContain(EXTERNAL_ID); // the comparison is over the script that carries the docroots
    expect(downloadedScript(out, fileOf(out, document().content), 'fleet_transfer_asg')).toBe(ssh);
  });

  test('the script goes to the operator\'s bucket under this stack\'s and customer\'s path, uploaded from the file: in neither the plan nor the state', () => {
    const object = out.tf.resource!.aws_s3_object.fleet_transfer_asg;
    expect(object).toMatchObject({ provider: 'aws.other_account', bucket: 'media-ops-aspera-scripts', content_type: 'text/x-shellscript' });
    expect(object.key).toMatch(/^aspera-cross-account\/111111111111\/transfer-asg\/install-[0-9a-f]{16}\.sh$/);
    expect(object.source).toBe(`${SCRIPTS_DIR}/aspera_fleets/transfer-asg/install.sh`);
    expect(object.source_hash).toBe(`\${filesha256("${SCRIPTS_DIR}/aspera_fleets/transfer-asg/install.sh")}`);
    expect(object.content).toBeUndefined();
  });

  test('the SSM documents stay far below SSM\'s 64 KB at 5,000 grants: the script (over a megabyte) travels through S3', () => {
    const grants = Array.from({ length: 5000 }, (_, i) => ({ transferUser: `partner${i}`, bucket: 'acme-aspera-inbox', prefix: `partners/p${String(i).padStart(5, '0')}/incoming`, access: 'read-write' }));
    const big = synthConfigToDir(withFleets([FLEET, { ...FLEET, name: 'edge', docroots: 'removed' }], { grants, hostPolicy: 'role-path' } as Partial<ConfigInput>));
    const documents = Object.values(big.tf.resource!.aws_ssm_document).map((d) => fileOf(big, d.content));
    expect(documents).toHaveLength(2);
    for (const text of documents) expect(Buffer.byteLength(text)).toBeLessThan(4096);
    const install = readFileSync(join(big.stackDir, big.tf.resource!.aws_s3_object.fleet_transfer_asg.source), 'utf8');
    expect(install.length).toBeGreaterThan(1_000_000);
    expect(install).toBe(sshScript(big, 'install'));
  }, 120000);

  test('the association targets the Auto Scaling group and the tags, with the configured severity, wait and output location', () => {
    expect(association()).toMatchObject({
      provider: 'aws.other_account',
      name: '${aws_ssm_document.fleet_transfer_asg.name}',
      association_name: 'aspera-cross-account-transfer-asg',
      targets: [
        { key: 'tag:aws:autoscaling:groupName', values: ['aspera-asg'] },
        { key: 'tag:Role', values: ['aspera', 'aspera-hsts'] },
      ],
      compliance_severity: 'CRITICAL',
      wait_for_success_timeout_seconds: 600,
      output_location: { s3_bucket_name: 'ops-ssm-output', s3_key_prefix: 'aspera', s3_region: 'us-east-1' },
    });
    // Runs at creation, not only on a schedule; any document change makes a new association (a new run, waited for).
    expect(association().apply_only_at_cron_interval).toBeUndefined();
    expect(association().schedule_expression).toBeUndefined();
    expect(association().lifecycle.replace_triggered_by).toEqual(['aws_ssm_document.fleet_transfer_asg']);
  });

  test('the association waits for the grant roles, the host policy and the instance role\'s SSM permissions', () => {
    expect(association().depends_on).toEqual(
      expect.arrayContaining([
        'aws_iam_role.grant_xfer2',
        'aws_iam_role_policy.transfer_host',
        'aws_iam_role_policy_attachment.transfer_host_ssm_core',
        'aws_iam_role_policy.transfer_host_ssm_command_output',
        'aws_iam_role_policy.transfer_host_fleet_scripts',
      ]),
    );
  });

  test('the created host role gets AmazonSSMManagedInstanceCore, and may write the command output under its prefix only', () => {
    expect(out.tf.resource!.aws_iam_role_policy_attachment).toEqual({
      transfer_host_ssm_core: expect.objectContaining({
        provider: 'aws.other_account',
        role: '${aws_iam_role.transfer_host.name}',
        policy_arn: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore',
      }),
    });
    const output = out.tf.resource!.aws_iam_role_policy.transfer_host_ssm_command_output;
    expect(output.role).toBe('${aws_iam_role.transfer_host.name}');
    expect(JSON.parse(output.policy).Statement).toEqual([
      { Sid: 'WriteSsmCommandOutput', Effect: 'Allow', Action: ['s3:PutObject'], Resource: ['arn:aws:s3:::ops-ssm-output/aspera/*'] },
      { Sid: 'ReadOutputBucketEncryption', Effect: 'Allow', Action: ['s3:GetEncryptionConfiguration'], Resource: ['arn:aws:s3:::ops-ssm-output'] },
    ]);
  });

  test('the output names each fleet\'s association, document and what it runs', () => {
    expect(out.tf.output!.aspera_fleets.value).toEqual({
      'transfer-asg': {
        association_id: '${aws_ssm_association.fleet_transfer_asg.association_id}',
        document_name: '${aws_ssm_document.fleet_transfer_asg.name}',
        runs: 'install',
      },
    });
  });

  test('the External ID and the docroots are in no SSM resource, output or document metadata in cdk.tf.json', () => {
    const text = JSON.stringify({ ssm: [document(), association()], output: out.tf.output!.aspera_fleets });
    expect(text).not.toContain(EXTERNAL_ID);
    expect(text).not.toContain('s3://');
    const parsed = JSON.parse(fileOf(out, document().content));
    // What ssm:DescribeDocument returns besides the name: the description and the (absent) parameters.
    expect(parsed.description).not.toContain(EXTERNAL_ID);
    expect(parsed.description).toBe('aspera-cross-account: installs the S3 docroots of stack aspera-cross-account in aspera.conf (fleet transfer-asg)');
  });
});

describe('a fleet with docroots removed', () => {
  let out: SynthOutput;
  beforeAll(() => {
    out = synthConfigToDir(withFleets([{ ...FLEET, docroots: 'removed' }]));
  });
  const document = () => out.tf.resource!.aws_ssm_document.fleet_transfer_asg;

  test('runs the SSH path\'s uninstall script, byte for byte, under a document of its own name; the plan may show it', () => {
    expect(document().name).toMatch(/^aspera-cross-account-transfer-asg-uninstall-[0-9a-f]{8}$/);
    expect(document().content).toBe(`\${file("${SCRIPTS_DIR}/aspera_fleets/transfer-asg/uninstall.ssm-document.json")}`);
    const script = downloadedScript(out, fileOf(out, document().content), 'fleet_transfer_asg');
    expect(script).toBe(sshScript(out, 'uninstall'));
    expect(script).toContain("ACTION='uninstall'");
    expect(script).not.toContain(EXTERNAL_ID);
    expect(out.tf.output!.aspera_fleets.value).toMatchObject({ 'transfer-asg': { runs: 'uninstall' } });
  });

  test('the install and uninstall documents differ in name, so switching replaces the document and the association', () => {
    const installed = synthConfigToDir(withFleets([FLEET]));
    expect(installed.tf.resource!.aws_ssm_document.fleet_transfer_asg.name).not.toBe(document().name);
  });
});

test('a changed grant is a new document name (a new association, run and waited for); an unchanged config is the same name', () => {
  const a = synthConfigToDir(withFleets([FLEET])).tf.resource!.aws_ssm_document.fleet_transfer_asg.name;
  const again = synthConfigToDir(withFleets([FLEET])).tf.resource!.aws_ssm_document.fleet_transfer_asg.name;
  const changed = synthConfigToDir(withFleets([FLEET], { grants: [{ transferUser: 'xfer2', bucket: 'acme-aspera-inbox', prefix: 'in', access: 'read-write' }] }))
    .tf.resource!.aws_ssm_document.fleet_transfer_asg.name;
  expect(again).toBe(a);
  expect(changed).not.toBe(a);
});

test('an existing host role gets no attachment (the review report says it needs the policy); the output policy goes on it by name', () => {
  const out = synthConfigToDir(withFleets([{ ...FLEET, outputS3: { bucket: 'ops-ssm-output' } }], { hostRole: { existingRoleName: 'aspera-ec2' } }));
  expect(out.tf.resource!.aws_iam_role_policy_attachment).toBeUndefined();
  const output = out.tf.resource!.aws_iam_role_policy.transfer_host_ssm_command_output;
  expect(output.role).toBe('aspera-ec2');
  expect(JSON.parse(output.policy).Statement[0].Resource).toEqual(['arn:aws:s3:::ops-ssm-output/*']);
});

test('without fleets: no SSM resource, no script object, no attachment, no fleet output', () => {
  const out = synthConfigToDir(baseConfigInput());
  expect(Object.keys(out.tf.resource!).filter((t) => /ssm|attachment|s3_object/.test(t))).toEqual([]);
  expect(out.tf.output!.aspera_fleets).toBeUndefined();
});

test('GovCloud: the managed policy ARN is in the partition of Other Account', () => {
  const out = synthConfigToDir(
    withFleets([FLEET], { myAccount: { accountId: '111111111111', region: 'us-gov-west-1' }, otherAccount: { accountId: '222222222222', region: 'us-gov-west-1' } }),
  );
  expect(out.tf.resource!.aws_iam_role_policy_attachment.transfer_host_ssm_core.policy_arn).toBe('arn:aws-us-gov:iam::aws:policy/AmazonSSMManagedInstanceCore');
});

describe('mode "transfer-host" with a generated External ID', () => {
  let out: SynthOutput;
  beforeAll(() => {
    const input = withFleets([FLEET], { mode: 'transfer-host', buckets: [{ name: 'acme-aspera-inbox', create: false }] } as Partial<ConfigInput>);
    delete (input as Record<string, unknown>).externalId;
    const { profile: _, ...myAccount } = input.myAccount;
    out = synthConfigToDir({ ...input, myAccount });
  });

  test('the script object puts the generated value in place of the marker at apply time, checked first, kept out of the plan; the document is replaced when it changes', () => {
    const object = out.tf.resource!.aws_s3_object.fleet_transfer_asg;
    expect(object.content).toBe(`\${sensitive(replace(file("${SCRIPTS_DIR}/aspera_fleets/transfer-asg/install.sh"), "ASPERAEXTERNALIDMARKER", random_id.external_id.hex))}`);
    expect(object.source).toBeUndefined();
    expect(object.lifecycle.precondition[0].condition).toBe('${can(regex("^[0-9a-f]{32}$", random_id.external_id.hex))}');
    const document = out.tf.resource!.aws_ssm_document.fleet_transfer_asg;
    expect(document.content).toBe(`\${file("${SCRIPTS_DIR}/aspera_fleets/transfer-asg/install.ssm-document.json")}`);
    expect(document.lifecycle.replace_triggered_by).toEqual(['random_id.external_id']);
    // The marked fleet script is the marked SSH script: the same replace() makes them the same script.
    expect(fileOf(out, object.content)).toBe(sshScript(out, 'install'));
    expect(sshScript(out, 'install')).toContain('ASPERAEXTERNALIDMARKER');
  });
});

describe('config checks', () => {
  const problemsOf = (fleets: unknown[], overrides: Record<string, unknown> = {}): string[] => {
    const result = validateConfig({ ...withFleets(fleets), ...overrides });
    return result.ok ? [] : result.problems;
  };

  test('a fleet needs a target, and at most five', () => {
    expect(problemsOf([{ name: 'a1', targets: {}, scriptS3: { bucket: 'media-ops-aspera-scripts' } }])).toEqual([expect.stringMatching(/^asperaFleets\[0\]\.targets: must name "autoScalingGroupName" or at least one tag/)]);
    const six = Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, values: ['v'] }));
    expect(problemsOf([{ name: 'a1', targets: { autoScalingGroupName: 'g', tags: six }, scriptS3: { bucket: 'media-ops-aspera-scripts' } }])).toEqual([expect.stringMatching(/^asperaFleets\[0\]\.targets: has 6 targets .* at most 5/)]);
  });

  test('names, tag keys and values that could become Terraform or shell syntax are refused where they are', () => {
    expect(problemsOf([{ name: 'Bad_Name', targets: { autoScalingGroupName: 'g' }, scriptS3: { bucket: 'media-ops-aspera-scripts' } }])).toEqual([expect.stringMatching(/^asperaFleets\[0\]\.name: /)]);
    expect(problemsOf([{ name: 'a1', targets: { autoScalingGroupName: 'g${x}' }, scriptS3: { bucket: 'media-ops-aspera-scripts' } }])).toEqual([expect.stringMatching(/^asperaFleets\[0\]\.targets\.autoScalingGroupName: /)]);
    expect(problemsOf([{ name: 'a1', targets: { tags: [{ key: 'aws:autoscaling:groupName', values: ['g'] }] }, scriptS3: { bucket: 'media-ops-aspera-scripts' } }])).toEqual([
      expect.stringMatching(/^asperaFleets\[0\]\.targets\.tags\[0\]\.key: .*not starting with "aws:"/),
    ]);
    expect(problemsOf([{ name: 'a1', targets: { tags: [{ key: 'Role', values: ['$(reboot)'] }] }, scriptS3: { bucket: 'media-ops-aspera-scripts' } }])).toEqual([expect.stringMatching(/^asperaFleets\[0\]\.targets\.tags\[0\]\.values\[0\]: /)]);
  });

  test('duplicates: fleet names and tag keys', () => {
    expect(problemsOf([FLEET, FLEET])).toEqual([expect.stringMatching(/^asperaFleets\[1\]\.name: duplicate fleet "transfer-asg"/)]);
    expect(problemsOf([{ name: 'a1', targets: { tags: [{ key: 'Role', values: ['a'] }, { key: 'Role', values: ['b'] }] }, scriptS3: { bucket: 'media-ops-aspera-scripts' } }])).toEqual([
      expect.stringMatching(/^asperaFleets\[0\]\.targets\.tags\[1\]\.key: duplicate tag key "Role"/),
    ]);
  });

  test('the command output goes to Other Account, never to a grant bucket of My Account', () => {
    expect(problemsOf([{ ...FLEET, outputS3: { bucket: 'acme-aspera-inbox' } }])).toEqual([expect.stringMatching(/^asperaFleets\[0\]\.outputS3\.bucket: names "acme-aspera-inbox", a bucket of myAccount/)]);
  });

  test('severity, wait and docroots take only their documented values', () => {
    expect(problemsOf([{ ...FLEET, complianceSeverity: 'high' }])).toEqual([expect.stringMatching(/^asperaFleets\[0\]\.complianceSeverity: /)]);
    expect(problemsOf([{ ...FLEET, waitForSuccessSeconds: 30 }])).toEqual([expect.stringMatching(/^asperaFleets\[0\]\.waitForSuccessSeconds: must be from 60 to 3600/)]);
    expect(problemsOf([{ ...FLEET, docroots: 'absent' }])).toEqual([expect.stringMatching(/^asperaFleets\[0\]\.docroots: must be "installed" or "removed"/)]);
  });

  test('a stack name AWS reserves for document names, and mode "bucket-owner", are refused with fleets', () => {
    expect(problemsOf([FLEET], { stackName: 'aws-aspera' })).toEqual([expect.stringMatching(/^stackName: must not start with "aws", "amazon" or "amzn"/)]);
    expect(problemsOf([], { stackName: 'aws-aspera' })).toEqual([]);
    expect(problemsOf([FLEET], { mode: 'bucket-owner', asperaHosts: [] })).toContainEqual(expect.stringMatching(/^asperaFleets: must be empty in mode "bucket-owner"/));
    expect(problemsOf([], { mode: 'bucket-owner', asperaHosts: [] }).filter((p) => p.startsWith('asperaFleets'))).toEqual([]);
  });
});
