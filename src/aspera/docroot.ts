/**
 * The S3 docroot each transfer user gets on the Aspera host. Pure: config in, strings out.
 *
 * Default form (Aspera On Demand "third party account using an External ID"):
 *   s3://{url-encoded role ARN}@{endpoint}/{bucket}{/prefix};iam-role.external-id={External ID}
 * Operators whose Aspera version wants another form set "docrootTemplate" in the config.
 *
 * Aspera's rule for object-storage docroots is that every variable component of the URI is
 * URL-encoded, so each value is percent-encoded for its place before it enters the template.
 *
 * The "/" between the bucket and the prefix: IBM's "URL encoding" page (HSTS 4.4 admin guide,
 * and the Aspera On Demand 3.7.4 admin guide) first says the bucket and path are URL-encoded
 * "while preserving the separators (: and /)", then gives the example
 * s3://abc%2Bd:ef%2Fgh@s3.amazonaws.com/unicode%E6%96%87%E4%BB%B6%E5%A4%B9%2Fmovies with the note
 * "The forward slash between the bucket name and path is also encoded". The two readings give
 * two placeholders: {prefix} keeps every "/" ("/outgoing/2024.q1", the default template) and
 * {prefixSlashesEncoded} encodes every "/", the one after the bucket included
 * ("%2Foutgoing%2F2024.q1"). Which one a server wants is to be tried on the server.
 */
import { type Config, DOCROOT_PLACEHOLDERS, externalIdValue, type Grant } from '../config/schema';
import { grantRoleArn, normalizePrefix } from '../iam/arns';

export const DEFAULT_DOCROOT_TEMPLATE = 's3://{roleArn}@{endpoint}/{bucket}{prefix};iam-role.external-id={externalId}';

export type DocrootPlaceholder = (typeof DOCROOT_PLACEHOLDERS)[number];

/**
 * RFC 3986 percent-encoding of everything but the unreserved characters (A-Z a-z 0-9 - . _ ~).
 * encodeURIComponent alone leaves ! ' ( ) * unencoded; none of those may appear in a validated
 * config, but encoding them too keeps the docroot free of shell and URL syntax whatever comes in.
 */
export const percentEncode = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);


/** The values a template placeholder expands to, each already encoded for its place in the URL. */
export function docrootValues(config: Config, grant: Grant): Record<DocrootPlaceholder, string> {
  const prefix = normalizePrefix(grant.prefix);
  return {
    // The ARN is the user-info part of the URL: its ":" "/" and any "@" "+" "=" "," of the role
    // name must be encoded, or the "@" before the endpoint would no longer end it.
    roleArn: percentEncode(grantRoleArn(config, grant)),
    // Bucket names are lowercase letters, digits, "." and "-": encoding leaves them as they are.
    bucket: percentEncode(grant.bucket),
    // "" for the whole bucket, else "/seg/seg": each segment encoded, the separators kept.
    prefix: prefix === '' ? '' : `/${prefix.split('/').map(percentEncode).join('/')}`,
    // "" for the whole bucket, else "%2Fseg%2Fseg": every "/" encoded too (see the header).
    prefixSlashesEncoded: prefix === '' ? '' : percentEncode(`/${prefix}`),
    // STS allows + = , . @ : / - in an External ID; in the docroot's parameter they are encoded
    // (e.g. "+" would otherwise read as a space, "/" and "@" as URL structure).
    externalId: percentEncode(externalIdValue(config)),
    // A validated host name (letters, digits, "." and "-"): nothing to encode.
    endpoint: config.s3Endpoint,
  };
}

const PLACEHOLDER = new RegExp(`\\{(${DOCROOT_PLACEHOLDERS.join('|')})\\}`, 'g');

/** Expands a docroot template. One pass, so a value can never be read as another placeholder. */
export function renderDocrootTemplate(template: string, values: Record<DocrootPlaceholder, string>): string {
  return template.replace(PLACEHOLDER, (_, name: DocrootPlaceholder) => values[name]);
}

/** The docroot for a grant, as Aspera reads it (before XML escaping). */
export function grantDocroot(config: Config, grant: Grant): string {
  return renderDocrootTemplate(config.docrootTemplate ?? DEFAULT_DOCROOT_TEMPLATE, docrootValues(config, grant));
}

/** Escapes a value for XML character data in aspera.conf ("&" becomes "&amp;"). */
export const xmlEscape = (value: string): string =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** The docroot exactly as it is written between <absolute> and </absolute> in aspera.conf. */
export const grantDocrootXml = (config: Config, grant: Grant): string => xmlEscape(grantDocroot(config, grant));

/**
 * aspera.conf permission flags for a grant's access level: read_allowed, write_allowed and
 * dir_allowed (browse). Read-only users still list and download; only read-write users upload.
 */
export function docrootPermissions(grant: Grant): { readAllowed: boolean; writeAllowed: boolean; dirAllowed: boolean } {
  const write = grant.access === 'read-write';
  return { readAllowed: true, writeAllowed: write, dirAllowed: true };
}
