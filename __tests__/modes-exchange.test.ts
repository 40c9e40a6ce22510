/**
 * The pure pieces of the exchange between the halves: writing config values into Terraform
 * expressions without ever letting one become Terraform code, the shape of what is published, and
 * the External ID checks of a rotation (as written here; __tests__/host/terraform-exchange-checks.test.ts
 * evaluates them with real Terraform).
 */
import { createHash } from 'node:crypto';
import { hclLiteral, hclString, templateText } from '../src/exchange/hcl';
import { BUCKET_OWNER_OUTPUTS, bucketOwnerHalfChecks, outputDefaults, TRANSFER_HOST_OUTPUTS, transferHostHalfChecks } from '../src/exchange/contract';
import type { PresentedBy } from '../src/modes/external-id';
import { fixtureConfigInput, HALF_STATES, halvesOf, validConfig } from './helpers/synth';

describe('config values in Terraform expressions', () => {
  test('strings become quoted literals with JSON escapes, which HCL reads the same way', () => {
    expect(hclString('arn:aws:iam::111111111111:role/a')).toBe('"arn:aws:iam::111111111111:role/a"');
    expect(hclString('a"b\\c')).toBe('"a\\"b\\\\c"');
  });

  test.each(['${file("/etc/passwd")}', 'x%{if true}y%{endif}', 'a${b'])('refuses template syntax: %s', (value) => {
    expect(() => hclString(value)).toThrow(/Terraform template syntax/);
    expect(() => templateText(value)).toThrow(/Terraform template syntax/);
    expect(() => hclLiteral({ [value]: 'x' })).toThrow(/Terraform template syntax/);
    expect(() => hclLiteral({ k: { inner: value } })).toThrow(/Terraform template syntax/);
  });

  test('a lone "$" or "%" is plain text', () => {
    expect(hclString('50% $5')).toBe('"50% $5"');
    expect(templateText('50% $5')).toBe('50% $5');
  });

  test('objects become HCL object literals with quoted keys, nested', () => {
    expect(hclLiteral({ xfer2: { access: 'read-write', prefix: '' } })).toBe('{ "xfer2" = { "access" = "read-write", "prefix" = "" } }');
    expect(() => hclLiteral({ n: 1 } as unknown as Record<string, string>)).toThrow(/string or an object/);
  });
});

test('every output the bucket owner reads from the operator defaults to null, so a missing one reaches the check', () => {
  expect(outputDefaults(TRANSFER_HOST_OUTPUTS)).toEqual({
    transfer_host_account_id: null,
    transfer_host_role_arn: null,
    external_id: null,
    instance_profile_name: null,
    docroots: null,
    grant_role_path: null,
  });
});

describe('the External ID between the halves during a rotation (src/exchange/contract.ts)', () => {
  const config = validConfig(halvesOf(fixtureConfigInput('minimal.json')).transferHost);
  const sha = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
  const externalIdCheck = (by: PresentedBy, expression = `"${sha('rotated-5e0c1d2b')}"`) => {
    const found = bucketOwnerHalfChecks(config, HALF_STATES.bucketOwner, { sha256Expression: expression, by }).filter((c) => c.condition.includes('external_id_sha256'));
    expect(found).toHaveLength(1);
    return found[0];
  };

  test('the bucket owner publishes every External ID its trust accepts under a new name; the old one stays for operators on older versions', () => {
    expect(BUCKET_OWNER_OUTPUTS.externalIdSha256s).toBe('external_id_sha256s');
    expect(BUCKET_OWNER_OUTPUTS.externalIdSha256).toBe('external_id_sha256');
    // Not published by an older bucket owner: the operator reads null, not "Unsupported attribute".
    expect(outputDefaults(BUCKET_OWNER_OUTPUTS)).toMatchObject({ external_id_sha256s: null, external_id_sha256: null });
  });

  test('the operator passes when the SHA-256 of the ID its hosts present is in that list, or equals the one hash of a bucket owner that publishes no list', () => {
    expect(externalIdCheck('nextExternalId').condition).toBe(
      `\${contains(self.outputs.external_id_sha256s != null ? self.outputs.external_id_sha256s : [self.outputs.external_id_sha256], "${sha('rotated-5e0c1d2b')}")}`,
    );
    // A generated one is hashed by Terraform.
    expect(externalIdCheck('generated', 'sha256(random_id.external_id.hex)').condition).toMatch(/, sha256\(random_id\.external_id\.hex\)\)\}$/);
  });

  test.each([
    ['nextExternalId', 'would present, "nextExternalId"', 'they add it as "nextExternalId" and apply first'],
    ['externalId', 'present, "externalId"', 'terraform output -raw external_id'],
    ['generated', 'present, the one generated at first apply (random_id.external_id)', 'terraform output -raw external_id'],
  ] as const)('the message says which External ID the hosts use (%s) and what to do, never its value', (by, which, todo) => {
    const { errorMessage } = externalIdCheck(by);
    expect(errorMessage).toContain(`does not accept the External ID this half's hosts ${which}`);
    expect(errorMessage).toContain(todo);
    expect(errorMessage).not.toContain(config.externalId as string);
    expect(errorMessage).not.toContain('rotated-5e0c1d2b');
  });

  test('a bucket owner reading the current one from the operator\'s state checks, during its rotation, that the operator has not switched yet', () => {
    const bucketOwner = validConfig(halvesOf({ ...fixtureConfigInput('minimal.json'), nextExternalId: 'rotated-5e0c1d2b' }, { otherHalfState: true }).bucketOwner);
    const checks = transferHostHalfChecks(bucketOwner, HALF_STATES.transferHost);
    expect(checks.map((c) => c.condition)).toContain(`\${try(sha256(self.outputs.external_id) != "${sha('rotated-5e0c1d2b')}", true)}`);
    expect(JSON.stringify(checks)).not.toContain('rotated-5e0c1d2b');
    // Without a rotation, no such check.
    const notRotating = validConfig(halvesOf(fixtureConfigInput('minimal.json'), { otherHalfState: true }).bucketOwner);
    expect(transferHostHalfChecks(notRotating, HALF_STATES.transferHost)).toHaveLength(checks.length - 1);
  });
});
