/** Configs and helpers for the review report tests (not a test file: jest only runs *.test.ts). */
import { validateConfig } from '../../src/config-file';
import type { Config, ConfigInput } from '../../src/config/schema';
import { baseConfigInput, twoOrganizationsConfigInput } from './synth';

/** The shape of the committed example: one grant on a whole created bucket, one host (the shared base config, __tests__/fixtures/configs/valid/minimal.json). */
export const ONE_GRANT: ConfigInput = baseConfigInput();

/** Three grants over a created and an existing bucket, prefixes, both access levels, an existing host role, two hosts, S3 state. */
export const SEVERAL_GRANTS: ConfigInput = {
  stackName: 'acme-aspera',
  externalId: 'ext-5551',
  myAccount: { accountId: '333333333333', region: 'eu-west-1', profile: 'owner' },
  otherAccount: { accountId: '444444444444', region: 'eu-west-1', profile: 'operator' },
  hostRole: { existingRoleName: 'aspera-ec2' },
  buckets: [
    { name: 'acme-inbox', create: true },
    { name: 'acme.archive', create: false },
  ],
  grants: [
    { transferUser: 'xfer1', bucket: 'acme-inbox', prefix: 'partners/alpha', access: 'read-write' },
    { transferUser: 'xfer2', bucket: 'acme-inbox', prefix: '', access: 'read-only' },
    { transferUser: 'xfer3', bucket: 'acme.archive', prefix: 'reports/', access: 'read-only', roleName: 'archive-reader' },
  ],
  asperaHosts: [
    { host: '198.51.100.7', user: 'ec2-user' },
    { host: 'aspera.example.com', port: 2222, user: 'admin', asperaConfPath: '/etc/aspera/aspera.conf' },
  ],
  state: { backend: 's3', bucket: 'acme-tfstate', key: 'aspera/state.tfstate', region: 'eu-west-1', profile: 'owner' },
};

/** A validated config from `input`, after `edit` changed a deep copy of it. */
export function configOf(input: ConfigInput, edit: (draft: ConfigInput) => void = () => undefined): Config {
  const draft = structuredClone(input);
  edit(draft);
  const result = validateConfig(draft);
  if (!result.ok) throw new Error(`fixture config is invalid:\n${result.problems.join('\n')}`);
  return result.config;
}

/** A walkthrough config of the two-organization README section (fixtures/configs/two-organizations/), as written. */
export const twoOrganizations = (
  name: 'bucket-owner.json' | 'bucket-owner-remote-state.json' | 'transfer-host.json' | 'transfer-host-generated-external-id.json',
): ConfigInput => twoOrganizationsConfigInput(name);

/** `input` with its first grant only. */
export const firstGrantOnly = (input: ConfigInput): ConfigInput => ({ ...input, grants: input.grants.slice(0, 1) });

/** The "### `user`: ..." section of one grant in a report, up to the next heading. */
export function grantSectionOf(report: string, user: string): string {
  const start = report.indexOf(`### \`${user}\`:`);
  if (start < 0) throw new Error(`no section for ${user}`);
  const next = report.indexOf('\n#', start + 1);
  return report.slice(start, next < 0 ? undefined : next);
}

/** The value of the row `field` in a Markdown table of `section` (the first such row). */
export function rowOf(section: string, field: string): string {
  const line = section.split('\n').find((l) => l.startsWith(`| ${field} | `));
  if (line === undefined) throw new Error(`no row "${field}" in:\n${section}`);
  return line.slice(`| ${field} | `.length, -' |'.length);
}

/** The "What `npx cdktf destroy` does" section, split at its sub-lists. */
export function destroySectionOf(report: string): { removes: string; keeps: string; otherParty: string } {
  const destroy = report.slice(report.indexOf('## What `npx cdktf destroy` does'));
  const afterRemoves = destroy.split('\nRemoves:\n')[1] ?? '';
  const [removes, rest = ''] = afterRemoves.split('\nKeeps:\n');
  const [keeps, otherParty = ''] = rest.split('\nThe other party:\n');
  return { removes, keeps, otherParty };
}
