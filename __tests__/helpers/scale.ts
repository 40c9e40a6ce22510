/**
 * The scale the config allows, as the host-script tests and `npm run bench` exercise it: 5,000
 * grants (the schema's maximum) over ten existing buckets, each under a prefix of its own, with
 * role-path roles (the long ARNs that a large stack uses), on a file of 5,000 users.
 */
import type { ConfigInput } from '../../src/config/schema';

export const SCALE_USERS = 5000;

/** Config fields for `n` grants: partner<i>, read-write for even i, read-only for odd. */
export function scaleGrants(n: number): Partial<ConfigInput> {
  const buckets = Array.from({ length: 10 }, (_, i) => ({ name: `acme-partner-bucket-${i}`, create: false }));
  return {
    buckets,
    hostPolicy: 'role-path',
    grants: Array.from({ length: n }, (_, i) => ({
      transferUser: `partner${i}`,
      bucket: buckets[i % 10].name,
      prefix: `partners/p${String(i).padStart(5, '0')}/incoming`,
      access: i % 2 === 0 ? 'read-write' : 'read-only',
    })),
  } as Partial<ConfigInput>;
}

/**
 * An aspera.conf in IBM's realm layout ("Set up Users and Groups": authorization, a local docroot
 * with flags per user) holding partner0 .. partner<n-1>: a server with one transfer user per
 * partner, before the stack moves them to S3.
 */
export function realmFileOfUsers(n: number): string {
  const stanza = (i: number) =>
    `                <user>\n                    <name>partner${i}</name>\n                    <authorization><transfer><in><value>allow</value></in><out><value>allow</value></out></transfer></authorization>\n                    <file_system><access><paths><path><absolute>/data/partner${i}</absolute><read_allowed>true</read_allowed></path></paths></access></file_system>\n                </user>\n`;
  const users = Array.from({ length: n }, (_, i) => stanza(i)).join('');
  return `<?xml version='1.0' encoding='UTF-8'?>\n<CONF version="2">\n    <server><server_name>aspera.example.com</server_name></server>\n    <aaa>\n        <realms>\n            <realm>\n            <users>\n${users}            </users>\n            </realm>\n        </realms>\n    </aaa>\n</CONF>\n`;
}
