/**
 * The review report for grants installed as Node API access keys: per host, which transfer users
 * get docroots and which get access keys (and where the Node API is); per grant, what the key is
 * and what it allows; what destroy deletes; and the access diff when a grant gains or loses a key.
 * Never a secret: the report names where the secret is read, not its value.
 */
import type { ConfigInput } from '../src/config/schema';
import { diffAccess } from '../src/report/diff';
import { reviewReport } from '../src/report/markdown';
import { accessModel } from '../src/report/model';
import { code } from '../src/report/text';
import { configOf, destroySectionOf, grantSectionOf, rowOf } from './helpers/report-fixtures';
import { fixtureConfigInput } from './helpers/synth';

const input: ConfigInput = fixtureConfigInput('access-keys.json');
const report = reviewReport({ config: configOf(input), source: 'access-keys.json' });
const accounts = report.slice(report.indexOf('## Accounts and principals'));

test('per host: the docroot users, the access-key users, and the Node API each is created through', () => {
  const hosts = rowOf(accounts, 'Aspera hosts').split('<br>');
  expect(hosts).toEqual([
    `${code('hsts1.operator.example:22')} as ${code('ec2-user')}, ${code('/opt/aspera/etc/aspera.conf')}, over SSH: docroots in aspera.conf for ${code('ascp_in')}, ${code('archive_ro')}; ` +
      `Node API access keys for ${code('faspex_pkgs')}, ${code('archive_ro')} (created through ${code('https://127.0.0.1:9092')}, certificate not verified (loopback: the traffic stays on the host))`,
    `${code('hsts2.operator.example:22')} as ${code('ec2-user')}, ${code('/opt/aspera/etc/aspera.conf')}, over SSH: docroots in aspera.conf for ${code('ascp_in')}, ${code('archive_ro')}; ` +
      `Node API access keys for ${code('faspex_pkgs')}, ${code('archive_ro')} (created through ${code('https://hsts2.operator.example:9092')}, certificate verified with /etc/pki/tls/certs/operator-ca.pem)`,
  ]);
  expect(rowOf(accounts, 'Aspera fleets')).toContain(`installs docroots in aspera.conf for ${code('ascp_in')}, ${code('archive_ro')}; Node API access keys for ${code('faspex_pkgs')}, ${code('archive_ro')}`);
});

test('a grant installed as an access key only: no docroot row, the key with its storage and assume-role credentials', () => {
  const section = grantSectionOf(report, 'faspex_pkgs');
  expect(rowOf(section, 'Installed as')).toBe('a Node API access key (for Faspex 5, Aspera on Cloud, Shares)');
  expect(section).not.toContain('Docroot (goes into aspera.conf)');
  expect(section).not.toContain('aspera.conf permissions');
  expect(rowOf(section, 'Node API access key')).toBe(
    `id ${code('faspex-media-121212121212-faspex_pkgs')}: storage ${code('aws_s3')} ${code('studio-deliveries')} path ${code('/faspex/packages')}, ` +
      `credentials ${code('assume-role')} of ${code('arn:aws:iam::121212121212:role/faspex-media-faspex_pkgs')} with the External ID, session name ${code('faspex-media.faspex_pkgs')}. ` +
      'An access key carries no read/write flag: what the role allows is what the key allows.',
  );
  expect(rowOf(section, 'Access key secret')).toContain(code('terraform output -json access_key_secrets'));
});

test('a read-only grant with both: the docroot with its flags, and the key, which says uploads fail at S3', () => {
  const section = grantSectionOf(report, 'archive_ro');
  expect(rowOf(section, 'Installed as')).toBe('a docroot in aspera.conf (for ascp transfer users) and a Node API access key (for Faspex 5, Aspera on Cloud, Shares)');
  expect(rowOf(section, 'aspera.conf permissions')).toBe('read_allowed=true, write_allowed=false, dir_allowed=true');
  expect(rowOf(section, 'Node API access key')).toContain('the role allows no upload or delete, so those fail at S3');
});

test('a docroot grant says so, and has no access key rows', () => {
  const section = grantSectionOf(report, 'ascp_in');
  expect(rowOf(section, 'Installed as')).toBe('a docroot in aspera.conf (for ascp transfer users)');
  expect(section).not.toContain('Node API access key |');
});

test('destroy deletes the access keys on each host, by id, with the docroots of the docroot users only', () => {
  expect(destroySectionOf(report).removes).toContain(
    `the docroots this stack installed, for ${code('ascp_in')}, ${code('archive_ro')}, removed from aspera.conf, and the Node API access keys it created, ` +
      `${code('faspex-media-121212121212-faspex_pkgs')}, ${code('faspex-media-121212121212-archive_ro')}, deleted over SSH`,
  );
});

describe('the access diff', () => {
  const withInstallAs = (user: string, installAs: ('docroot' | 'access-key')[]): ConfigInput => ({
    ...input,
    grants: input.grants.map((g) => (g.transferUser === user ? { ...g, installAs } : g)),
  });
  const summaries = (from: ConfigInput, to: ConfigInput) => diffAccess(accessModel(configOf(from)), accessModel(configOf(to))).map((c) => [c.kind, c.summary]);

  test('a grant that gains an access key widens access: the key is named, for reviewers to look at', () => {
    expect(summaries(input, withInstallAs('ascp_in', ['docroot', 'access-key']))).toEqual([
      ['widened', `**ascp_in**: a Node API access key ${code('faspex-media-121212121212-ascp_in')} is created on the hosts, with the same S3 access (Faspex 5, Aspera on Cloud and Shares reach it through the key)`],
    ]);
  });

  test('a grant that moves from access key to docroot: one narrowed, one widened', () => {
    expect(summaries(input, withInstallAs('faspex_pkgs', ['docroot']))).toEqual([
      ['narrowed', `**faspex_pkgs**: the Node API access key ${code('faspex-media-121212121212-faspex_pkgs')} is deleted from the hosts`],
      ['widened', `**faspex_pkgs**: the docroot is installed in aspera.conf (ascp transfers as this user)`],
    ]);
  });

  test('a host added: a key-only grant says its access key is installed there, not a docroot', () => {
    const added = { ...input, asperaHosts: [...(input.asperaHosts ?? []), { host: 'hsts3.operator.example', user: 'ec2-user' }] };
    const lines = summaries(input, added).map(([, summary]) => summary);
    expect(lines).toContain(`**faspex_pkgs**: the access key is also installed on ${code('hsts3.operator.example:22')}`);
    expect(lines).toContain(`**archive_ro**: the docroot and the access key are also installed on ${code('hsts3.operator.example:22')}`);
    expect(lines).toContain(`**ascp_in**: the docroot is also installed on ${code('hsts3.operator.example:22')}`);
  });

  test('a host whose Node API moves from a verified URL to loopback: said, with how the certificate is checked', () => {
    const moved = { ...input, asperaHosts: input.asperaHosts!.map((h) => (h.host === 'hsts2.operator.example' ? { host: h.host, user: h.user } : h)) };
    expect(summaries(input, moved)).toEqual([
      [
        'changed',
        `Host ${code('hsts2.operator.example:22')}: the access keys are managed through ${code('https://127.0.0.1:9092')} (certificate not verified (loopback: the traffic stays on the host)), ` +
          `before ${code('https://hsts2.operator.example:9092')} (certificate verified with /etc/pki/tls/certs/operator-ca.pem)`,
      ],
    ]);
  });

  test('no change, no line', () => {
    expect(summaries(input, input)).toEqual([]);
  });
});
