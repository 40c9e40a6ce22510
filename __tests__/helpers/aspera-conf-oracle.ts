/**
 * Test oracle: where transfer users sit in an aspera.conf, read with a real XML parser
 * (fast-xml-parser), independent of the awk editor under test.
 *
 * IBM's server reads users only at <CONF><aaa><realms><realm><users><user> (HST Server admin guide,
 * "Set up Users and Groups"). A <user> anywhere else, such as a top-level <CONF><users>, is not read
 * by the server; tests use placementOf to assert that our users end up exactly once, in the realm.
 *
 * Parsing choices, and why:
 * - every element comes back as an array (isArray), so one <realm> and two <realm>s read alike;
 * - attributes are kept (peer_ip on a conditional <absolute> must be visible);
 * - values stay strings ("0", "true"), text is trimmed as the server's own examples suggest;
 * - CDATA is text, comments and processing instructions are dropped: markup inside either is
 *   never mistaken for a <user>;
 * - the input must be well-formed: one root element, no DOCTYPE, only the five XML entities and
 *   character references. fast-xml-parser's validator lets undefined entities (&nbsp;) and several
 *   roots through, so those two are checked here.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

type Element = Record<string, unknown>;

export interface RealmUser {
  /** Index of the <realm> among all realms of the file, 0-based, in document order. */
  readonly realm: number;
  readonly name: string;
  /** The <user> element as parsed: child elements as arrays, attributes as "@_name", text as "#text". */
  readonly stanza: Record<string, unknown>;
}

export interface DocrootAbsolute {
  readonly text: string;
  /** Attributes without prefix, e.g. { peer_ip: '192.0.2.10' } for a conditional docroot. */
  readonly attributes: Record<string, string>;
}

/**
 * One <path> of a user's <file_system><access><paths>. IBM's conditional docroot puts several
 * <absolute> elements in one <path>, so absolute is a list; a permission is undefined when the
 * element is absent.
 */
export interface DocrootPath {
  readonly absolute: readonly DocrootAbsolute[];
  readonly read_allowed?: string;
  readonly write_allowed?: string;
  readonly dir_allowed?: string;
}

const ATTR = '@_';
const TEXT = '#text';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  textNodeName: TEXT,
  isArray: (_name, _jpath, _isLeafNode, isAttribute) => !isAttribute,
  alwaysCreateTextNode: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: true,
  // Decodes character references (&#38;); undefined named entities were refused before parsing.
  htmlEntities: true,
});

const XML_ENTITIES = new Set(['amp', 'lt', 'gt', 'quot', 'apos']);

/** Throws unless every &name; outside comments and CDATA is one of XML's five entities or a character reference. */
function checkEntities(xml: string): void {
  let i = 0;
  while (i < xml.length) {
    const comment = xml.indexOf('<!--', i);
    const cdata = xml.indexOf('<![CDATA[', i);
    const next = [comment, cdata].filter((n) => n >= 0).sort((a, b) => a - b)[0] ?? xml.length;
    for (const m of xml.slice(i, next).matchAll(/&([^;\s&<]*);/g)) {
      const name = m[1];
      if (!name.startsWith('#') && !XML_ENTITIES.has(name)) {
        throw new Error(`aspera.conf is not well-formed: undefined entity &${name};`);
      }
    }
    if (next === xml.length) break;
    const end = next === comment ? xml.indexOf('-->', next + 4) : xml.indexOf(']]>', next + 9);
    if (end < 0) throw new Error('aspera.conf is not well-formed: unterminated comment or CDATA section');
    i = end + 3;
  }
}

/** The single <CONF> element of a well-formed aspera.conf (a leading UTF-8 BOM is allowed). */
function conf(xml: string): Element {
  const text = xml.charCodeAt(0) === 0xfeff ? xml.slice(1) : xml;
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new Error(`aspera.conf is not well-formed: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  }
  if (/<!DOCTYPE/i.test(text)) throw new Error('aspera.conf has a DOCTYPE, which this oracle does not model');
  checkEntities(text);
  const doc = parser.parse(text) as Element;
  const roots = Object.keys(doc);
  const root = doc.CONF;
  if (roots.length !== 1 || !Array.isArray(root) || root.length !== 1) {
    throw new Error(`aspera.conf must have exactly one root element <CONF>, found: ${roots.join(', ') || 'none'}`);
  }
  return root[0] as Element;
}

function isElement(v: unknown): v is Element {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function children(parent: Element, name: string): Element[] {
  const v = parent[name];
  return Array.isArray(v) ? v.filter(isElement) : [];
}

function textOf(el: Element): string {
  const t = el[TEXT];
  return typeof t === 'string' ? t : '';
}

function attributesOf(el: Element): Record<string, string> {
  return Object.fromEntries(
    Object.entries(el)
      .filter(([k]) => k.startsWith(ATTR))
      .map(([k, v]) => [k.slice(ATTR.length), String(v)]),
  );
}

/** Text of the only <name> child; throws when there is none or more than one (the oracle must not guess). */
function userName(user: Element, where: string): string {
  const names = children(user, 'name');
  if (names.length !== 1) throw new Error(`a <user> at ${where} has ${names.length} <name> elements`);
  return textOf(names[0]);
}

/** Text of an optional single child; throws when the child is repeated. */
function optionalText(parent: Element, name: string, where: string): string | undefined {
  const found = children(parent, name);
  if (found.length > 1) throw new Error(`${where} has ${found.length} <${name}> elements`);
  return found.length === 1 ? textOf(found[0]) : undefined;
}

/** Every <user> at exactly CONF.aaa.realms.realm.users.user, realms numbered in document order. */
export function realmUsers(xml: string): RealmUser[] {
  const users: RealmUser[] = [];
  let realm = 0;
  for (const aaa of children(conf(xml), 'aaa')) {
    for (const realms of children(aaa, 'realms')) {
      for (const r of children(realms, 'realm')) {
        for (const us of children(r, 'users')) {
          for (const user of children(us, 'user')) {
            users.push({ realm, name: userName(user, `realm ${realm}`), stanza: user });
          }
        }
        realm += 1;
      }
    }
  }
  return users;
}

/** Names of the users directly at CONF.users.user: the legacy section the server does not read. */
export function legacyUsers(xml: string): string[] {
  return children(conf(xml), 'users').flatMap((us) => children(us, 'user').map((u) => userName(u, 'CONF.users')));
}

/**
 * Every place a <user> whose <name> is `user` appears, as a dotted path of element names from CONF.
 * A step carries its 0-based index when the element has same-named siblings
 * ("CONF.aaa.realms.realm[1].users.user"); the final "user" step never does, so two stanzas in one
 * <users> give the same path twice. Paths are grouped by element name, in document order within a name.
 */
export function placementOf(xml: string, user: string): string[] {
  const found: string[] = [];
  const walk = (el: Element, path: string): void => {
    for (const [key, value] of Object.entries(el)) {
      if (key === TEXT || key.startsWith(ATTR) || !Array.isArray(value)) continue;
      const elements = value.filter(isElement);
      elements.forEach((child, i) => {
        if (key === 'user' && children(child, 'name').some((n) => textOf(n) === user)) found.push(`${path}.user`);
        walk(child, elements.length > 1 ? `${path}.${key}[${i}]` : `${path}.${key}`);
      });
    }
  };
  walk(conf(xml), 'CONF');
  return found;
}

/**
 * The <path> entries of `user` in the realm section (<file_system><access><paths><path>), in document
 * order; [] when the user has no such path. Throws unless the user is in the realm section exactly once.
 */
export function docrootPaths(xml: string, user: string): DocrootPath[] {
  const matches = realmUsers(xml).filter((u) => u.name === user);
  if (matches.length !== 1) {
    const where = placementOf(xml, user);
    throw new Error(
      `${user} is in the realm section ${matches.length} times (everywhere it appears: ${where.join(', ') || 'nowhere'})`,
    );
  }
  const stanza = matches[0].stanza as Element;
  const paths: DocrootPath[] = [];
  for (const fs of children(stanza, 'file_system')) {
    for (const access of children(fs, 'access')) {
      for (const ps of children(access, 'paths')) {
        for (const p of children(ps, 'path')) {
          const where = `${user}'s <path> ${paths.length}`;
          paths.push({
            absolute: children(p, 'absolute').map((a) => ({ text: textOf(a), attributes: attributesOf(a) })),
            read_allowed: optionalText(p, 'read_allowed', where),
            write_allowed: optionalText(p, 'write_allowed', where),
            dir_allowed: optionalText(p, 'dir_allowed', where),
          });
        }
      }
    }
  }
  return paths;
}
