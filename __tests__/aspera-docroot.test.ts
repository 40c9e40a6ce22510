/**
 * Docroot rendering: the default form in docs/aspera-hosts.md, the endpoint option, the template override, the
 * URL encoding of each variable part, XML escaping, and the permission flags per access level.
 * Expected strings are written out by hand; a WHATWG URL parser checks they decode back.
 */
import { docrootPermissions, grantDocroot, grantDocrootXml, percentEncode, renderDocrootTemplate, xmlEscape } from '../src/aspera/docroot';
import { testConfig } from './helpers/aspera-host';

const grant = (config: ReturnType<typeof testConfig>, user: string) => {
  const g = config.grants.find((x) => x.transferUser === user);
  if (g === undefined) throw new Error(`no grant for ${user}`);
  return g;
};

test('the default form: URL-encoded role ARN @ s3.amazonaws.com / bucket ; External ID', () => {
  const config = testConfig();
  expect(grantDocroot(config, grant(config, 'xfer2'))).toBe(
    's3://arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Faspera-cross-account-xfer2@s3.amazonaws.com/acme-aspera-inbox;iam-role.external-id=aspera-7f3c9e21',
  );
});

test('a prefix follows the bucket, one "/" per segment, trailing "/" dropped', () => {
  const config = testConfig({ grants: [{ transferUser: 'xfer2', bucket: 'partner.reports.example', prefix: 'outgoing/2024.q1/', access: 'read-only' }] });
  expect(grantDocroot(config, grant(config, 'xfer2'))).toBe(
    's3://arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Faspera-cross-account-xfer2@s3.amazonaws.com/partner.reports.example/outgoing/2024.q1;iam-role.external-id=aspera-7f3c9e21',
  );
});

test('s3Endpoint selects a regional endpoint', () => {
  const config = testConfig({ s3Endpoint: 's3.eu-west-1.amazonaws.com' });
  expect(grantDocroot(config, grant(config, 'xfer2'))).toBe(
    's3://arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Faspera-cross-account-xfer2@s3.eu-west-1.amazonaws.com/acme-aspera-inbox;iam-role.external-id=aspera-7f3c9e21',
  );
});

test('every character STS and IAM allow is percent-encoded where it would be URL syntax', () => {
  const config = testConfig({
    externalId: 'Ext+ID=1,2.3@host:path/x-y_z',
    grants: [{ transferUser: 'xfer2', bucket: 'acme-aspera-inbox', prefix: 'in.coming/a-b_c', access: 'read-write', roleName: 'Aspera+Role=1,x.y@z-w_v' }],
  });
  const docroot = grantDocroot(config, grant(config, 'xfer2'));
  expect(docroot).toBe(
    's3://arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2FAspera%2BRole%3D1%2Cx.y%40z-w_v@s3.amazonaws.com/acme-aspera-inbox/in.coming/a-b_c;iam-role.external-id=Ext%2BID%3D1%2C2.3%40host%3Apath%2Fx-y_z',
  );
  // Read back by a real URL parser: the user-info is the role ARN, the host the endpoint.
  const url = new URL(docroot);
  expect(url.protocol).toBe('s3:');
  expect(decodeURIComponent(url.username)).toBe('arn:aws:iam::111111111111:role/Aspera+Role=1,x.y@z-w_v');
  expect(url.hostname).toBe('s3.amazonaws.com');
  expect(url.pathname).toBe('/acme-aspera-inbox/in.coming/a-b_c;iam-role.external-id=Ext%2BID%3D1%2C2.3%40host%3Apath%2Fx-y_z');
  expect(decodeURIComponent(url.pathname.split('=')[1])).toBe('Ext+ID=1,2.3@host:path/x-y_z');
});

test('the ARN follows the partition of My Account (China)', () => {
  const config = testConfig({
    myAccount: { accountId: '111111111111', region: 'cn-north-1', profile: 'my-account' },
    otherAccount: { accountId: '222222222222', region: 'cn-northwest-1', profile: 'other-account' },
    s3Endpoint: 's3.cn-north-1.amazonaws.com.cn',
  });
  expect(grantDocroot(config, grant(config, 'xfer2'))).toBe(
    's3://arn%3Aaws-cn%3Aiam%3A%3A111111111111%3Arole%2Faspera-cross-account-xfer2@s3.cn-north-1.amazonaws.com.cn/acme-aspera-inbox;iam-role.external-id=aspera-7f3c9e21',
  );
});

test('docrootTemplate overrides the form; every placeholder expands to its encoded value', () => {
  const config = testConfig({
    externalId: 'a+b',
    s3Endpoint: 's3.us-west-2.amazonaws.com',
    docrootTemplate: 's3://{endpoint}/{bucket}{prefix}?role={roleArn};ext={externalId}',
    grants: [{ transferUser: 'xfer3', bucket: 'partner.reports.example', prefix: 'outgoing', access: 'read-only' }],
  });
  expect(grantDocroot(config, grant(config, 'xfer3'))).toBe(
    's3://s3.us-west-2.amazonaws.com/partner.reports.example/outgoing?role=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Faspera-cross-account-xfer3;ext=a%2Bb',
  );
});

// IBM's "URL encoding" page (HSTS 4.4 admin guide; Aspera On Demand 3.7.4 admin guide) says the
// bucket and path are encoded "while preserving the separators (: and /)", and also that "the
// forward slash between the bucket name and path is also encoded" (its example ends
// "%2Fmovies"). Both spellings are templates; the expected strings are written out by hand.
const ENCODED_SLASHES_TEMPLATE = 's3://{roleArn}@{endpoint}/{bucket}{prefixSlashesEncoded};iam-role.external-id={externalId}';

test('{prefixSlashesEncoded}: every "/" of the prefix encoded, the one after the bucket included', () => {
  const config = testConfig({ docrootTemplate: ENCODED_SLASHES_TEMPLATE });
  expect(grantDocroot(config, grant(config, 'xfer3'))).toBe(
    's3://arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Faspera-cross-account-xfer3@s3.amazonaws.com/partner.reports.example%2Foutgoing%2F2024.q1;iam-role.external-id=aspera-7f3c9e21',
  );
  // The whole bucket: nothing after the bucket name, no lone "%2F".
  expect(grantDocroot(config, grant(config, 'xfer2'))).toBe(
    's3://arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Faspera-cross-account-xfer2@s3.amazonaws.com/acme-aspera-inbox;iam-role.external-id=aspera-7f3c9e21',
  );
  // A URL parser sees one path segment, which decodes to bucket/prefix.
  const url = new URL(grantDocroot(config, grant(config, 'xfer3')));
  expect(url.pathname.split('/')).toEqual(['', 'partner.reports.example%2Foutgoing%2F2024.q1;iam-role.external-id=aspera-7f3c9e21']);
  expect(decodeURIComponent(url.pathname.split(';')[0])).toBe('/partner.reports.example/outgoing/2024.q1');
});

test('{prefix} and {prefixSlashesEncoded} differ only in the "/"; a trailing "/" is dropped by both', () => {
  const grants = [{ transferUser: 'xfer3', bucket: 'partner.reports.example', prefix: 'in.coming/a-b_c/Q1/', access: 'read-only' as const }];
  const kept = testConfig({ grants });
  const encoded = testConfig({ grants, docrootTemplate: ENCODED_SLASHES_TEMPLATE });
  expect(grantDocroot(kept, grant(kept, 'xfer3'))).toBe(
    's3://arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Faspera-cross-account-xfer3@s3.amazonaws.com/partner.reports.example/in.coming/a-b_c/Q1;iam-role.external-id=aspera-7f3c9e21',
  );
  expect(grantDocroot(encoded, grant(encoded, 'xfer3'))).toBe(
    's3://arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Faspera-cross-account-xfer3@s3.amazonaws.com/partner.reports.example%2Fin.coming%2Fa-b_c%2FQ1;iam-role.external-id=aspera-7f3c9e21',
  );
});

test('a template is expanded in one pass: a value is never read as a placeholder', () => {
  const values = { roleArn: '{bucket}', bucket: 'b', prefix: '{prefixSlashesEncoded}', prefixSlashesEncoded: '{prefix}', externalId: '{roleArn}', endpoint: 'e' };
  expect(renderDocrootTemplate('{roleArn}@{endpoint}/{bucket};x={externalId}', values)).toBe('{bucket}@e/b;x={roleArn}');
  expect(renderDocrootTemplate('{bucket}{prefix}|{bucket}{prefixSlashesEncoded}', values)).toBe('b{prefixSlashesEncoded}|b{prefix}');
});

test('percentEncode leaves only RFC 3986 unreserved characters', () => {
  expect(percentEncode("a-._~!'()*+=,@:/ ;&?#$")).toBe('a-._~%21%27%28%29%2A%2B%3D%2C%40%3A%2F%20%3B%26%3F%23%24');
});

test('XML escaping for aspera.conf', () => {
  expect(xmlEscape(`a&b<c>d"e'f`)).toBe('a&amp;b&lt;c&gt;d&quot;e&apos;f');
  // The schema keeps "&" out of templates; the escaping must hold even for one that has it.
  const config = { ...testConfig(), docrootTemplate: 's3://{bucket}?a=1&b=<2>' };
  expect(grantDocrootXml(config, grant(config, 'xfer2'))).toBe('s3://acme-aspera-inbox?a=1&amp;b=&lt;2&gt;');
});

test.each([
  ['read-write', { readAllowed: true, writeAllowed: true, dirAllowed: true }],
  ['read-only', { readAllowed: true, writeAllowed: false, dirAllowed: true }],
] as const)('%s grants: read_allowed / write_allowed / dir_allowed', (access, flags) => {
  const config = testConfig({ grants: [{ transferUser: 'xfer2', bucket: 'acme-aspera-inbox', prefix: '', access }] });
  expect(docrootPermissions(grant(config, 'xfer2'))).toEqual(flags);
});
