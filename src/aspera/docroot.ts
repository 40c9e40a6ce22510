/**
 * The S3 docroot each transfer user gets on the Aspera host. Pure: config in, strings out.
 *
 * Default form (Aspera On Demand "third party account using an External ID"):
 *   s3://{url-encoded role ARN}@{endpoint}/{bucket}{/prefix};iam-role.external-id={External ID}
 * Operators whose Aspera version wants another form set "docrootTemplate" in the config.
 */
import type { Config, Grant } from '../config/schema';
import { grantRoleArn, normalizePrefix } from '../iam/arns';

export const DEFAULT_DOCROOT_TEMPLATE = 's3://{roleArn}@{endpoint}/{bucket}{prefix};iam-role.external-id={externalId}';

/** The values a template placeholder expands to, each already encoded for its place in the URL. */
export function docrootValues(config: Config, grant: Grant): Record<'roleArn' | 'bucket' | 'prefix' | 'externalId' | 'endpoint', string> {
  const prefix = normalizePrefix(grant.prefix);
  return {
    // The ARN sits in the user-info part of the URL: ":" and "/" must be percent-encoded.
    roleArn: encodeURIComponent(grantRoleArn(config, grant)),
    bucket: grant.bucket,
    // "" for the whole bucket, else "/seg/seg" with each segment encoded.
    prefix: prefix === '' ? '' : `/${prefix.split('/').map(encodeURIComponent).join('/')}`,
    // STS External IDs cannot contain ";", "&", "?", "#" or spaces, so the raw value cannot end
    // the parameter early; Aspera compares it verbatim.
    externalId: config.externalId,
    endpoint: config.s3Endpoint,
  };
}

export function grantDocroot(config: Config, grant: Grant): string {
  const values = docrootValues(config, grant);
  const template = config.docrootTemplate ?? DEFAULT_DOCROOT_TEMPLATE;
  return template.replace(/\{(roleArn|bucket|prefix|externalId|endpoint)\}/g, (_, name: keyof typeof values) => values[name]);
}

/** Escapes a value for XML character data in aspera.conf ("&" becomes "&amp;"). */
export const xmlEscape = (value: string): string =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** aspera.conf permission flags for a grant's access level. */
export function docrootPermissions(grant: Grant): { readAllowed: boolean; writeAllowed: boolean; dirAllowed: boolean } {
  const write = grant.access === 'read-write';
  return { readAllowed: true, writeAllowed: write, dirAllowed: true };
}
