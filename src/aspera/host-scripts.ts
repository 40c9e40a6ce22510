/**
 * The install and uninstall scripts for one Aspera host. Pure: config in, script text out.
 *
 * A rendered script is a short data block followed by constant logic (aspera-conf-edit.sh with
 * aspera-conf-edit.awk embedded, the same bytes for every config). Config values reach the script
 * only in that data block, each as a single-quoted shell word, and the docroots already
 * XML-escaped; the logic hands them to awk through its environment, so no value is ever parsed as
 * shell, awk or XML markup.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AsperaHost, type Config, DEFAULT_NODE_API_CREDENTIALS_FILE, DEFAULT_NODE_API_URL, type NodeApiConfig, SCRIPT_MARKERS } from '../config/schema';
import { ACCESS_KEY_SEED_MARKER, accessKeys, installsDocroot } from './access-key';
import { docrootPermissions, grantDocrootXml } from './docroot';

/** Where the awk program goes in aspera-conf-edit.sh: inside its single-quoted argument to awk. */
const AWK_MARKER = '@ASPERA_CONF_EDIT_AWK@';

/**
 * The shell logic with the awk program embedded, so the host receives one file. The two live in
 * files of their own so that each has its linter (shellcheck, gawk --lint); the program may hold
 * no single quote, which would end the shell word around it.
 */
export function embedAwk(shell: string, awk: string): string {
  const parts = shell.split(`'\n${AWK_MARKER}\n'`);
  if (parts.length !== 2) throw new Error(`aspera-conf-edit.sh must hold the line ${AWK_MARKER} once, between single-quoted lines`);
  if (awk.includes("'")) throw new Error("aspera-conf-edit.awk contains a single quote, which would end the shell word around it: write \\047");
  return `${parts[0]}'\n${awk.replace(/\n$/, '')}\n'${parts[1]}`;
}

/** Where node-api-access-keys.sh goes in aspera-conf-edit.sh: a line of its own. */
const ACCESS_KEYS_MARKER = '# @NODE_API_ACCESS_KEYS_SH@\n';

/** The shell logic with the access-key functions embedded (two files, so that shellcheck reads each). */
export function embedAccessKeys(shell: string, accessKeysShell: string): string {
  const parts = shell.split(ACCESS_KEYS_MARKER);
  if (parts.length !== 2) throw new Error(`aspera-conf-edit.sh must hold the line ${ACCESS_KEYS_MARKER.trim()} once`);
  return `${parts[0]}${accessKeysShell.replace(/\n*$/, '\n')}${parts[1]}`;
}

/** The constant part of every script; reviewers read it once. */
export const SCRIPT_LOGIC = embedAwk(
  embedAccessKeys(readFileSync(join(__dirname, 'aspera-conf-edit.sh'), 'utf8'), readFileSync(join(__dirname, 'node-api-access-keys.sh'), 'utf8')),
  readFileSync(join(__dirname, 'aspera-conf-edit.awk'), 'utf8'),
);

export type ScriptAction = 'install' | 'uninstall';

export interface HostScripts {
  readonly install: string;
  readonly uninstall: string;
}

/** One grant as the script receives it. */
export interface ScriptGrant {
  readonly transferUser: string;
  readonly readAllowed: boolean;
  readonly writeAllowed: boolean;
  readonly dirAllowed: boolean;
  /** The docroot exactly as written into aspera.conf (XML-escaped). */
  readonly docrootXml: string;
}

/**
 * Where Terraform's remote-exec puts a script on the host (the connection's script_path): in the
 * SSH user's home directory, where an SSH session starts, instead of the default
 * /tmp/terraform_%RAND%.sh. Terraform uploads with `scp -t <directory of this path>`, runs
 * `chmod 0777 <path>`, then runs the path as the command: so it is relative ("~" would not be
 * expanded) and starts with "./" (a bare name would be looked up in PATH). Terraform puts a random
 * number in place of %RAND%, which keeps concurrent runs apart.
 */
export const SCRIPT_PATH = './.aspera-cross-account-%RAND%.sh';

/** POSIX single quoting: the value is data whatever it contains. */
export const shellQuote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

// Defence in depth: the schema already narrows every value far more than this. These checks only
// keep a value from breaking the one-grant-per-line table or naming a file outside the conf dir.
const NO_SPACE_OR_CONTROL = /^[^\s\x00-\x1f\x7f]+$/;
const TRANSFER_USER = /^[A-Za-z0-9_.@-]+$/;
const STACK_IDENTITY = /^[A-Za-z0-9][A-Za-z0-9_-]*:\d{12}:\d{12}$/;
const ACCESS_KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
// The storage JSON goes between double quotes in curl's config (where only \\ and " are special)
// and into the data block: no space, quote of the shell, backslash or control character.
const STORAGE_JSON = /^\{[A-Za-z0-9"{}:,._\/@+=-]+\}$/;
const NODE_API_URL_DATA = /^https?:\/\/[A-Za-z0-9.:\[\]-]+$/;

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`cannot render the Aspera host script: ${what}`);
}

/** One Node API access key as the script receives it. */
export interface ScriptAccessKey {
  readonly id: string;
  readonly transferUser: string;
  /** The storage object of POST/PUT /access_keys, as JSON text without spaces. */
  readonly storageJson: string;
}

/** How a script reaches the Node API, and the access keys it installs. */
export interface ScriptNodeApi {
  readonly url: string;
  readonly credentialsFile: string;
  readonly caFile?: string;
  /** Install: the keys of the grants installed as access keys. Uninstall: none (it removes what the host's access-key state records). */
  readonly keys: readonly ScriptAccessKey[];
}

/** The grants installed as docroots. */
export function scriptGrants(config: Config): ScriptGrant[] {
  return config.grants.filter(installsDocroot).map((grant) => {
    const p = docrootPermissions(grant);
    return { transferUser: grant.transferUser, readAllowed: p.readAllowed, writeAllowed: p.writeAllowed, dirAllowed: p.dirAllowed, docrootXml: grantDocrootXml(config, grant) };
  });
}

/**
 * Who owns a docroot on a host: the stack, as "<stackName>:<My Account>:<Other Account>". Several
 * customers' stacks may configure one Aspera host (that is what the External ID is for), and each
 * may keep the default stackName; the two accounts tell them apart, and the host's state file
 * records this identity with every docroot so that a stack touches only its own.
 */
export const hostStackIdentity = (config: Pick<Config, 'stackName' | 'myAccount' | 'otherAccount'>): string =>
  `${config.stackName}:${config.myAccount.accountId}:${config.otherAccount.accountId}`;

/** The data block plus the constant logic. Exported for tests; use renderHostScripts. */
export function renderScript(action: ScriptAction, stackIdentity: string, asperaConfPath: string, grants: readonly ScriptGrant[], nodeApi: ScriptNodeApi = DEFAULT_NODE_API): string {
  check(STACK_IDENTITY.test(stackIdentity), `stack identity ${JSON.stringify(stackIdentity)} must be "<stackName>:<My Account>:<Other Account>", the name letters, digits, "_" and "-"`);
  check(asperaConfPath.startsWith('/') && NO_SPACE_OR_CONTROL.test(asperaConfPath), `aspera.conf path ${JSON.stringify(asperaConfPath)} must be absolute, without spaces or control characters`);
  const seen = new Set<string>();
  const rows = grants.map((g) => {
    check(TRANSFER_USER.test(g.transferUser), `transfer user ${JSON.stringify(g.transferUser)} must be letters, digits and _ . @ -`);
    check(!seen.has(g.transferUser), `transfer user ${g.transferUser} has two grants`);
    seen.add(g.transferUser);
    check(NO_SPACE_OR_CONTROL.test(g.docrootXml) && !g.docrootXml.includes('<'), `the docroot of ${g.transferUser} must be XML-escaped, without spaces or control characters`);
    return [g.transferUser, String(g.readAllowed), String(g.writeAllowed), String(g.dirAllowed), g.docrootXml].join(' ');
  });
  check(NODE_API_URL_DATA.test(nodeApi.url), `Node API URL ${JSON.stringify(nodeApi.url)} must be http(s)://<host>[:<port>]`);
  check(nodeApi.credentialsFile.startsWith('/') && NO_SPACE_OR_CONTROL.test(nodeApi.credentialsFile) && !nodeApi.credentialsFile.includes("'"), `Node API credentials file ${JSON.stringify(nodeApi.credentialsFile)} must be an absolute path without spaces or quotes`);
  check(nodeApi.caFile === undefined || (nodeApi.caFile.startsWith('/') && NO_SPACE_OR_CONTROL.test(nodeApi.caFile) && !/["'\\]/.test(nodeApi.caFile)), `Node API CA file ${JSON.stringify(nodeApi.caFile)} must be an absolute path without spaces or quotes`);
  const keyIds = new Set<string>();
  const keyRows = nodeApi.keys.map((k) => {
    check(ACCESS_KEY_ID.test(k.id), `access key id ${JSON.stringify(k.id)} must be letters, digits and . _ -`);
    check(TRANSFER_USER.test(k.transferUser), `transfer user ${JSON.stringify(k.transferUser)} must be letters, digits and _ . @ -`);
    check(!keyIds.has(k.id), `access key ${k.id} is given twice`);
    keyIds.add(k.id);
    check(STORAGE_JSON.test(k.storageJson), `the storage of access key ${k.id} must be JSON without spaces, quotes of the shell or backslashes`);
    return [k.id, k.transferUser, k.storageJson].join(' ');
  });
  check(action === 'install' || keyRows.length === 0, 'an uninstall script carries no access key');
  const what =
    action === 'install'
      ? keyRows.length === 0
        ? 'Installs the S3 docroots of this stack into aspera.conf (and removes any it installed before that are no longer granted).'
        : 'Installs the S3 docroots and the Node API access keys of this stack (and removes any it installed before that are no longer granted).'
      : 'Removes the S3 docroots this stack installed from aspera.conf, restoring what was there before, and deletes the Node API access keys it created.';
  return [
    '#!/bin/sh',
    `# aspera-cross-account ${action} script, rendered by cdktf synth: do not edit.`,
    `# ${what}`,
    '# Runs as root (re-executes itself with "sudo -n" otherwise). ASPERA_CONF overrides the file it edits,',
    '# ASPERA_NODE_API_URL the Node API it calls for access keys.',
    'set -eu',
    '',
    '# ---- Data (the only part that depends on the config) ----',
    `ACTION=${shellQuote(action)}`,
    '# The stack, as the host state records it: stackName, My Account, Other Account.',
    `STACK=${shellQuote(stackIdentity)}`,
    `DEFAULT_ASPERA_CONF=${shellQuote(asperaConfPath)}`,
    '# One line per grant: transfer user, read_allowed, write_allowed, dir_allowed, docroot as written',
    '# into aspera.conf (XML-escaped). Empty for uninstall: it removes what the state file records.',
    `GRANTS=${shellQuote(rows.length === 0 ? '' : `\n${rows.join('\n')}\n`)}`,
    '# The Node API of this host (for access keys): URL, root-only file with "<node user>:<password>",',
    '# CA file ("" for none).',
    `NODE_API_URL=${shellQuote(nodeApi.url)}`,
    `NODE_API_CREDENTIALS=${shellQuote(nodeApi.credentialsFile)}`,
    `NODE_API_CA_FILE=${shellQuote(nodeApi.caFile ?? '')}`,
    '# One line per Node API access key: id, transfer user, storage as POST /access_keys takes it. Empty',
    '# for uninstall: it removes the keys the access-key state records for this stack.',
    `ACCESS_KEYS=${shellQuote(keyRows.length === 0 ? '' : `\n${keyRows.join('\n')}\n`)}`,
    '# The seed the access key secrets are derived from; terraform apply puts it in place of the marker.',
    `ACCESS_KEY_SEED=${shellQuote(keyRows.length === 0 ? '' : ACCESS_KEY_SEED_MARKER)}`,
    '',
    SCRIPT_LOGIC,
  ].join('\n');
}

/** The Node API settings of a target that names none: the defaults, and no key. */
const DEFAULT_NODE_API: ScriptNodeApi = { url: DEFAULT_NODE_API_URL, credentialsFile: DEFAULT_NODE_API_CREDENTIALS_FILE, keys: [] };

/** The access keys of a config as the install script receives them. */
export function scriptAccessKeys(config: Config): ScriptAccessKey[] {
  return accessKeys(config).map((key) => ({ id: key.id, transferUser: key.transferUser, storageJson: JSON.stringify(key.storage) }));
}

/** What matters to a script: where aspera.conf and the Node API are. An SSH host and a fleet of instances both have that. */
export type ScriptTarget = Pick<AsperaHost, 'asperaConfPath'> & { readonly nodeApi?: NodeApiConfig; readonly [field: string]: unknown };

/**
 * The Node API settings a script carries: the host's, always. Even a config without access keys
 * needs them, since the host may hold keys an earlier apply created (the install then deletes
 * them). Changing nodeApi therefore changes the uninstall script, which replaces the host's
 * revocation resource, as changing asperaConfPath does (docs/aspera-hosts.md).
 */
const scriptNodeApi = (host: ScriptTarget, keys: readonly ScriptAccessKey[]): ScriptNodeApi => {
  const nodeApi = host.nodeApi ?? DEFAULT_NODE_API;
  return { url: nodeApi.url, credentialsFile: nodeApi.credentialsFile, ...(nodeApi.caFile !== undefined ? { caFile: nodeApi.caFile } : {}), keys };
};

const occurrences = (text: string, marker: string): number => text.split(marker).length - 1;

export function renderHostScripts(config: Config, host: ScriptTarget): HostScripts {
  const keys = scriptAccessKeys(config);
  const scripts = {
    install: renderScript('install', hostStackIdentity(config), host.asperaConfPath, scriptGrants(config), scriptNodeApi(host, keys)),
    // The uninstall carries no grants and no access keys: it undoes what the host's state files say
    // this stack did, so it stays right even when Terraform runs it after the config has changed.
    uninstall: renderScript('uninstall', hostStackIdentity(config), host.asperaConfPath, [], scriptNodeApi(host, [])),
  };
  // Terraform replaces every marker by the seed: one in the data block, and none anywhere else,
  // or the seed would land in aspera.conf, a key's storage or the External ID sent to STS.
  check(
    occurrences(scripts.install, ACCESS_KEY_SEED_MARKER) === (keys.length > 0 ? 1 : 0) && occurrences(scripts.uninstall, ACCESS_KEY_SEED_MARKER) === 0,
    `the config contains "${ACCESS_KEY_SEED_MARKER}", which stands for the access key secret seed in the host scripts; rename what contains it`,
  );
  return scripts;
}

export { sha256Hex } from '../sha256';

// ---- An External ID known only at plan time ---------------------------------------------------
//
// When mode "transfer-host" generates the External ID (random_id), its value exists from apply on,
// but the scripts are files rendered at synth time. They are rendered with a marker where the
// External ID goes; the host construct has Terraform replace the marker by the value when it
// uploads the install script.

/**
 * Stands for the External ID in a script rendered before the value exists. Capital letters only:
 * percent-encoding and XML escaping leave it as it is, in the data block it is inside single
 * quotes, and Terraform's replace() takes it literally (only a "/.../" substring is a pattern).
 */
export const EXTERNAL_ID_MARKER = SCRIPT_MARKERS.externalId;

/**
 * A value with the shape of a plan-time External ID (`hexDigits` lowercase hex digits), for the
 * check below and for tests.
 */
export const sampleHexExternalId = (hexDigits: number): string => '0123456789abcdef'.repeat(Math.ceil(hexDigits / 16)).slice(0, hexDigits);

/**
 * The host scripts with EXTERNAL_ID_MARKER where the External ID goes, for an External ID that is
 * only known at plan time and is `hexDigits` lowercase hex digits.
 *
 * Replacing every marker by such a value, literally, gives exactly the scripts renderHostScripts
 * renders with that value: docroot.ts percent-encodes the External ID, and XML escaping follows,
 * but neither changes a hex digit, so the raw value may stand where the encoded one would. That
 * equivalence is checked here with a sample value, and a config that contains the marker itself
 * (in a prefix, say) is refused: every marker in the result stands for the External ID.
 */
export function renderHostScriptsWithExternalIdMarker(config: Config, host: ScriptTarget, hexDigits: number): HostScripts {
  check(Number.isInteger(hexDigits) && hexDigits >= 2, `a plan-time External ID of ${hexDigits} hex digits`);
  const marked = renderHostScripts({ ...config, externalId: EXTERNAL_ID_MARKER }, host);
  const sample = sampleHexExternalId(hexDigits);
  const concrete = renderHostScripts({ ...config, externalId: sample }, host);
  check(
    !concrete.install.includes(EXTERNAL_ID_MARKER) && !concrete.uninstall.includes(EXTERNAL_ID_MARKER),
    `the config contains "${EXTERNAL_ID_MARKER}", which stands for the generated External ID in the host scripts; rename what contains it`,
  );
  check(
    marked.install.split(EXTERNAL_ID_MARKER).join(sample) === concrete.install && marked.uninstall === concrete.uninstall,
    'internal: a hex External ID put in place of the marker does not give the script rendered with that value',
  );
  return marked;
}

