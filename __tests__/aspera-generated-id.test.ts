/**
 * A generated External ID reaches the Aspera hosts (mode "transfer-host" without "externalId").
 * The install script is written at synth time with a marker where the External ID goes; Terraform
 * puts the value in with replace(file(...)) when it uploads the script (remote-exec `inline`).
 *
 * Checked on the synthesized stack, against mode "both" synthesized with the same External ID as a
 * given value (what the generated path must install), and for real: the script as Terraform will
 * upload it runs under dash and bash against an aspera.conf, parsed with fast-xml-parser.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EXTERNAL_ID_MARKER, renderHostScriptsWithExternalIdMarker } from '../src/aspera/host-scripts';
import { externalIdSplice, hostIds as hostDirectories, installScriptWithSplices, splicePrecondition } from '../src/constructs/aspera-hosts';
import { docrootOf, fixture, runSteps, scriptFile, tempRoot, testConfig, workdir, type StepResult } from './helpers/aspera-host';
import { fixtureConfigInput, halvesOf, resolvePlanTime, synthConfigToDir, validConfig, type SynthOutput } from './helpers/synth';
import { SHELLS, writeThrowawayPrivateKey } from './helpers/unprivileged';

/** What random_id.external_id.hex could be after the operator's apply (16 bytes, hex). */
const HEX = '9c1f0e7a5b3d2c4e6f8a0b1c2d3e4f50';
const OTHER_HEX = '00112233445566778899aabbccddeeff';
const REFERENCE = 'random_id.external_id.hex';
const RESTART = 'systemctl restart asperanoded';

// Set up at load time, not in beforeAll: the concurrent tests below start without waiting for it.
const root = tempRoot('generated-id');
afterAll(() => rmSync(root, { recursive: true, force: true }));

// A real (throwaway) private key at the first host's configured path: its bytes must never be synthesized.
const keyPath = join(root, 'id_ed25519');
writeThrowawayPrivateKey(keyPath);

// two-buckets-prefixes.json: three grants over two buckets and prefixes, two hosts.
const input = fixtureConfigInput('two-buckets-prefixes.json');
input.asperaHosts = [{ ...input.asperaHosts![0], privateKeyPath: keyPath }, input.asperaHosts![1]];
const { transferHost: generatedInput } = halvesOf(input, { generateExternalId: true });

const generated: SynthOutput = synthConfigToDir(generatedInput);
/** The same logical config in mode "both", with HEX given: what the hosts must end up with. */
const both: SynthOutput = synthConfigToDir({ ...input, externalId: HEX });
afterAll(() => {
  rmSync(generated.outdir, { recursive: true, force: true });
  rmSync(both.outdir, { recursive: true, force: true });
});

type RemoteExec = { when?: string; on_failure: string; script?: string; inline?: string[]; connection: Record<string, unknown> };
type NullResourceJson = { triggers: Record<string, string>; lifecycle?: unknown; provisioner: Array<{ 'remote-exec': RemoteExec }>; [key: string]: unknown };
const hosts = (s: SynthOutput): Record<string, NullResourceJson> => (s.tf.resource?.null_resource ?? {}) as Record<string, NullResourceJson>;
const generatedConfig = validConfig(generatedInput);
const resourceName = (s: SynthOutput, dir: string, role: 'docroots' | 'revocation'): string =>
  Object.keys(hosts(s)).find((name) => name.startsWith(`aspera_hosts_${dir}_${role}_`))!;
/** Per host: its config, its scripts' directory and its null_resources' names (install, uninstall). */
const HOSTS = hostDirectories(generatedConfig.asperaHosts).map((dir, i) => ({
  host: generatedConfig.asperaHosts[i],
  dir,
  id: resourceName(generated, dir, 'docroots'),
  revocation: resourceName(generated, dir, 'revocation'),
}));
/** The install (docroots) resources, one per host. */
const hostIds = HOSTS.map((h) => h.id);
const revocationIds = HOSTS.map((h) => h.revocation);

/**
 * What Terraform makes of the create-time `inline`: it evaluates the one expression (file() reads
 * the script relative to the stack directory, where Terraform runs; replace() with a quoted
 * substring replaces every occurrence literally), then remote-exec joins the inline lines with
 * "\n" plus a final "\n" into the script file it uploads and runs. Only the expected expression
 * shape is understood, so any other shape fails here.
 */
function scriptTerraformUploads(s: SynthOutput, id: string, hex: string): string {
  const inline = hosts(s)[id].provisioner[0]['remote-exec'].inline!;
  expect(inline).toHaveLength(1);
  const m = /^\$\{replace\(file\(("[^"\\]*")\), ("[A-Z]+"), random_id\.external_id\.hex\)\}$/.exec(inline[0]);
  if (m === null) throw new Error(`unexpected inline expression: ${inline[0]}`);
  const [file, marker] = [JSON.parse(m[1]) as string, JSON.parse(m[2]) as string];
  return `${readFileSync(join(s.stackDir, file), 'utf8').split(marker).join(hex)}\n`;
}

const installFile = (s: SynthOutput, id: string): string => readFileSync(join(s.stackDir, 'aspera-host-scripts', 'aspera_hosts', HOSTS.find((h) => h.id === id)!.dir, 'install.sh'), 'utf8');
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

// Written by hand from the docroot form in docs/aspera-hosts.md (role ARN URL-encoded, prefix without its "/").
const arn = (role: string) => `arn%3Aaws%3Aiam%3A%3A444444444444%3Arole%2F${role}`;
const docroots = (hex: string): Record<string, string> => ({
  xfer2: `s3://${arn('acme-exchange-xfer2')}@s3.amazonaws.com/acme-aspera-inbox;iam-role.external-id=${hex}`,
  xfer3: `s3://${arn('acme-exchange-xfer3')}@s3.amazonaws.com/acme-aspera-inbox/incoming/xfer3;iam-role.external-id=${hex}`,
  partner_a: `s3://${arn('acme-partner-a-reader')}@s3.amazonaws.com/acme.partner-archive/exchange/partner-a;iam-role.external-id=${hex}`,
});

test('the config is accepted: mode "transfer-host", no "externalId", Aspera hosts', () => {
  expect(generatedConfig).toMatchObject({ mode: 'transfer-host' });
  expect(generatedConfig.externalId).toBeUndefined();
  expect(generatedConfig.asperaHosts).toHaveLength(2);
  expect(generated.tf.resource?.random_id?.external_id).toMatchObject({ byte_length: 16 });
  expect([...hostIds, ...revocationIds].every((id) => id !== undefined)).toBe(true);
  expect([...hostIds, ...revocationIds].sort()).toEqual(Object.keys(hosts(generated)).sort());
  expect([...hostIds, ...revocationIds].sort()).toEqual(Object.keys(hosts(both)).sort());
});

test('create time: one inline script (one SSH session), Terraform putting the generated value into the install script file', () => {
  for (const { id, dir } of HOSTS) {
    expect(hosts(generated)[id].provisioner).toHaveLength(1);
    const [create] = hosts(generated)[id].provisioner.map((p) => p['remote-exec']);
    expect(create).toEqual({
      on_failure: 'fail',
      inline: [`\${replace(file("aspera-host-scripts/aspera_hosts/${dir}/install.sh"), "ASPERAEXTERNALIDMARKER", random_id.external_id.hex)}`],
      connection: hosts(both)[id].provisioner[0]['remote-exec'].connection,
    });
    expect(create).not.toHaveProperty('script');
  }
});

test('the inline script goes where a file script goes: into the SSH user\'s home directory, on create and on destroy', () => {
  for (const { id, revocation } of HOSTS) {
    const [create] = hosts(generated)[id].provisioner.map((p) => p['remote-exec']);
    const [destroy] = hosts(generated)[revocation].provisioner.map((p) => p['remote-exec']);
    expect(destroy.when).toBe('destroy');
    expect([create.connection.script_path, destroy.connection.script_path]).toEqual(['./.aspera-cross-account-%RAND%.sh', './.aspera-cross-account-%RAND%.sh']);
  }
});

test('destroy time: the revocation resource is unchanged, the same as with a given External ID (the uninstall needs none)', () => {
  for (const id of revocationIds) {
    // Triggers and provisioner alike (the order differs by mode): a new generated value replaces
    // only the docroots resource.
    expect(hosts(generated)[id].triggers).toEqual(hosts(both)[id].triggers);
    expect(hosts(generated)[id].triggers).not.toHaveProperty('external_id_sha256');
    expect(hosts(generated)[id].provisioner).toEqual(hosts(both)[id].provisioner);
    expect(hosts(generated)[id].lifecycle).toBeUndefined();
    const uninstall = hosts(generated)[id].provisioner[0]['remote-exec'].script!;
    expect(readFileSync(join(generated.stackDir, uninstall), 'utf8')).toBe(readFileSync(join(both.stackDir, uninstall), 'utf8'));
    expect(readFileSync(join(generated.stackDir, uninstall), 'utf8')).not.toMatch(/ASPERAEXTERNALIDMARKER|external-id/);
  }
});

test('the install script file: the marker exactly once per grant, as the External ID of its docroot in the data block', () => {
  for (const { id, host } of HOSTS) {
    const text = installFile(generated, id);
    expect(text.split(EXTERNAL_ID_MARKER)).toHaveLength(generatedConfig.grants.length + 1);
    const grants = /^GRANTS='\n([^']*)'$/m.exec(text)![1].split('\n').filter((l) => l !== '');
    expect(grants.map((line) => line.split(' ')[0])).toEqual(['xfer2', 'xfer3', 'partner_a']);
    for (const line of grants) expect(line).toMatch(/;iam-role\.external-id=ASPERAEXTERNALIDMARKER$/);
    expect(text.replace(/^GRANTS='[^']*'$/m, '')).not.toContain(EXTERNAL_ID_MARKER);
    expect(text).toBe(renderHostScriptsWithExternalIdMarker(generatedConfig, host, 32).install);
  }
});

test('Terraform\'s evaluation gives exactly the install script mode "both" renders with that External ID as a given value', () => {
  for (const id of hostIds) {
    const both_ = readFileSync(join(both.stackDir, hosts(both)[id].provisioner[0]['remote-exec'].script!), 'utf8');
    expect(scriptTerraformUploads(generated, id, HEX)).toBe(`${both_}\n`);
    // And the value is what matters: another one gives another script.
    expect(scriptTerraformUploads(generated, id, OTHER_HEX)).not.toBe(`${both_}\n`);
  }
});

test('the docroots installed are the ones published in the "docroots" output', () => {
  const published = resolvePlanTime(generated.tf.output?.docroots?.value, { [REFERENCE]: HEX });
  expect(published).toEqual(docroots(HEX));
  const installed = /^GRANTS='\n([^']*)'$/m.exec(scriptTerraformUploads(generated, hostIds[0], HEX))![1].split('\n').filter((l) => l !== '');
  expect(Object.fromEntries(installed.map((line) => [line.split(' ')[0], line.split(' ')[4]]))).toEqual(published);
});

test('a precondition lets only 32 lowercase hex digits into the script', () => {
  for (const id of hostIds) {
    expect(hosts(generated)[id].lifecycle).toEqual({
      precondition: [
        {
          condition: '${can(regex("^[0-9a-f]{32}$", random_id.external_id.hex))}',
          error_message: expect.stringContaining('must be 32 lowercase hex digits'),
        },
      ],
    });
    expect(hosts(both)[id].lifecycle).toBeUndefined();
  }
  // The pattern means the same in RE2 (Terraform) and here: anchored, no flags.
  const pattern = new RegExp(/regex\("(.*)", random_id/.exec(splicePrecondition(externalIdSplice({ reference: REFERENCE, hexDigits: 32 })).condition)![1]);
  expect(pattern.test(HEX)).toBe(true);
  expect(pattern.test(OTHER_HEX)).toBe(true);
  for (const bad of [HEX.toUpperCase(), HEX.slice(1), `${HEX}0`, `${HEX.slice(1)}'`, `${HEX}\n`, `$(id)${HEX.slice(5)}`, '']) expect([bad, pattern.test(bad)]).toEqual([bad, false]);
});

test('docroots triggers: those of a given External ID, the marked script\'s hash, and the sha256 of the generated value (not the value)', () => {
  for (const id of hostIds) {
    const { triggers } = hosts(generated)[id];
    const text = installFile(generated, id);
    expect(triggers).toEqual({
      ...hosts(both)[id].triggers,
      install_script_sha256: sha256(text),
      // Depends on the value: a new one (apply -replace=random_id.external_id) re-installs the host.
      external_id_sha256: '${sha256(random_id.external_id.hex)}',
    });
  }
});

test('every Terraform expression of the host resources is one of these: nothing else is evaluated', () => {
  const allowed = new Set([
    '${self.triggers.host}',
    '${self.triggers.port}',
    '${self.triggers.user}',
    '${file(pathexpand(self.triggers.private_key_path))}',
    '${sha256(random_id.external_id.hex)}',
    '${can(regex("^[0-9a-f]{32}$", random_id.external_id.hex))}',
    ...hostIds.map((id) => hosts(generated)[id].provisioner[0]['remote-exec'].inline![0]),
  ]);
  const strings: string[] = [];
  const visit = (v: unknown): void => {
    if (typeof v === 'string') strings.push(v);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(visit);
  };
  visit(hosts(generated));
  const expressions = strings.filter((s) => /[$%]\{/.test(s));
  expect(new Set(expressions)).toEqual(allowed);
});

test('no private key material in any synthesized file', () => {
  const key = readFileSync(keyPath, 'utf8');
  const body = key.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
  expect(body.length).toBeGreaterThan(0);
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const f of readdirSync(dir, { withFileTypes: true })) (f.isDirectory() ? walk : (p: string) => files.push(p))(join(dir, f.name));
  };
  walk(generated.outdir);
  expect(files.filter((f) => f.endsWith('.sh'))).toHaveLength(4);
  for (const file of files) {
    const content = readFileSync(file, 'utf8');
    expect(content).not.toMatch(/PRIVATE KEY/);
    for (const line of body) expect(content).not.toContain(line);
  }
  // The key is configured (by its path) for the first host: the check above is not vacuous.
  expect(hosts(generated)[HOSTS[0].id].triggers.private_key_path).toBe(keyPath);
});

test('refused: a config that contains the marker, a reference that is not a plain reference', () => {
  // The config refuses it (src/config/cross-field.ts); the renderer refuses it too, should a config get past.
  expect(() => testConfig({ grants: [{ transferUser: 'xfer2', bucket: 'acme-aspera-inbox', prefix: `in/${EXTERNAL_ID_MARKER}`, access: 'read-write' }] })).toThrow(/grants\[0\]\.prefix: must not contain "ASPERAEXTERNALIDMARKER"/);
  const valid = testConfig();
  const marked = { ...valid, grants: [{ ...valid.grants[0], prefix: `in/${EXTERNAL_ID_MARKER}` }] };
  expect(() => renderHostScriptsWithExternalIdMarker(marked, marked.asperaHosts[0], 32)).toThrow(/the config contains "ASPERAEXTERNALIDMARKER"/);
  for (const reference of ['random_id.external_id.hex)} ${file("/etc/passwd")', '"0123"', 'hex', 'random_id.external_id.hex ']) {
    expect(() => installScriptWithSplices('install.sh', [externalIdSplice({ reference, hexDigits: 32 })])).toThrow(/not a plain Terraform reference/);
    expect(() => splicePrecondition(externalIdSplice({ reference, hexDigits: 32 }))).toThrow(/not a plain Terraform reference/);
  }
});

test('{prefixSlashesEncoded} on the generated path: the value Terraform puts in gives the hand-written docroots; the marker in a prefix is still refused', () => {
  const template = 's3://{roleArn}@{endpoint}/{bucket}{prefixSlashesEncoded};iam-role.external-id={externalId}';
  const config = validConfig({ ...generatedInput, docrootTemplate: template });
  const install = renderHostScriptsWithExternalIdMarker(config, config.asperaHosts[0], 32).install.split(EXTERNAL_ID_MARKER).join(HEX);
  const grants = /^GRANTS='\n([^']*)'$/m.exec(install)![1].split('\n').filter((l) => l !== '');
  expect(grants.map((line) => line.split(' ').pop())).toEqual([
    `s3://${arn('acme-exchange-xfer2')}@s3.amazonaws.com/acme-aspera-inbox;iam-role.external-id=${HEX}`,
    `s3://${arn('acme-exchange-xfer3')}@s3.amazonaws.com/acme-aspera-inbox%2Fincoming%2Fxfer3;iam-role.external-id=${HEX}`,
    `s3://${arn('acme-partner-a-reader')}@s3.amazonaws.com/acme.partner-archive%2Fexchange%2Fpartner-a;iam-role.external-id=${HEX}`,
  ]);
  const valid = testConfig({ docrootTemplate: template });
  const marked = { ...valid, grants: [{ ...valid.grants[0], prefix: `in/${EXTERNAL_ID_MARKER}` }] };
  expect(() => renderHostScriptsWithExternalIdMarker(marked, marked.asperaHosts[0], 32)).toThrow(/the config contains "ASPERAEXTERNALIDMARKER"/);
});

describe.each(SHELLS)('the script Terraform uploads, run under %s', (shell) => {
  const short = shell.split('/').pop();
  const install = scriptFile(root, `install-${short}.sh`, scriptTerraformUploads(generated, hostIds[0], HEX));
  const uninstall = scriptFile(root, `uninstall-${short}.sh`, readFileSync(join(generated.stackDir, hosts(generated)[revocationIds[0]].provisioner[0]['remote-exec'].script!), 'utf8'));
  const ok = (r: StepResult): void => {
    if (r.status !== 0) throw new Error(`script failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  };

  test.concurrent('installs every docroot with the generated External ID, idempotently; uninstall restores the file', async () => {
    const original = fixture('hsts-realm.conf');
    const w = workdir(root, `run-${short}`, original);
    const [first, again, removed] = await runSteps(root, [
      { shell, script: install, w },
      { shell, script: install, w },
      { shell, script: uninstall, w },
    ]);
    ok(first);
    const expected = docroots(HEX);
    expect(docrootOf(first.text, 'xfer2')).toMatchObject({ absolute: expected.xfer2, read_allowed: 'true', write_allowed: 'true', dir_allowed: 'true' });
    expect(docrootOf(first.text, 'xfer3')).toMatchObject({ absolute: expected.xfer3, read_allowed: 'true', write_allowed: 'true', dir_allowed: 'true' });
    expect(docrootOf(first.text, 'partner_a')).toMatchObject({ absolute: expected.partner_a, read_allowed: 'true', write_allowed: 'false', dir_allowed: 'true' });
    expect(first.text).not.toContain(EXTERNAL_ID_MARKER);
    expect(first.calls).toEqual([RESTART]);
    ok(again);
    expect(again.stdout).toContain('nothing changed');
    expect(again.text).toBe(first.text);
    expect(again.calls).toEqual([RESTART]);
    ok(removed);
    expect(removed.text).toBe(original);
    expect(removed.calls).toEqual([RESTART, RESTART]);
  });
});
