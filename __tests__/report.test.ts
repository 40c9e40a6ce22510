/**
 * The review report: every grant, account, action and docroot a reviewer must see is in it, in
 * the right grant's section, and the trust chain diagram is a flowchart the real mermaid parser
 * accepts with the nodes and edges the config implies.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { grantDocroot } from '../src/aspera/docroot';
import type { Config } from '../src/config/schema';
import { grantRoleArn, hostRoleArn } from '../src/iam/arns';
import { grantS3Actions } from '../src/iam/s3-access';
import { reviewReport } from '../src/report/markdown';
import { mermaidLabel, mermaidText, trustChainDiagram } from '../src/report/mermaid';
import { diffAccess } from '../src/report/diff';
import { accessModel, type AccessModel } from '../src/report/model';
import { code } from '../src/report/text';
import { configOf, firstGrantOnly, ONE_GRANT, SEVERAL_GRANTS, twoOrganizations } from './helpers/report-fixtures';
import { fixtureConfigInput, validConfig } from './helpers/synth';

interface ParsedDiagram {
  ok: boolean;
  error?: string;
  diagramType?: string;
  vertices: { id: string; text: string; type: string; classes: string[] }[];
  edges: { start: string; end: string; text: string }[];
  subgraphs: { id: string; title: string; nodes: string[] }[];
}

/** One node process parses every diagram of this file (mermaid's import costs most of a second). */
function parseMermaid(sources: string[]): ParsedDiagram[] {
  const out = execFileSync(process.execPath, [join(__dirname, 'report-mermaid-check.mjs')], {
    input: JSON.stringify(sources),
    encoding: 'utf8',
    timeout: 20000,
  });
  return JSON.parse(out) as ParsedDiagram[];
}

const mermaidBlock = (report: string): string => {
  const match = /```mermaid\n([\s\S]*?)```/.exec(report);
  if (match === null) throw new Error('no mermaid block in the report');
  return match[1];
};

/** The "### `user`: ..." section of one grant, up to the next heading. */
function grantSection(report: string, user: string): string {
  const start = report.indexOf(`### ${code(user)}:`);
  if (start < 0) throw new Error(`no section for ${user}`);
  const next = report.indexOf('\n#', start + 1);
  return report.slice(start, next < 0 ? undefined : next);
}

const one = configOf(ONE_GRANT);
const several = configOf(SEVERAL_GRANTS);
// The two halves: the bucket owner's reading the External ID from the operator's state and naming
// the host role by an ARN with a path (one grant); the operator's generating it, with a host (two grants).
const bucketOwnerHalf = configOf(firstGrantOnly(twoOrganizations('bucket-owner-remote-state.json')), (d) => {
  d.hostRole = { arn: 'arn:aws:iam::222222222222:role/aspera/transfer-host' };
});
const transferHostHalf = configOf(twoOrganizations('transfer-host.json'), (d) => void delete d.externalId);

/** A model whose names would break an unescaped diagram: quotes, brackets, arrows, "#", "<", "end". */
function hostileModel(): AccessModel {
  const model = accessModel(one);
  return {
    ...model,
    otherAccount: { ...model.otherAccount, accountId: '222"] --> injected["' },
    hostRole: { ...model.hostRole, name: 'role"]\n  evil["x' },
    hosts: model.hosts.map((h) => ({ ...h, id: 'end', asperaConfPath: '/a#b;<c>&d`e' })),
    buckets: [{ name: 'end', created: true, keyCreated: false }],
    grants: model.grants.map((g) => ({ ...g, bucket: 'end', roleName: 'a|b"c', transferUser: 'end', trust: { ...g.trust, externalId: '#quot;x"y#' } })),
  };
}

let parsed: ParsedDiagram[];
const sources = {
  one: trustChainDiagram(accessModel(one)),
  several: trustChainDiagram(accessModel(several)),
  hostile: trustChainDiagram(hostileModel()),
  bucketOwnerHalf: trustChainDiagram(accessModel(bucketOwnerHalf)),
  transferHostHalf: trustChainDiagram(accessModel(transferHostHalf)),
  // Negative controls: the parser must reject what GitHub would fail to render.
  unescapedQuote: 'flowchart LR\n  a["x " y"] --> b\n',
  unclosedSubgraph: 'flowchart LR\n  subgraph s["x"]\n  a --> b\n',
};
beforeAll(() => {
  parsed = parseMermaid(Object.values(sources));
});
const result = (name: keyof typeof sources): ParsedDiagram => parsed[Object.keys(sources).indexOf(name)];

describe('trust chain diagram', () => {
  test('the mermaid parser rejects broken flowcharts (so its acceptance below means something)', () => {
    expect(result('unescapedQuote').ok).toBe(false);
    expect(result('unclosedSubgraph').ok).toBe(false);
  });

  test.each(['one', 'several'] as const)('the %s-grant diagram is a valid flowchart with the chain host -> host role -> grant role -> bucket', (name) => {
    const config = name === 'one' ? one : several;
    const diagram = result(name);
    expect(diagram.error).toBeUndefined();
    expect(diagram.diagramType).toBe('flowchart-v2');
    const label = (id: string) => diagram.vertices.find((v) => v.id === id)?.text ?? '';
    const edgesFrom = (id: string) => diagram.edges.filter((e) => e.start === id);

    // Accounts, labelled with their IDs, hold the right nodes.
    const other = diagram.subgraphs.find((s) => s.title.includes(config.otherAccount.accountId));
    const my = diagram.subgraphs.find((s) => s.title.includes(config.myAccount.accountId));
    expect(other?.title).toContain('Other Account');
    expect(my?.title).toContain('My Account');

    const hostRole = diagram.vertices.find((v) => v.text.includes(hostRoleArn(config)));
    expect(hostRole).toBeDefined();
    expect(other?.nodes).toContain(hostRole?.id);

    // Every host runs as the host role.
    for (const host of config.asperaHosts) {
      const node = diagram.vertices.find((v) => v.text.includes(`Aspera host ${host.host}:${host.port}`));
      expect(node).toBeDefined();
      expect(other?.nodes).toContain(node?.id);
      expect(edgesFrom(node!.id).map((e) => e.end)).toEqual([hostRole?.id]);
    }
    // The host role assumes each grant role with the External ID; each grant role reaches its own bucket and prefix.
    for (const grant of config.grants) {
      const node = diagram.vertices.find((v) => v.text.includes(grantRoleArn(config, grant)));
      expect(node).toBeDefined();
      expect(node?.text).toContain(`transfer user ${grant.transferUser}`);
      expect(my?.nodes).toContain(node?.id);
      const assume = diagram.edges.find((e) => e.start === hostRole?.id && e.end === node?.id);
      expect(assume?.text).toContain('sts:AssumeRole');
      expect(assume?.text).toContain(`External ID ${config.externalId}`);
      const toBucket = edgesFrom(node!.id);
      expect(toBucket).toHaveLength(1);
      expect(label(toBucket[0].end)).toContain(`Bucket ${grant.bucket}`);
      expect(my?.nodes).toContain(toBucket[0].end);
      expect(toBucket[0].text).toContain(grant.access);
      expect(toBucket[0].text).toContain(grant.prefix === '' ? 'whole bucket' : `${grant.prefix}/*`);
    }
    // Nothing else: hosts + host role + grant roles + used buckets.
    const usedBuckets = new Set(config.grants.map((g) => g.bucket));
    expect(diagram.vertices).toHaveLength(config.asperaHosts.length + 1 + config.grants.length + usedBuckets.size);
    expect(diagram.edges).toHaveLength(config.asperaHosts.length + 2 * config.grants.length);
  });

  test('labels that contain quotes, brackets, arrows, "#", "<", "&", "`" or the keyword "end" stay labels', () => {
    const diagram = result('hostile');
    expect(diagram.error).toBeUndefined();
    const model = hostileModel();
    // Exactly the expected nodes: nothing was injected by a label.
    expect(diagram.vertices).toHaveLength(4);
    expect(diagram.edges).toHaveLength(3);
    const texts = diagram.vertices.map((v) => v.text);
    // Each label reads back as the original text, character for character.
    expect(texts).toContainEqual(expect.stringContaining(`Transfer host role ${model.hostRole.name.replace('\n', ' ')}`));
    expect(texts).toContainEqual(expect.stringContaining('/a#b;<c>&d`e'));
    expect(texts).toContainEqual(expect.stringContaining('Grant role a|b"c'));
    expect(diagram.subgraphs.map((s) => s.title)).toContainEqual(expect.stringContaining('222"] --> injected["'));
    expect(diagram.edges.map((e) => e.text)).toContainEqual(expect.stringContaining('External ID #quot;x"y#'));
  });

  test.each([
    ['bucketOwnerHalf', bucketOwnerHalf],
    ['transferHostHalf', transferHostHalf],
  ] as const)('the %s diagram is a valid flowchart that draws the other party\'s nodes dashed and labelled as theirs', (name, config) => {
    const diagram = result(name);
    expect(diagram.error).toBeUndefined();
    expect(diagram.diagramType).toBe('flowchart-v2');
    const ownsRoles = config.mode === 'bucket-owner';
    const byText = (text: string) => diagram.vertices.filter((v) => v.text.includes(text));
    const otherParty = (v: { text: string; classes: string[] }) => v.classes.includes('otherParty') && v.text.includes('(managed by the other party)');
    const mine = (v: { text: string; classes: string[] }) => !v.classes.includes('otherParty') && !v.text.includes('(managed by the other party)');

    const hostRole = byText(hostRoleArn(config));
    expect(hostRole).toHaveLength(1);
    expect(ownsRoles ? otherParty(hostRole[0]) : mine(hostRole[0])).toBe(true);
    for (const grant of config.grants) {
      const role = byText(grantRoleArn(config, grant));
      expect(role).toHaveLength(1);
      expect(ownsRoles ? mine(role[0]) : otherParty(role[0])).toBe(true);
    }
    const bucket = byText(`Bucket ${config.grants[0].bucket}`);
    expect(ownsRoles ? mine(bucket[0]) : otherParty(bucket[0])).toBe(true);
    // Hosts are the operator's, and only the operator's config names them.
    expect(byText('Aspera host ')).toHaveLength(config.asperaHosts.length);
    for (const host of byText('Aspera host ')) expect(mine(host)).toBe(true);
    // The account whose half this is not says so in its title.
    const titles = diagram.subgraphs.map((s) => s.title);
    expect(titles).toContainEqual(`${ownsRoles ? 'Other' : 'My'} Account ${ownsRoles ? config.otherAccount.accountId : config.myAccount.accountId} (${ownsRoles ? 'transfer host' : 'bucket'} owner, managed by the other party)`);
    // The External ID is not known at synth time in either: the edges say where it comes from, not a value.
    const assumeEdges = diagram.edges.filter((e) => e.text.startsWith('sts:AssumeRole'));
    expect(assumeEdges).toHaveLength(config.grants.length);
    const expected = ownsRoles ? "External ID read from the operator's state at plan time" : 'External ID generated at first apply';
    for (const edge of assumeEdges) expect(edge.text).toBe(`sts:AssumeRole<br>${expected}`);
  });

  test('mermaidText leaves no character that can end a quoted label or start markup', () => {
    const escaped = mermaidText('a "b" <c> & d # e `f`\ng');
    expect(escaped).not.toMatch(/["<>&`\n]/);
    // "#" only as the start of an entity code, so "#quot;" typed by a user cannot become a quote.
    expect(escaped.match(/#/g)?.length).toBe((escaped.match(/#(35|quot|amp|lt|gt|96);/g) ?? []).length);
    expect(mermaidLabel('x', 'y')).toBe('"x<br/>y"');
  });
});

describe.each([
  ['one grant', one],
  ['several grants', several],
] as const)('report for %s', (_name, config: Config) => {
  const report = reviewReport({ config, source: 'aspera.config.json' });

  test('names both accounts, the host role, the External ID and every host', () => {
    expect(report).toContain(code(config.myAccount.accountId));
    expect(report).toContain(code(config.otherAccount.accountId));
    expect(report).toContain(code(hostRoleArn(config)));
    expect(report).toContain(code(config.externalId!));
    for (const host of config.asperaHosts) expect(report).toContain(code(`${host.host}:${host.port}`));
  });

  test('has one section per grant with its user, bucket and prefix, access, role ARN, every S3 action and the docroot', () => {
    expect(report.match(/^### /gm)).toHaveLength(config.grants.length);
    for (const grant of config.grants) {
      const section = grantSection(report, grant.transferUser);
      expect(section).toContain(`| Transfer user | ${code(grant.transferUser)} |`);
      expect(section).toContain(`| Access level | ${grant.access} |`);
      expect(section).toContain(code(`s3://${grant.bucket}/${grant.prefix === '' ? '' : `${grant.prefix}/`}`));
      expect(section).toContain(code(grantRoleArn(config, grant)));
      for (const action of grantS3Actions(grant.access)) expect(section).toContain(code(action));
      expect(section).toContain(`| Docroot (goes into aspera.conf) | ${code(grantDocroot(config, grant))} |`);
      // No other grant's docroot leaks into this section.
      for (const other of config.grants.filter((g) => g !== grant)) expect(section).not.toContain(grantDocroot(config, other));
    }
  });

  test('the diagram in the report is the trust chain of this config', () => {
    expect(mermaidBlock(report)).toBe(trustChainDiagram(accessModel(config)));
  });

  test('has no access diff without --base', () => {
    expect(report).not.toContain('## Access changes');
  });
});

describe('the guards and the KMS key in each grant\'s section (sse-kms-buckets.json)', () => {
  const config = validConfig(fixtureConfigInput('sse-kms-buckets.json'));
  const report = reviewReport({ config, source: 'sse-kms-buckets.json' });
  const row = (user: string, field: string) => grantSection(report, user).split('\n').find((line) => line.startsWith(`| ${field} |`)) ?? '';

  test('every grant states TLS only and the owner pinned to My Account; read-only says it cannot upload', () => {
    for (const grant of config.grants) {
      const guards = row(grant.transferUser, 'Guards');
      expect(guards).toContain(`without TLS is denied (${code('aws:SecureTransport')} ${code('false')})`);
      expect(guards).toContain(`belongs to My Account ${code('333333333333')} (${code('s3:ResourceAccount')})`);
      expect(guards.includes('read-only: no upload')).toBe(grant.access === 'read-only');
    }
  });

  test('the KMS key row says whose key it is and, for another account\'s key, what its key policy must allow', () => {
    expect(row('ingest', 'KMS key')).toContain('the KMS key this stack creates for s3://media-kms-inbox/ (SSE-KMS with an S3 Bucket Key, automatic rotation on)');
    expect(row('ingest', 'KMS key')).toContain('only the grant roles on this bucket use it');
    expect(row('mastering', 'KMS key')).toContain(`owned by account ${code('888888888888')}`);
    expect(row('mastering', 'KMS key')).toContain(`**it must allow ${code('kms:Decrypt')}, ${code('kms:GenerateDataKey')} to ${code('arn:aws:iam::333333333333:role/media-kms-mastering')}`);
    expect(row('archivist', 'KMS key')).toContain('an existing key of My Account');
    expect(row('archivist', 'KMS key')).toContain(`the role may ${code('kms:Decrypt')} on it only through S3`);
    expect(row('dropper', 'KMS key')).toBe('');
  });

  test('destroy says a created key goes only after its bucket', () => {
    expect(report).toContain(`The KMS keys this stack created for ${code('media-kms-inbox')}: each is scheduled for deletion (after 30 days`);
  });
});

describe('report details for several grants', () => {
  const report = reviewReport({ config: several, source: 'aspera.config.json' });

  test('role ARNs follow "{stackName}-{transferUser}" unless the grant names its role', () => {
    expect(grantSection(report, 'xfer1')).toContain(code('arn:aws:iam::333333333333:role/acme-aspera-xfer1'));
    expect(grantSection(report, 'xfer3')).toContain(code('arn:aws:iam::333333333333:role/archive-reader'));
  });

  test('read-only grants show no write or delete action', () => {
    for (const user of ['xfer2', 'xfer3']) {
      const section = grantSection(report, user);
      expect(section).not.toContain('s3:PutObject');
      expect(section).not.toContain('s3:DeleteObject');
      expect(section).toContain('write_allowed=false');
    }
    expect(grantSection(report, 'xfer1')).toContain('write_allowed=true');
  });

  test('a prefix grant shows its object scope and its listing condition', () => {
    const section = grantSection(report, 'xfer1');
    expect(section).toContain(code('arn:aws:s3:::acme-inbox/partners/alpha/*'));
    expect(section).toMatch(/s3:prefix StringLike [^|]*partners\/alpha\/\*/);
    expect(section).toContain('/acme-inbox/partners/alpha;iam-role.external-id=ext-5551');
  });

  test('destroy removes the roles and the policy on the existing host role, and keeps the existing bucket, that role and the S3 state', () => {
    const destroy = report.slice(report.indexOf('## What `npx cdktf destroy` does'));
    const [removes, keeps] = destroy.split('Keeps:');
    for (const grant of several.grants) expect(removes).toContain(code(grantRoleArn(several, grant)));
    expect(removes).toContain(code('acme-inbox'));
    expect(removes).toContain(`the assume-role policy this stack put on the existing role ${code(hostRoleArn(several))}`);
    expect(keeps).toContain(code('acme.archive'));
    expect(removes).not.toContain(code('acme.archive'));
    expect(keeps).toContain(`The existing transfer host role ${code('aspera-ec2')}`);
    expect(keeps).toContain(code('s3://acme-tfstate/aspera/state.tfstate'));
  });
});

describe('report details for one grant', () => {
  const report = reviewReport({ config: one, source: 'aspera.config.json' });

  test('destroy removes the created host role and bucket, and keeps the local state file', () => {
    const destroy = report.slice(report.indexOf('## What `npx cdktf destroy` does'));
    const [removes, keeps] = destroy.split('Keeps:');
    expect(removes).toContain(`the transfer host role ${code('arn:aws:iam::222222222222:role/aspera-transfer-host')}, its instance profile`);
    expect(removes).toContain(code('acme-aspera-inbox'));
    expect(keeps).not.toContain(code('acme-aspera-inbox'));
    expect(keeps).toContain(code('terraform.aspera-cross-account.tfstate'));
  });

  test('says what happens on the host, including when it cannot be reached', () => {
    expect(report).toContain(`On each Aspera host (${code('203.0.113.10:33001')})`);
    expect(report).toMatch(/cannot be reached, destroy gives up on it after a connection timeout and still removes the roles/);
  });
});

describe('report length (a GitHub comment holds 65,536 characters)', () => {
  const many = configOf(ONE_GRANT, (d) => {
    d.grants = Array.from({ length: 80 }, (_, i) => ({ transferUser: `xfer${i}`, bucket: 'acme-aspera-inbox', prefix: `partners/p${i}`, access: i % 2 === 0 ? 'read-write' : 'read-only' }) as const);
  });
  const base = { config: one, label: 'origin/main:aspera.config.json' };
  const full = reviewReport({ config: many, source: 'a.json', base });

  test('a large config makes a full report too long for a comment (the case being tested)', () => {
    expect(full.length).toBeGreaterThan(65536);
  });

  test('under a limit, grants become one row each, the diff still comes first and complete, and every grant is still named', () => {
    const oneLess = { config: configOf(ONE_GRANT, (d) => void (d.grants = many.grants.slice(0, -1))), label: 'origin/main:aspera.config.json' };
    const whole = reviewReport({ config: many, source: 'a.json', base: oneLess });
    expect(whole.length).toBeGreaterThan(60000);
    const short = reviewReport({ config: many, source: 'a.json', base: oneLess }, { maxChars: 60000 });
    expect(short.length).toBeLessThanOrEqual(60000);
    expect(short).toContain('Per-grant policies and docroots are left out');
    expect(short).toContain('```mermaid');
    const diff = whole.slice(whole.indexOf('## Access changes'), whole.indexOf('## Trust chain'));
    expect(diff).toContain('**Added:** **xfer79**');
    expect(short).toContain(diff);
    for (const grant of many.grants) expect(short).toContain(`| ${code(grant.transferUser)} | ${code(`s3://acme-aspera-inbox/${grant.prefix}/`)} | ${grant.access} | ${code(grantRoleArn(many, grant))} |`);
    for (const action of grantS3Actions('read-write')) expect(short).toContain(code(action));
  });

  test('a tight limit still keeps the start of the access diff and says the report was cut', () => {
    const cut = reviewReport({ config: many, source: 'a.json', base }, { maxChars: 3000 });
    expect(cut.length).toBeLessThanOrEqual(3000);
    expect(cut).toContain('## Access changes compared with');
    expect(cut).toContain('> [!WARNING]');
    expect(cut).toContain('⚠️ **Added:** **xfer0** gets **read-write** access');
    expect(cut.trimEnd().endsWith('_Cut at 3000 characters: `npm run review` prints the whole report._')).toBe(true);
  });

  test('a report that fits is not shortened', () => {
    const report = reviewReport({ config: several, source: 'a.json' });
    expect(reviewReport({ config: several, source: 'a.json' }, { maxChars: report.length })).toBe(report);
  });
});

describe('the host policy form in the review', () => {
  test('the exact list: the report says so and counts the listed roles', () => {
    const report = reviewReport({ config: configOf(SEVERAL_GRANTS), source: 'aspera.config.json' });
    const row = report.split('\n').find((line) => line.startsWith('| Transfer host role policy |'));
    expect(row).toContain('`exact-roles`: `sts:AssumeRole` on exactly the');
    expect(row).toContain('listed by ARN');
  });

  test('the path form: the report names the path pattern, what the host may try and what it gets, and each grant is assumable', () => {
    const config = configOf(SEVERAL_GRANTS, (draft) => {
      draft.hostPolicy = 'role-path';
    });
    const report = reviewReport({ config, source: 'aspera.config.json' });
    const row = report.split('\n').find((line) => line.startsWith('| Transfer host role policy |'));
    expect(row).toContain(`\`role-path\`: \`sts:AssumeRole\` on every role under \`arn:aws:iam::${config.myAccount.accountId}:role/aspera/${config.stackName}/*\``);
    expect(row).toContain('gets only those whose trust policy names it with the External ID');
    expect(accessModel(config).grants.every((g) => g.hostMayAssume && g.roleArn.includes(`:role/aspera/${config.stackName}/`))).toBe(true);
  });

  test('switching to the path form is a widening that says every grant role is replaced', () => {
    const exact = accessModel(configOf(SEVERAL_GRANTS));
    const path = accessModel(configOf(SEVERAL_GRANTS, (draft) => void (draft.hostPolicy = 'role-path')));
    const changes = diffAccess(exact, path);
    const formChange = changes.find((c) => c.summary.includes('policy changes to `role-path`'));
    expect(formChange).toMatchObject({ kind: 'widened', attention: true });
    expect(formChange?.summary).toContain('Terraform deletes and recreates each one');
  });
});
