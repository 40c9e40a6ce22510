/**
 * Grants installed as Node API access keys, as synthesized: the seed of their secrets, how it
 * reaches the hosts' install scripts (SSH and fleets), the outputs, and what the scripts carry.
 * The script's behaviour against a Node API is proven in aspera-access-keys.test.ts; here, the
 * stack around it. Expected values are written by hand from the fixture and IBM's field names.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ACCESS_KEY_SEED_MARKER } from '../src/aspera/access-key';
import { EXTERNAL_ID_MARKER, renderHostScripts, renderScript } from '../src/aspera/host-scripts';
import { fixtureConfigInput, halvesOf, resourceOf, resourcesOfType, synthConfigToDir, validConfig, type SynthOutput } from './helpers/synth';

const SEED = 'random_bytes.access_key_secret_seed.hex';
// Spliced through nonsensitive(): the value is sensitive, and a sensitive value in a provisioner hides its whole output.
const SPLICED = `nonsensitive(${SEED})`;
const input = fixtureConfigInput('access-keys.json');
const synth: SynthOutput = synthConfigToDir(input);
const generated: SynthOutput = synthConfigToDir(halvesOf(input, { generateExternalId: true }).transferHost);
const docrootsOnly: SynthOutput = synthConfigToDir(fixtureConfigInput('two-buckets-prefixes.json'));
afterAll(() => [synth, generated, docrootsOnly].forEach((s) => rmSync(s.outdir, { recursive: true, force: true })));

const install = (s: SynthOutput, host: string): string => readFileSync(join(s.stackDir, 'aspera-host-scripts', 'aspera_hosts', host, 'install.sh'), 'utf8');
const uninstall = (s: SynthOutput, host: string): string => readFileSync(join(s.stackDir, 'aspera-host-scripts', 'aspera_hosts', host, 'uninstall.sh'), 'utf8');
const dataLine = (script: string, name: string): string => {
  const m = new RegExp(`^${name}='([^']*)'$`, 'm').exec(script);
  if (m === null) throw new Error(`no ${name}= line`);
  return m[1];
};
const block = (script: string, name: string): string[] => {
  const m = new RegExp(`^${name}='\\n?([^']*)'$`, 'm').exec(script);
  if (m === null) throw new Error(`no ${name}= block`);
  return m[1].split('\n').filter((l) => l !== '');
};

// IBM's form, by hand: storage aws_s3 with bucket, endpoint and path; credentials assume-role.
const storage = (bucket: string, path: string, user: string) =>
  JSON.stringify({
    type: 'aws_s3',
    bucket,
    endpoint: 's3.amazonaws.com',
    path,
    credentials: {
      type: 'assume-role',
      assume_role_arn: `arn:aws:iam::121212121212:role/faspex-media-${user}`,
      assume_role_external_id: 'faspex-media-5c1e0a77',
      assume_role_session_name: `faspex-media.${user}`,
    },
  });

describe('the install script carries the access keys of the access-key grants only, and the docroots of the docroot grants only', () => {
  const script = install(synth, 'host_hsts1_operator_example_22');

  test('ACCESS_KEYS: one line per access-key grant, id, transfer user and IBM\'s storage object', () => {
    expect(block(script, 'ACCESS_KEYS')).toEqual([
      `faspex-media-121212121212-faspex_pkgs faspex_pkgs ${storage('studio-deliveries', '/faspex/packages', 'faspex_pkgs')}`,
      `faspex-media-121212121212-archive_ro archive_ro ${storage('studio-archive', '/', 'archive_ro')}`,
    ]);
  });

  test('GRANTS: the docroot grants (ascp_in and archive_ro), not faspex_pkgs', () => {
    expect(block(script, 'GRANTS').map((l) => l.split(' ')[0])).toEqual(['ascp_in', 'archive_ro']);
  });

  test('the seed is a marker Terraform replaces; nothing secret is in the file', () => {
    expect(dataLine(script, 'ACCESS_KEY_SEED')).toBe(ACCESS_KEY_SEED_MARKER);
  });

  test('each host has its own Node API settings; the defaults where the config gives none', () => {
    expect([dataLine(script, 'NODE_API_URL'), dataLine(script, 'NODE_API_CREDENTIALS'), dataLine(script, 'NODE_API_CA_FILE')]).toEqual([
      'https://127.0.0.1:9092',
      '/opt/aspera/etc/aspera-cross-account/node-api.credentials',
      '',
    ]);
    const other = install(synth, 'host_hsts2_operator_example_22');
    expect([dataLine(other, 'NODE_API_URL'), dataLine(other, 'NODE_API_CREDENTIALS'), dataLine(other, 'NODE_API_CA_FILE')]).toEqual([
      'https://hsts2.operator.example:9092',
      '/etc/aspera-cross-account/faspex-media.node-api',
      '/etc/pki/tls/certs/operator-ca.pem',
    ]);
  });

  test('the uninstall carries no key and no seed: it removes what the host recorded, whatever the config says now', () => {
    const u = uninstall(synth, 'host_hsts1_operator_example_22');
    expect(block(u, 'ACCESS_KEYS')).toEqual([]);
    expect(dataLine(u, 'ACCESS_KEY_SEED')).toBe('');
    expect(dataLine(u, 'NODE_API_URL')).toBe('https://127.0.0.1:9092');
  });
});

describe('the seed: generated once by Terraform, spliced into the install at apply, its hash a trigger', () => {
  test('random_bytes.access_key_secret_seed: 16 bytes, no keepers (it never changes on its own); random_bytes, whose value is sensitive and not its id', () => {
    expect(resourceOf(synth.tf, 'random_bytes', 'access_key_secret_seed')).toMatchObject({ length: 16 });
    expect(resourceOf(synth.tf, 'random_bytes', 'access_key_secret_seed').keepers).toBeUndefined();
    expect(resourcesOfType(synth.tf, 'random_id')).toEqual({});
  });

  test('each host\'s install resource splices it with replace(file(...)) and re-installs when it changes; the plan shows only its hash', () => {
    const docroots = Object.entries(resourcesOfType(synth.tf, 'null_resource')).filter(([name]) => name.includes('_docroots_'));
    expect(docroots).toHaveLength(2);
    for (const [name, r] of docroots) {
      const dir = name.includes('hsts1') ? 'host_hsts1_operator_example_22' : 'host_hsts2_operator_example_22';
      expect(r.provisioner[0]['remote-exec'].inline).toEqual([
        `\${replace(file("aspera-host-scripts/aspera_hosts/${dir}/install.sh"), "${ACCESS_KEY_SEED_MARKER}", ${SPLICED})}`,
      ]);
      expect(r.provisioner[0]['remote-exec'].script).toBeUndefined();
      expect(r.triggers.access_key_seed_sha256).toBe(`\${nonsensitive(sha256(${SEED}))}`);
      expect(r.lifecycle.precondition).toEqual([
        {
          condition: `\${can(regex("^[0-9a-f]{32}$", ${SEED}))}`,
          error_message: `The access key secret seed (${SEED}) must be 32 lowercase hex digits: it is put into the Aspera host script as it is.`,
        },
      ]);
    }
  });

  test('the revocation resource does not depend on the seed (its uninstall needs none)', () => {
    const revocations = Object.entries(resourcesOfType(synth.tf, 'null_resource')).filter(([name]) => name.includes('_revocation_'));
    expect(revocations).toHaveLength(2);
    for (const [, r] of revocations) expect(JSON.stringify(r)).not.toContain('access_key_secret_seed');
  });

  test('a fleet\'s script object gets the seed spliced in, as sensitive() content; a new seed replaces its document', () => {
    const object = resourceOf(synth.tf, 'aws_s3_object', 'fleet_hsts_asg');
    expect(object.content).toBe(`\${sensitive(replace(file("aspera-host-scripts/aspera_fleets/hsts-asg/install.sh"), "${ACCESS_KEY_SEED_MARKER}", ${SPLICED}))}`);
    expect(object.source).toBeUndefined();
    expect(resourceOf(synth.tf, 'aws_ssm_document', 'fleet_hsts_asg').lifecycle.replace_triggered_by).toEqual(['random_bytes.access_key_secret_seed']);
  });

  test('with a generated External ID too, both are spliced, one replace() each, and both hashes are triggers', () => {
    const r = Object.entries(resourcesOfType(generated.tf, 'null_resource')).find(([name]) => name.includes('hsts1') && name.includes('_docroots_'))![1];
    expect(r.provisioner[0]['remote-exec'].inline).toEqual([
      `\${replace(replace(file("aspera-host-scripts/aspera_hosts/host_hsts1_operator_example_22/install.sh"), "${EXTERNAL_ID_MARKER}", random_id.external_id.hex), "${ACCESS_KEY_SEED_MARKER}", ${SPLICED})}`,
    ]);
    expect(Object.keys(r.triggers)).toEqual(expect.arrayContaining(['external_id_sha256', 'access_key_seed_sha256']));
    expect(r.lifecycle.precondition).toHaveLength(2);
    expect(block(install(generated, 'host_hsts1_operator_example_22'), 'ACCESS_KEYS')[0]).toContain(`"assume_role_external_id":"${EXTERNAL_ID_MARKER}"`);
  });

  test('a stack without access-key grants has no seed, no Node API output, and splices nothing', () => {
    expect(resourcesOfType(docrootsOnly.tf, 'random_bytes')).toEqual({});
    expect(Object.keys(docrootsOnly.tf.output ?? {})).not.toEqual(expect.arrayContaining(['access_keys']));
    expect(Object.keys(docrootsOnly.tf.output ?? {})).not.toContain('access_key_secrets');
    expect(JSON.stringify(docrootsOnly.tf)).not.toContain(ACCESS_KEY_SEED_MARKER);
  });
});

describe('the outputs', () => {
  const outputs = synth.tf.output as Record<string, { value: unknown; sensitive?: boolean; description: string }>;

  test('access_keys: per id, the transfer user, bucket, path and role, not sensitive (nothing secret in it)', () => {
    expect(outputs.access_keys.value).toEqual({
      'faspex-media-121212121212-faspex_pkgs': { transfer_user: 'faspex_pkgs', bucket: 'studio-deliveries', path: '/faspex/packages', role_arn: 'arn:aws:iam::121212121212:role/faspex-media-faspex_pkgs' },
      'faspex-media-121212121212-archive_ro': { transfer_user: 'archive_ro', bucket: 'studio-archive', path: '/', role_arn: 'arn:aws:iam::121212121212:role/faspex-media-archive_ro' },
    });
    expect(outputs.access_keys.sensitive).toBeUndefined();
  });

  test('docroots: the grants installed as docroots only (faspex_pkgs has none)', () => {
    expect(Object.keys(outputs.docroots.value as object).sort()).toEqual(['archive_ro', 'ascp_in']);
  });

  test('access_key_secrets: sensitive, per id sha256("<seed>:<id>"), the derivation the host script uses', () => {
    expect(outputs.access_key_secrets.sensitive).toBe(true);
    expect(outputs.access_key_secrets.value).toEqual({
      'faspex-media-121212121212-faspex_pkgs': `\${sha256("\${${SEED}}:faspex-media-121212121212-faspex_pkgs")}`,
      'faspex-media-121212121212-archive_ro': `\${sha256("\${${SEED}}:faspex-media-121212121212-archive_ro")}`,
    });
  });

  test('the bucket owner\'s half has neither the seed nor the access key outputs', () => {
    const halves = halvesOf(input);
    const ownerSynth = synthConfigToDir(halves.bucketOwner);
    try {
      expect(resourcesOfType(ownerSynth.tf, 'random_bytes')).toEqual({});
      expect(Object.keys(ownerSynth.tf.output ?? {})).not.toContain('access_key_secrets');
    } finally {
      rmSync(ownerSynth.outdir, { recursive: true, force: true });
    }
  });
});

describe('defence in depth: renderScript refuses what would break the data block or the request', () => {
  const base = { url: 'https://127.0.0.1:9092', credentialsFile: '/opt/aspera/etc/c' };
  const key = { id: 'k-1', transferUser: 'xfer2', storageJson: '{"type":"aws_s3"}' };
  const render = (nodeApi: object) => () => renderScript('install', 'stack:111111111111:222222222222', '/opt/aspera/etc/aspera.conf', [], { ...base, keys: [key], ...nodeApi });

  test.each([
    ['an id with a space', { keys: [{ ...key, id: 'k 1' }] }, /access key id/],
    ['an id twice', { keys: [key, key] }, /given twice/],
    ['storage with a single quote', { keys: [{ ...key, storageJson: `{"a":"'"}` }] }, /storage of access key k-1/],
    ['storage with a backslash', { keys: [{ ...key, storageJson: '{"a":"\\\\"}' }] }, /storage of access key k-1/],
    ['a URL with a path', { url: 'https://h/x' }, /Node API URL/],
    ['a relative credentials file', { credentialsFile: 'c' }, /credentials file/],
    ['a CA file with a quote', { caFile: '/a"b' }, /CA file/],
  ])('%s', (_, nodeApi, message) => expect(render(nodeApi)).toThrow(message));

  test('a config value holding the seed marker: the config refuses it, and so does the renderer, should one get past', () => {
    const valid = validConfig(input);
    const marked = { ...valid, grants: valid.grants.map((g, i) => (i === 1 ? { ...g, prefix: `faspex/${ACCESS_KEY_SEED_MARKER}` } : g)) };
    expect(() => renderHostScripts(marked, marked.asperaHosts[0])).toThrow(/the config contains "ASPERAACCESSKEYSEEDMARKER", which stands for the access key secret seed/);
  });

  test('an uninstall script never carries a key', () => {
    expect(() => renderScript('uninstall', 'stack:111111111111:222222222222', '/opt/aspera/etc/aspera.conf', [], { ...base, keys: [key] })).toThrow(/uninstall script carries no access key/);
  });

  test('renderHostScripts gives a docroot-only config no key and no seed', () => {
    const config = validConfig(fixtureConfigInput('two-buckets-prefixes.json'));
    const scripts = renderHostScripts(config, config.asperaHosts[0]);
    expect(block(scripts.install, 'ACCESS_KEYS')).toEqual([]);
    expect(dataLine(scripts.install, 'ACCESS_KEY_SEED')).toBe('');
  });
});
