/**
 * Checks the aspera.conf placement oracle itself against the fixtures, with expectations written by
 * reading each fixture, so that tests of the host scripts can trust what it reports.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { docrootPaths, legacyUsers, placementOf, realmUsers } from './helpers/aspera-conf-oracle';

const DIR = join(__dirname, 'fixtures', 'aspera-conf');
const read = (name: string): string => readFileSync(join(DIR, name), 'utf8');
const names = (xml: string) => realmUsers(xml).map(({ realm, name }) => ({ realm, name }));
const REALM = 'CONF.aaa.realms.realm.users.user';
const path = (absolute: string, perms: { r?: string; w?: string; d?: string } = {}) => ({
  absolute: [{ text: absolute, attributes: {} }],
  read_allowed: perms.r,
  write_allowed: perms.w,
  dir_allowed: perms.d,
});
const ALL = { r: 'true', w: 'true', d: 'true' };

/** The fixtures written from IBM's documentation; each must open with its citation comment. */
const DOCUMENTED = [
  'hsts-realm.conf',
  'aod-s3.conf',
  'realm-groups-only.conf',
  'no-aaa.conf',
  'two-realms.conf',
  'two-realms-duplicate.conf',
  'crlf-bom.conf',
  'tabs.conf',
  'cdata.conf',
  'legacy-and-realm.conf',
  'empty-users.conf',
  'empty-realm.conf',
  'empty-aaa.conf',
  'user-empty-file-system.conf',
  'conditional-docroot.conf',
  'multi-path.conf',
];

describe('the fixture set', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.conf'));

  test.each(DOCUMENTED)('%s starts with its XML declaration and then a comment citing its source', (file) => {
    const text = read(file).replace(/^\uFEFF/, '');
    const m = /^<\?xml version='1\.0' encoding='UTF-8'\?>\r?\n<!--([\s\S]*?)-->/.exec(text);
    expect(m).not.toBeNull();
    expect(m![1]).toContain(`Fixture ${file}:`);
    expect(m![1]).toMatch(/Source/);
    expect(m![1]).toMatch(/Varied for the test/);
  });

  test('every fixture is well-formed and described in README.md', () => {
    const readme = read('README.md');
    for (const file of files) {
      expect(() => realmUsers(read(file))).not.toThrow();
      expect(readme).toContain(`| \`${file}\` |`);
    }
    expect(files).toEqual(expect.arrayContaining(DOCUMENTED));
  });

  test('crlf-bom.conf has the BOM bytes and CR LF on every line; tabs.conf indents with tabs only', () => {
    const raw = readFileSync(join(DIR, 'crlf-bom.conf'));
    expect([...raw.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = raw.toString('utf8');
    expect(text.split('\n').length).toBeGreaterThan(50);
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const tabs = read('tabs.conf');
    expect(tabs).toMatch(/^\t\t\t\t\t<user>$/m);
    expect(tabs).not.toMatch(/^ /m);
  });
});

describe('realmUsers', () => {
  test('hsts-realm.conf: alice, bob, xfer2 in realm 0; groups are not users', () => {
    const xml = read('hsts-realm.conf');
    expect(names(xml)).toEqual([
      { realm: 0, name: 'alice' },
      { realm: 0, name: 'bob' },
      { realm: 0, name: 'xfer2' },
    ]);
    expect(placementOf(xml, 'aspusers')).toEqual([]);
  });

  test('the stanza is the parsed <user>, settings included', () => {
    const xfer2 = realmUsers(read('hsts-realm.conf')).find((u) => u.name === 'xfer2')!;
    expect(xfer2.stanza).toMatchObject({
      authorization: [{ transfer: [{ in: [{ value: [{ '#text': 'token' }] }] }], token: [{ encryption_key: [{ '#text': 'xfer2-token-key-fedcba9876543210' }] }] }],
      file_system: [{ read_block_size: [{ '#text': '0' }], write_block_size: [{ '#text': '0' }] }],
    });
  });

  test('aod-s3.conf: partner, media, xfer; neither of our users', () => {
    const xml = read('aod-s3.conf');
    expect(names(xml)).toEqual([
      { realm: 0, name: 'partner' },
      { realm: 0, name: 'media' },
      { realm: 0, name: 'xfer' },
    ]);
  });

  test('two realms are numbered in document order', () => {
    expect(names(read('two-realms.conf'))).toEqual([
      { realm: 0, name: 'alice' },
      { realm: 1, name: 'bob' },
      { realm: 1, name: 'xfer2' },
    ]);
    expect(names(read('two-realms-duplicate.conf'))).toEqual([
      { realm: 0, name: 'xfer2' },
      { realm: 1, name: 'alice' },
      { realm: 1, name: 'xfer2' },
    ]);
  });

  test.each(['realm-groups-only.conf', 'no-aaa.conf', 'empty-users.conf', 'empty-realm.conf', 'empty-aaa.conf', 'no-users.conf'])(
    '%s has no realm users',
    (file) => expect(realmUsers(read(file))).toEqual([]),
  );

  test('the BOM and CR LF of crlf-bom.conf do not reach names or values', () => {
    const xml = read('crlf-bom.conf');
    expect(xml.charCodeAt(0)).toBe(0xfeff);
    expect(names(xml)).toEqual([
      { realm: 0, name: 'alice' },
      { realm: 0, name: 'xfer2' },
    ]);
    expect(docrootPaths(xml, 'xfer2')).toEqual([path('D:\\aspera\\xfer2', ALL)]);
  });

  test('tabs.conf: alice and xfer2', () => {
    expect(names(read('tabs.conf'))).toEqual([
      { realm: 0, name: 'alice' },
      { realm: 0, name: 'xfer2' },
    ]);
  });

  test('legacy fixtures have no realm users at all', () => {
    for (const file of ['several-users.conf', 'comments.conf', 'entities.conf', 'compact.conf', 'user-local-docroot.conf']) {
      expect(realmUsers(read(file))).toEqual([]);
    }
  });

  test('a <user> directly in <realm> (no <users>) is not a realm user, but placementOf still sees it', () => {
    const xml = '<CONF version="2"><aaa><realms><realm><user><name>xfer2</name></user></realm></realms></aaa></CONF>';
    expect(realmUsers(xml)).toEqual([]);
    expect(placementOf(xml, 'xfer2')).toEqual(['CONF.aaa.realms.realm.user']);
  });
});

describe('legacyUsers', () => {
  test('legacy-and-realm.conf: xfer2 in the legacy section, alice and bob in the realm', () => {
    const xml = read('legacy-and-realm.conf');
    expect(legacyUsers(xml)).toEqual(['xfer2']);
    expect(names(xml)).toEqual([
      { realm: 0, name: 'alice' },
      { realm: 0, name: 'bob' },
    ]);
  });

  test('several-users.conf lists its four users in order', () => {
    expect(legacyUsers(read('several-users.conf'))).toEqual(['alice', 'xfer2', 'bob', 'xfer3']);
  });

  test('comments.conf: a commented-out stanza and a processing instruction are not users', () => {
    expect(legacyUsers(read('comments.conf'))).toEqual(['xfer2', 'alice']);
  });

  test('documented fixtures have no legacy users', () => {
    for (const file of ['hsts-realm.conf', 'aod-s3.conf', 'two-realms.conf', 'cdata.conf', 'crlf-bom.conf']) {
      expect(legacyUsers(read(file))).toEqual([]);
    }
  });
});

describe('placementOf', () => {
  test('hsts-realm.conf: xfer2 exactly once in the realm, xfer3 nowhere', () => {
    const xml = read('hsts-realm.conf');
    expect(placementOf(xml, 'xfer2')).toEqual([REALM]);
    expect(placementOf(xml, 'xfer3')).toEqual([]);
  });

  test('two-realms.conf: xfer2 in the second realm only', () => {
    expect(placementOf(read('two-realms.conf'), 'xfer2')).toEqual(['CONF.aaa.realms.realm[1].users.user']);
    expect(placementOf(read('two-realms.conf'), 'alice')).toEqual(['CONF.aaa.realms.realm[0].users.user']);
  });

  test('two-realms-duplicate.conf: xfer2 in both realms', () => {
    expect(placementOf(read('two-realms-duplicate.conf'), 'xfer2')).toEqual([
      'CONF.aaa.realms.realm[0].users.user',
      'CONF.aaa.realms.realm[1].users.user',
    ]);
  });

  test('legacy-and-realm.conf: xfer2 only in the legacy section, which the server does not read', () => {
    expect(placementOf(read('legacy-and-realm.conf'), 'xfer2')).toEqual(['CONF.users.user']);
    expect(placementOf(read('legacy-and-realm.conf'), 'alice')).toEqual([REALM]);
  });

  test('both sections at once are both reported, legacy first as in the file', () => {
    const xml = read('legacy-and-realm.conf').replace('<name>alice</name>', '<name>xfer2</name>');
    expect(placementOf(xml, 'xfer2')).toEqual(['CONF.users.user', REALM]);
  });

  test('cdata.conf: a user stanza inside CDATA is text, not a placement', () => {
    const xml = read('cdata.conf');
    expect(xml).toContain('<![CDATA[k9<user><name>xfer2</name></user>');
    expect(placementOf(xml, 'xfer2')).toEqual([]);
    expect(names(xml)).toEqual([
      { realm: 0, name: 'alice' },
      { realm: 0, name: 'bob' },
    ]);
  });

  test('entities.conf and comments.conf: CDATA and comments do not count', () => {
    expect(placementOf(read('entities.conf'), 'xfer2')).toEqual(['CONF.users.user']);
    expect(placementOf(read('comments.conf'), 'xfer2')).toEqual(['CONF.users.user']);
  });

  test('two stanzas in one <users> give the same path twice', () => {
    const xml = '<CONF><aaa><realms><realm><users><user><name>xfer2</name></user><user><name>xfer2</name></user></users></realm></realms></aaa></CONF>';
    expect(placementOf(xml, 'xfer2')).toEqual([REALM, REALM]);
  });
});

describe('docrootPaths', () => {
  test('hsts-realm.conf: xfer2 has one local docroot with all three permissions', () => {
    expect(docrootPaths(read('hsts-realm.conf'), 'xfer2')).toEqual([path('/data/xfer2', ALL)]);
  });

  test('hsts-realm.conf: alice has a conditional absolute with peer_ip next to the plain one', () => {
    expect(docrootPaths(read('hsts-realm.conf'), 'alice')).toEqual([
      {
        absolute: [
          { text: '/mnt/lan/alice', attributes: { peer_ip: '192.0.2.10' } },
          { text: '/home/alice', attributes: {} },
        ],
        read_allowed: 'true',
        write_allowed: 'true',
        dir_allowed: 'true',
      },
    ]);
  });

  test('hsts-realm.conf: bob has two paths, in order', () => {
    expect(docrootPaths(read('hsts-realm.conf'), 'bob')).toEqual([
      path('/data/bob/inbox', { r: 'false', w: 'true', d: 'true' }),
      path('/data/bob/outbox', { r: 'true', w: 'false', d: 'true' }),
    ]);
  });

  test('conditional-docroot.conf and multi-path.conf: the shapes an install must refuse for xfer2', () => {
    expect(docrootPaths(read('conditional-docroot.conf'), 'xfer2')).toEqual([
      {
        absolute: [
          { text: '/mnt/lan/xfer2', attributes: { peer_ip: '192.0.2.10' } },
          { text: '/data/xfer2', attributes: {} },
        ],
        read_allowed: 'true',
        write_allowed: 'true',
        dir_allowed: 'true',
      },
    ]);
    expect(docrootPaths(read('multi-path.conf'), 'xfer2')).toEqual([
      path('/data/xfer2/inbox', { r: 'false', w: 'true' }),
      path('/data/xfer2/outbox', { r: 'true', w: 'false' }),
    ]);
  });

  test('aod-s3.conf: restrictions user, IAM-role docroot, keyed docroot with its &amp; decoded', () => {
    const xml = read('aod-s3.conf');
    expect(docrootPaths(xml, 'partner')).toEqual([path('', ALL)]);
    expect(docrootPaths(xml, 'media')).toEqual([path('s3://s3.amazonaws.com/media-archive-bucket', { r: 'true', w: 'false', d: 'true' })]);
    expect(docrootPaths(xml, 'xfer')).toEqual([
      path(
        's3://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI%2FK7MDENG%2FbPxRfiCYEXAMPLEKEY@s3.amazonaws.com/xfer-bucket/incoming?storage-class=STANDARD&server-side-encryption=AES256',
      ),
    ]);
  });

  test('cdata.conf: entities and character references are decoded, CDATA is kept literally', () => {
    const xml = read('cdata.conf');
    expect(docrootPaths(xml, 'alice')).toEqual([
      path(`/data/R&D <archive> "2024" alice's`, { r: 'true' }),
      path('s3://s3.amazonaws.com/alice-bucket?storage-class=STANDARD_IA&server-side-encryption=AES256&x=1'),
    ]);
    const bob = realmUsers(xml).find((u) => u.name === 'bob')!;
    expect(bob.stanza).toMatchObject({
      authorization: [{ token: [{ encryption_key: [{ '#text': 'k9<user><name>xfer2</name></user>&]]>tail' }] }] }],
    });
  });

  test('user-empty-file-system.conf: xfer2 is there once, with no path', () => {
    const xml = read('user-empty-file-system.conf');
    expect(placementOf(xml, 'xfer2')).toEqual([REALM]);
    expect(docrootPaths(xml, 'xfer2')).toEqual([]);
  });

  test('throws when the user is not in the realm section exactly once, saying where it is', () => {
    expect(() => docrootPaths(read('hsts-realm.conf'), 'xfer3')).toThrow('xfer3 is in the realm section 0 times (everywhere it appears: nowhere)');
    expect(() => docrootPaths(read('legacy-and-realm.conf'), 'xfer2')).toThrow('0 times (everywhere it appears: CONF.users.user)');
    expect(() => docrootPaths(read('two-realms-duplicate.conf'), 'xfer2')).toThrow(
      'xfer2 is in the realm section 2 times (everywhere it appears: CONF.aaa.realms.realm[0].users.user, CONF.aaa.realms.realm[1].users.user)',
    );
  });
});

describe('input the oracle refuses', () => {
  test.each([
    ['unclosed element', '<CONF><aaa></CONF>', /not well-formed/],
    ['undefined entity', '<CONF><server><server_name>a&nbsp;b</server_name></server></CONF>', /undefined entity &nbsp;/],
    ['two root elements', '<CONF/><CONF/>', /exactly one root element <CONF>/],
    ['another root element', '<config><users/></config>', /exactly one root element <CONF>, found: config/],
    ['a DOCTYPE', '<!DOCTYPE CONF [<!ENTITY x "y">]><CONF>&x;</CONF>', /DOCTYPE/],
  ])('%s', (_what, xml, message) => {
    expect(() => realmUsers(xml)).toThrow(message);
  });

  test('an entity-like text inside CDATA or a comment is accepted', () => {
    const xml = '<CONF><!-- &nbsp; --><server><note><![CDATA[&nbsp;]]></note></server></CONF>';
    expect(realmUsers(xml)).toEqual([]);
  });

  test('a <user> with two <name> elements is an error, not a guess', () => {
    const xml = '<CONF><aaa><realms><realm><users><user><name>a</name><name>xfer2</name></user></users></realm></realms></aaa></CONF>';
    expect(() => realmUsers(xml)).toThrow('a <user> at realm 0 has 2 <name> elements');
  });
});
