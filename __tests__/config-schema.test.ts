/**
 * The editor schema aspera.config.schema.json: generated from the zod schema, committed, and
 * checked with a real JSON Schema validator (ajv, draft-07 like the file) against the same
 * configs the CLI accepts and refuses.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { parseConfig } from '../src/config-file';
import { editorSchemaText, EDITOR_SCHEMA_PATH } from '../scripts/generate-schema';
import { APPLY_GUARD_ONLY_THE_CLI_CATCHES } from './helpers/apply-guard-fixtures';
import { EXAMPLE_CONFIG_PATH, invalidFixtureNames, invalidFixtureText, REPO_ROOT } from './helpers/invalid-configs';

/**
 * Fixtures whose mistake JSON Schema cannot express (relations between fields, rules written as
 * code, or a file that is not JSON at all): the editor accepts them and `cdktf synth` refuses them.
 */
const ONLY_THE_CLI_CATCHES: Record<string, string> = {
  'accounts-identical.patch.json': 'two fields must differ',
  'regions-in-different-partitions.patch.json': 'two fields must agree',
  'profile-and-assume-role.patch.json': 'two optional fields exclude each other',
  'assume-role-in-wrong-account.patch.json': 'the ARN must contain another field',
  'bucket-declared-twice.patch.json': 'uniqueness of a field across array items',
  'grant-undeclared-bucket.patch.json': 'a reference to another array',
  'grant-duplicate-transfer-user.patch.json': 'uniqueness of a field across array items',
  'grant-role-names-collide.patch.json': 'uniqueness of derived, case-folded names',
  'hosts-duplicate.patch.json': 'uniqueness of host:port across array items',
  'host-with-space.patch.json': 'host names are checked in code (hostname, IPv4 or IPv6)',
  'host-ipv4-out-of-range.patch.json': 'host names are checked in code (hostname, IPv4 or IPv6)',
  'host-option-injection.patch.json': 'host names are checked in code (hostname, IPv4 or IPv6)',
  'docroot-template-unknown-placeholder.patch.json': 'placeholders are checked in code',
  'malformed-missing-comma.json': 'not JSON',
  'malformed-trailing-comma.json': 'not JSON',
  'empty.json': 'not JSON',
  'duplicate-key.json': 'JSON parsers keep the last key before a schema sees the object',
  'mode-bucket-owner-without-external-id.patch.json': 'required unless another field is given',
  'mode-bucket-owner-with-aspera-hosts.patch.json': 'a field depends on the mode',
  'mode-bucket-owner-with-other-account-credentials.patch.json': 'a field depends on the mode',
  'mode-bucket-owner-host-role-arn-wrong-account.patch.json': 'the ARN must contain another field',
  'mode-bucket-owner-external-id-and-other-half-state.patch.json': 'two optional fields exclude each other',
  'mode-transfer-host-with-my-account-credentials.patch.json': 'a field depends on the mode',
  'mode-transfer-host-creating-a-bucket.patch.json': 'a field depends on the mode',
  'mode-transfer-host-grant-role-arn-wrong-account.patch.json': 'the ARN must contain another field',
  'mode-both-with-other-half-state.patch.json': 'a field depends on the mode',
  'mode-both-with-host-role-arn.patch.json': 'a field depends on the mode',
  'mode-both-with-grant-role-arn.patch.json': 'a field depends on the mode',
  ...APPLY_GUARD_ONLY_THE_CLI_CATCHES,
  'host-role-path-with-arn.patch.json': 'two optional fields exclude each other',
  'grant-role-arn-outside-role-path.patch.json': 'the ARN must contain another field',
  'bucket-encryption-on-existing.patch.json': 'a field depends on another field of the same bucket',
  'bucket-kms-key-without-sse-kms.patch.json': 'a field depends on another field of the same bucket',
  'bucket-kms-key-other-region.patch.json': 'the ARN must contain another field',
  'bucket-kms-key-other-partition.patch.json': 'the ARN must contain another field',
  'grant-install-as-twice.patch.json': 'uniqueness of array items is checked in code (the message names the item)',
  'grant-access-key-in-bucket-owner-mode.patch.json': 'a field depends on the mode',
  'node-api-ca-file-on-http.patch.json': 'a field depends on another field of the same object',
  'external-id-with-script-marker.patch.json': 'a word no string may contain, anywhere in the config',
};

let validate: ValidateFunction;
let schema: Record<string, unknown>;

beforeAll(() => {
  schema = JSON.parse(readFileSync(EDITOR_SCHEMA_PATH, 'utf8'));
  // Strict: unknown keywords and malformed rules are errors, except the keyword VS Code reads and
  // "required" in the hostRole alternatives (which lists properties declared one level up).
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, verbose: true });
  ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
  validate = ajv.compile(schema);
});

/** ajv's "/grants/0/bucket" as the CLI writes it: "grants[0].bucket". */
const cliPath = (pointer: string): string =>
  pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out === '' ? part : `${out}.${part}`), '');

test('the committed aspera.config.schema.json is what `npm run schema` generates (run it after changing src/config/schema.ts)', () => {
  expect(readFileSync(EDITOR_SCHEMA_PATH, 'utf8')).toBe(editorSchemaText());
});

test('the example config points editors at the schema', () => {
  const example = JSON.parse(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8'));
  expect(example.$schema).toBe('./aspera.config.schema.json');
  expect(join(REPO_ROOT, example.$schema)).toBe(EDITOR_SCHEMA_PATH);
});

test('the schema describes the file as written: draft-07, closed objects, optional defaults', () => {
  expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
  expect(schema.additionalProperties).toBe(false);
  expect(schema.required).toEqual(['myAccount', 'otherAccount', 'hostRole', 'buckets', 'grants']);
  // "externalId" is required except in the two halves' modes, where it may come from elsewhere.
  expect(schema.if).toEqual({ properties: { mode: { enum: ['bucket-owner', 'transfer-host'] } }, required: ['mode'] });
  expect(schema.else).toEqual({ required: ['externalId'] });
  const text = JSON.stringify(schema);
  // Every object in the schema is closed, so editors flag typos like the CLI does.
  const objects = text.match(/"type":"object"/g)?.length ?? 0;
  expect(text.match(/"additionalProperties":false/g)?.length).toBe(objects);
  // Every pattern carries the CLI's message for it.
  expect(text.match(/"patternErrorMessage":/g)?.length).toBe(text.match(/"pattern":/g)?.length);
});

test('configs the CLI accepts, editors accept', () => {
  const validDir = join(__dirname, 'fixtures', 'configs', 'valid');
  const files = [EXAMPLE_CONFIG_PATH, ...readdirSync(validDir).filter((f) => f.endsWith('.json')).map((f) => join(validDir, f))];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    expect(parseConfig(text, file)).toMatchObject({ ok: true });
    const ok = validate(JSON.parse(text));
    if (!ok) throw new Error(`${file}: ${JSON.stringify(validate.errors)}`);
  }
});

describe('configs the CLI refuses', () => {
  const names = invalidFixtureNames();

  test('the list of what only the CLI catches names existing fixtures', () => {
    for (const name of Object.keys(ONLY_THE_CLI_CATCHES)) expect(names).toContain(name);
  });

  test.each(names.filter((name) => !(name in ONLY_THE_CLI_CATCHES)))('editors flag %s at the field the CLI names, with its message', (name) => {
    const cli = parseConfig(invalidFixtureText(name), name);
    if (cli.ok) throw new Error(`${name} was accepted by the CLI`);
    expect(validate(JSON.parse(invalidFixtureText(name)))).toBe(false);
    const errors = validate.errors as ErrorObject[];
    const cliPaths = cli.problems.map((line) => line.slice(0, line.indexOf(': ')));
    // Some editor error is at (or, for unknown and missing fields, inside) a field the CLI names.
    const located = errors.filter((e) => {
      const field = e.keyword === 'additionalProperties' ? `${cliPath(e.instancePath)}${e.instancePath ? '.' : ''}${e.params.additionalProperty}` : e.keyword === 'required' ? `${cliPath(e.instancePath)}${e.instancePath ? '.' : ''}${e.params.missingProperty}` : cliPath(e.instancePath);
      return cliPaths.includes(field === '' ? '(config)' : field);
    });
    expect(located.length).toBeGreaterThan(0);
    // Where the editor complains about a pattern, it says what the CLI says.
    for (const e of errors.filter((x) => x.keyword === 'pattern')) {
      const message = (e.parentSchema as { patternErrorMessage?: string }).patternErrorMessage;
      expect(cli.problems).toContain(`${cliPath(e.instancePath)}: ${message}`);
    }
  });

  test.each(Object.keys(ONLY_THE_CLI_CATCHES).filter((n) => n.endsWith('.patch.json')))('%s passes the editor schema (so the list above stays honest)', (name) => {
    expect(validate(JSON.parse(invalidFixtureText(name)))).toBe(true);
  });
});
