/**
 * The pure pieces of the exchange between the halves: writing config values into Terraform
 * expressions without ever letting one become Terraform code, and the shape of what is published.
 */
import { hclLiteral, hclString, templateText } from '../src/exchange/hcl';
import { outputDefaults, TRANSFER_HOST_OUTPUTS } from '../src/exchange/contract';

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
