/**
 * The field grammar of aspera.config.json: what each field may hold on its own (character sets,
 * lengths, enums, defaults, descriptions for the editor schema). Rules that relate two fields are
 * in cross-field.ts and the mode rules in modes.ts; schema.ts composes the three.
 *
 * Character sets are deliberately narrow: every value here ends up in IAM JSON, in
 * Terraform strings (where "${" would be an expression), in a shell script and in XML.
 * A value that cannot contain quotes, "$", "`", "<", "&" or whitespace cannot become
 * shell code, Terraform syntax or markup.
 *
 * Rules are written as `.regex()`/`.min()`/`.max()` checks wherever possible, one check per rule:
 * zod then reports every broken rule with its own message, and the same checks become
 * "pattern"/"minLength"/"maxLength" in the editor schema, so editors and the CLI agree.
 *
 * Like everything in src/config, this file imports nothing from iam/, modes/, aspera/ or
 * constructs/: the config is the bottom layer (a test scans the imports).
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { IAM_QUOTAS } from '../aws/iam-quotas';
import { PARTITIONS, REGION_PATTERN } from '../aws/partitions';
import { disguisedIpv4, ipv4SpellingProblem } from '../ssh/host-address';
import { hostKeyProblem } from '../ssh/host-key';
import { withThousands } from '../number-format';

/** Which part of the cross-account setup one stack applies; what each mode means and creates: src/modes/mode.ts. */
export const MODES = ['both', 'bucket-owner', 'transfer-host'] as const;
export type Mode = (typeof MODES)[number];
export const DEFAULT_MODE: Mode = 'both';

/** How a bucket this stack creates is encrypted by default (src/constructs/bucket-owner-access.ts). */
export const BUCKET_ENCRYPTIONS = ['sse-s3', 'sse-kms'] as const;
export type BucketEncryption = (typeof BUCKET_ENCRYPTIONS)[number];

/** How the transfer host's policy names the grant roles (rendered by src/iam/host-policy.ts). */
export const HOST_POLICY_FORMS = ['exact-roles', 'role-path'] as const;
export type HostPolicyForm = (typeof HOST_POLICY_FORMS)[number];
export const DEFAULT_HOST_POLICY_FORM: HostPolicyForm = 'exact-roles';

const ACCOUNT_ID = /^\d{12}$/;
// The regions of every AWS partition (src/aws/partitions.ts): us-east-1, cn-north-1, us-gov-west-1,
// us-iso-east-1, us-isob-east-1, eu-isoe-west-1, us-isof-south-1, eusc-de-east-1, ...
const REGION = REGION_PATTERN;
const ARN_PARTITION = `(${PARTITIONS.join('|')})`;
// A role path is at most 512 characters ("/" included) and the name at most 64 (IAM quotas).
const IAM_ROLE_ARN = new RegExp(`^arn:${ARN_PARTITION}:iam::\\d{12}:role\\/(?=[\\w+=,.@/-]{1,576}$)([\\w+=,.@-]+\\/){0,255}[\\w+=,.@-]{1,64}$`);
// AWS CLI profile names as they appear in ~/.aws/config section headers.
const AWS_PROFILE = /^[A-Za-z0-9_.+@-]{1,64}$/;
// Linux system user names (useradd's default NAME_REGEX, without the trailing "$" for machine accounts).
const SYSTEM_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
// File paths on the operator's machine or the Aspera host: no spaces, quotes, "$" or other shell syntax.
const SAFE_PATH = /^[A-Za-z0-9_.\/~+@-]+$/;
// A DNS name; all-numeric dotted names are IP addresses and must pass IPV4 instead (see `host`).
const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const NUMERIC_DOTTED = /^[\d.]+$/;
const IPV4 = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const SSH_PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}$/;
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,30}$/;
// IAM paths ("/" or "/a/b/"), in the role-name character set: no "*" or "?", which a policy would read as wildcards.
const IAM_PATH = /^\/([\w+=,.@-]+\/)*$/;
const TERRAFORM_STATE_KEY = /^[A-Za-z0-9!_.*'()\/-]{1,1024}$/;
// A KMS key ARN: the key ID is a UUID, or "mrk-" and 32 hex digits for a multi-Region key.
const KMS_KEY_ARN = new RegExp(`^arn:${ARN_PARTITION}:kms:[a-z0-9-]+:\\d{12}:key\\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`);
// A key ID (a UUID, or "mrk-" and 32 hex digits for a multi-Region key), a key ARN or an alias.
const KMS_KEY = new RegExp(`^(arn:${ARN_PARTITION}:kms:[a-z0-9-]+:\\d{12}:(key|alias)\\/[A-Za-z0-9/_-]+|alias\\/[A-Za-z0-9/_-]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`);

/** Placeholders a docrootTemplate may use; see src/aspera/docroot.ts. */
export const DOCROOT_PLACEHOLDERS = ['roleArn', 'bucket', 'prefix', 'prefixSlashesEncoded', 'externalId', 'endpoint'] as const;

const DEFAULT_STACK_NAME = 'aspera-cross-account';

/**
 * How long Terraform may try to reach an Aspera host over SSH, as a Terraform duration ("90s",
 * "1m", "2m30s": whole minutes and/or seconds, one spelling per value). It bounds the connection
 * attempts (a refused or silent port, a host key that does not match), not the script once it
 * runs. Without one, Terraform waits 5 minutes. The bounds: below 10s a slow but healthy host
 * fails; above 30m a host that is down holds the apply or destroy for half an hour.
 * Both rules are patterns, so that editors check them as the CLI does.
 */
const DURATION_FORM = '[1-9][0-9]*m(?:(?:[1-9]|[1-5][0-9])s)?|[1-9][0-9]*s';
export const CONNECTION_TIMEOUT = new RegExp(`^(?:${DURATION_FORM})$`);
export const CONNECTION_TIMEOUT_BOUNDS = { min: '10s', max: '30m' } as const;
export const CONNECTION_TIMEOUT_IN_BOUNDS = new RegExp(
  '^(?:' +
    // 10s-1800s; 1m-29m, each with 1-59 seconds or none; 30m.
    '(?:[1-9][0-9]|[1-9][0-9]{2}|1[0-7][0-9]{2}|1800)s|(?:[1-9]|[12][0-9])m(?:(?:[1-9]|[1-5][0-9])s)?|30m' +
    // A value of another form has only the form's message.
    `|(?!(?:${DURATION_FORM})$).*` +
    ')$',
);
export const DEFAULT_CONNECTION_TIMEOUT = '1m';
export const DEFAULT_ASPERA_CONF_PATH = '/opt/aspera/etc/aspera.conf';

/**
 * Words that stand for a value known only at apply time in the host scripts, which Terraform
 * replaces everywhere in a script (src/aspera/host-scripts.ts, access-key.ts): no config value may
 * contain one, or the value (the seed of the access key secrets, say) would land where that
 * config value goes.
 */
export const SCRIPT_MARKERS = { externalId: 'ASPERAEXTERNALIDMARKER', accessKeySeed: 'ASPERAACCESSKEYSEEDMARKER' } as const;

/** What a grant installs on the Aspera hosts (src/aspera/access-key.ts decides the access key). */
export const INSTALL_TARGETS = ['docroot', 'access-key'] as const;
export type InstallTarget = (typeof INSTALL_TARGETS)[number];
export const DEFAULT_INSTALL_TARGETS: InstallTarget[] = ['docroot'];
/** HSTS serves the Node API over HTTPS on 9092 (HTTP on 9091, loopback only). */
export const DEFAULT_NODE_API_URL = 'https://127.0.0.1:9092';
/** The root-only file with the Node API user's credentials ("<node user>:<password>"), which the operator provides. */
export const DEFAULT_NODE_API_CREDENTIALS_FILE = '/opt/aspera/etc/aspera-cross-account/node-api.credentials';
/**
 * A Node API URL: scheme, host and port, nothing else (the script adds /access_keys). "http" only to
 * the host itself (a loopback address or "localhost"), where the traffic never leaves the machine.
 */
export const NODE_API_URL = /^https?:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(:[1-9][0-9]{0,4})?$/;
/**
 * The Aspera host itself, as a URL names it: localhost, [::1], or a whole 127.x.x.x IPv4 address
 * (127.0.0.1.2.3 would be a name that DNS resolves). The host script applies the same rule
 * (src/aspera/node-api-access-keys.sh, node_api_setup).
 */
export const LOOPBACK_HOST = '(127(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|localhost|\\[::1\\])';
export const isLoopbackHost = (host: string): boolean => new RegExp(`^${LOOPBACK_HOST}$`).test(host);
export const NODE_API_URL_LOOPBACK_OR_HTTPS = new RegExp(`^(https:\\/\\/.*|http:\\/\\/${LOOPBACK_HOST}(:[0-9]+)?)$`);
/** The S3 endpoint of the aws partition; other partitions default to their regional one (src/aws/partitions.ts). */
export const DEFAULT_S3_ENDPOINT = 's3.amazonaws.com';

/**
 * At most this many grants: each is an IAM role in My Account, and 5,000 is IAM's hard maximum of
 * roles per account (the default quota is 1,000; the review report says when a raised one is needed).
 */
export const MAX_GRANTS = IAM_QUOTAS.rolesPerAccountMax;
export const GRANTS_ABOVE_ROLE_QUOTA = `must contain at most ${withThousands(MAX_GRANTS)} grants: each grant is an IAM role in My Account, and ${withThousands(MAX_GRANTS)} roles per account is IAM's hard maximum (split the grants over several stacks and accounts)`;

/** A rule a string must satisfy: the pattern (also emitted into the editor schema) and what to say when it does not. */
type Rule = readonly [pattern: RegExp, message: string];

const PATTERN_MESSAGES = new Map<string, string>();

/**
 * Declares a pattern rule, for `.regex(...rule(pattern, message))`. Remembers the message so the
 * editor schema can show it too (as VS Code's "patternErrorMessage"); one message per pattern.
 */
function rule(pattern: RegExp, message: string): [RegExp, string] {
  const known = PATTERN_MESSAGES.get(pattern.source);
  if (known !== undefined && known !== message) throw new Error(`pattern ${pattern.source} has two messages: "${known}" and "${message}"`);
  PATTERN_MESSAGES.set(pattern.source, message);
  return [pattern, message];
}

/** What the CLI says when a value does not match `pattern` (a regex source from the editor schema). */
export const patternMessage = (patternSource: string): string | undefined => PATTERN_MESSAGES.get(patternSource);

const withRules = (schema: z.ZodString, rules: readonly Rule[]): z.ZodString => rules.reduce((s, [pattern, message]) => s.regex(...rule(pattern, message)), schema);

/** `{ error }` for a field: what to say when the value is missing or of the wrong type. */
const expected = (what: string) => ({ error: `must be ${what}` });

/**
 * `{ error }` for an object: what to say when it is missing or not an object. Only for that case:
 * unknown keys keep zod's own issue (load.ts reports each key by its path).
 */
const expectedObject = (what: string) => ({
  error: (issue: { code?: string }) => (issue.code === 'invalid_type' ? `must be ${what}` : undefined),
});

// S3 general purpose bucket naming rules (AWS "General purpose bucket naming rules").
const BUCKET_NAME_RULES: readonly Rule[] = [
  [/^[a-z0-9.-]*$/, 'may contain only lowercase letters, digits, "." and "-" (S3 bucket naming rules)'],
  [/^([A-Za-z0-9].*)?$/, 'must begin with a letter or digit'],
  [/^(.*[A-Za-z0-9])?$/, 'must end with a letter or digit'],
  [/^(?!.*\.\.)/, 'must not contain ".."'],
  [/^(?!\d+\.\d+\.\d+\.\d+$)/, 'must not be formatted as an IP address'],
  [/^(?!xn--|sthree-|amzn-s3-demo-)/, 'must not start with a prefix AWS reserves: "xn--", "sthree-", "amzn-s3-demo-"'],
  [/^(?!.*(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$)/, 'must not end with a suffix AWS reserves: "-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"'],
];

const bucketName = (what: string) =>
  withRules(
    z
      .string(expected(what))
      .min(3, 'must be 3-63 characters long (S3 bucket naming rules)')
      .max(63, 'must be 3-63 characters long (S3 bucket naming rules)'),
    BUCKET_NAME_RULES,
  );

const bucketNameSchema = bucketName('an S3 bucket name');

/** S3 general purpose bucket naming rules: one message per broken rule, [] for a valid name. */
export function bucketNameProblems(name: string): string[] {
  const result = bucketNameSchema.safeParse(name);
  return result.success ? [] : result.error.issues.map((issue) => issue.message);
}

const accountId = z
  .string(expected('a 12-digit AWS account ID written as a string, e.g. "111111111111"'))
  .regex(...rule(ACCOUNT_ID, 'must be exactly 12 digits, e.g. "111111111111"'));

const region = z
  .string(expected('an AWS region name such as "us-east-1"'))
  .regex(...rule(REGION, 'must be an AWS region name such as "us-east-1", "eu-central-1", "cn-north-1", "us-gov-west-1" or "eu-isoe-west-1"'));

// IAM role names: 1-64 characters of [\w+=,.@-].
const roleName = (what: string) =>
  z
    .string(expected(what))
    .min(1, 'must not be empty')
    .max(64, 'must be at most 64 characters (IAM role name limit)')
    .regex(...rule(/^[\w+=,.@-]*$/, 'may contain only letters, digits and + = , . @ _ - (IAM role name rules)'));

const roleArn = z
  .string(expected('an IAM role ARN'))
  .regex(...rule(IAM_ROLE_ARN, 'must be an IAM role ARN such as "arn:aws:iam::111111111111:role/terraform"'));

const iamPath = z
  .string(expected('an IAM path such as "/aspera/"'))
  .max(512, 'must be at most 512 characters (IAM path limit)')
  .regex(...rule(IAM_PATH, 'must be an IAM path: "/" or segments of letters, digits and + = , . @ _ - between slashes, e.g. "/aspera/"'));

const awsProfile = z
  .string(expected('an AWS CLI profile name'))
  .regex(...rule(AWS_PROFILE, 'must be an AWS CLI profile name: 1-64 characters of letters, digits and _ . + @ -'));

const systemUser = (what: string) =>
  z
    .string(expected(what))
    .regex(...rule(SYSTEM_USER, 'must be a system user name: 1-32 characters, lowercase letters, digits, "_" and "-", starting with a letter or "_"'));

const safePath = (what: string) =>
  z
    .string(expected(what))
    .min(1, `must be ${what}`)
    .max(1024, 'must be at most 1024 characters')
    .regex(...rule(SAFE_PATH, 'may contain only letters, digits and _ . / ~ + @ - (no spaces, quotes or "$")'));

/**
 * aspera.conf on an SSH host (asperaHosts) or on a fleet's instances (asperaFleets): one set of
 * rules for both, since both run the same install script, as root, on this path. It must name the
 * file itself: "/", "/opt/aspera/etc/" or "/opt/aspera/etc/." is a directory, and ".." would let
 * the path leave the directory it appears to be in.
 */
const asperaConfPath = (where: string) =>
  safePath(`an absolute path to aspera.conf on ${where}`)
    .regex(...rule(/^\//, 'must be an absolute path (starting with "/"), e.g. "/opt/aspera/etc/aspera.conf"'))
    .regex(...rule(/^(?!(.*\/)?\.\.(\/|$))/, 'must not contain ".." segments'))
    .regex(...rule(/^(.*[^/])?$/, 'must name a file, not a directory: no trailing "/" (e.g. "/opt/aspera/etc/aspera.conf")'))
    .regex(...rule(/^(?!(.*\/)?\.$)/, 'must name a file, not end in "/."'))
    .default(DEFAULT_ASPERA_CONF_PATH)
    .describe(`Absolute path of aspera.conf on ${where}. Default "${DEFAULT_ASPERA_CONF_PATH}".`);

const awsAccount = (role: string) =>
  z
    .strictObject({
      accountId: accountId.describe('12-digit AWS account ID, as a string.'),
      region: region.describe('Region for this account\'s AWS provider, e.g. "us-east-1". Both accounts must be in the same partition.'),
      profile: awsProfile
        .optional()
        .describe('AWS CLI profile with credentials for this account (from ~/.aws/config). Omit to use the default credential chain.'),
      assumeRoleArn: roleArn
        .optional()
        .describe('Instead of "profile": a role in this account that Terraform assumes, e.g. "arn:aws:iam::111111111111:role/terraform".'),
    }, expectedObject('an object { "accountId": "<12 digits>", "region": "<region>", "profile": "<profile>" }'))
    .describe(role);

const hostRole = z
  // One object with both fields optional (not a union), so that a typo inside it is reported as an
  // unknown field instead of "matches neither alternative"; the transform restores the union type.
  .strictObject({
    name: roleName('an IAM role name').optional().describe('Create an EC2 role with this name (and an instance profile) for the Aspera instance.'),
    existingRoleName: roleName('an IAM role name')
      .optional()
      .describe('Or: attach the assume-role policy to this existing role that the Aspera instance already runs with.'),
    arn: roleArn
      .optional()
      .describe('Mode "bucket-owner" only: the operator\'s role by its ARN (it may have a path), e.g. "arn:aws:iam::222222222222:role/aspera/transfer-host".'),
    path: iamPath
      .optional()
      .describe('With "name" or "existingRoleName": the role\'s IAM path, e.g. "/aspera/" (the ARN is then role/aspera/<name>). Default "/". An "arn" carries its path.'),
  }, expectedObject('an object { "name": "<role to create>" } or { "existingRoleName": "<role the Aspera instance already uses>" }'))
  // For editors: the "exactly one" rule below, as JSON Schema.
  .meta({ oneOf: [{ required: ['name'] }, { required: ['existingRoleName'] }, { required: ['arn'] }] })
  .superRefine((role, ctx) => {
    const given = [role.name, role.existingRoleName, role.arn].filter((v) => v !== undefined).length;
    if (given !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `must contain exactly one of "name" (a role to create) or "existingRoleName" (the role the Aspera instance already uses), or in mode "bucket-owner" "arn"${given === 0 ? '' : ', not several'}`,
      });
    }
    if (role.arn !== undefined && role.path !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['path'], message: 'is not used with "arn": the ARN carries the role\'s path; remove "path"' });
    }
  })
  .transform((role): { name: string; path?: string } | { existingRoleName: string; path?: string } | { arn: string } => {
    // "path" only when the config gives one: a role without it keeps exactly the output it had.
    const path = role.path === undefined || role.path === '/' ? {} : { path: role.path };
    if (role.name !== undefined) return { name: role.name, ...path };
    if (role.existingRoleName !== undefined) return { existingRoleName: role.existingRoleName, ...path };
    return { arn: role.arn as string };
  })
  .describe('The transfer host\'s IAM role in otherAccount: { "name": ... } to create one, or { "existingRoleName": ... }; in mode "bucket-owner" also { "arn": ... }.');

const bucket = z
  .strictObject({
    name: bucketNameSchema.describe('S3 bucket name in myAccount (S3 general purpose bucket naming rules).'),
    create: z
      .boolean(expected('true (create and harden the bucket) or false (use an existing bucket)'))
      .describe('true: create the bucket (public access block, encryption, owner-enforced, TLS-only policy). false: the bucket exists already.'),
    encryption: z
      .enum(BUCKET_ENCRYPTIONS, expected(`one of ${BUCKET_ENCRYPTIONS.map((e) => `"${e}"`).join(', ')}`))
      .optional()
      .describe(
        'Only for a bucket this stack creates: its default encryption. "sse-s3" (the default): S3-managed keys. "sse-kms": a KMS key, the one kmsKeyArn names or else one the stack creates (rotation on), with the S3 Bucket Key enabled; every grant on the bucket may use the key through S3 only.',
      ),
    kmsKeyArn: z
      .string(expected('a KMS key ARN, e.g. "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"'))
      .regex(...rule(KMS_KEY_ARN, 'must be a full KMS key ARN, "arn:<partition>:kms:<region>:<account>:key/<key ID>" (not an alias: IAM authorizes against the key)'))
      .optional()
      .describe(
        'The KMS key the bucket\'s objects are encrypted with (SSE-KMS), in myAccount.region, owned by myAccount or another account. An existing bucket names the key it already uses; a created bucket with "encryption": "sse-kms" uses it instead of creating one. Each grant on the bucket gets kms:Decrypt (read-write also kms:GenerateDataKey) on this key, through S3 only.',
      ),
  }, expectedObject('an object { "name": "<bucket>", "create": true|false }'))
  .describe('A bucket in myAccount that grants may name.');

const prefix = withRules(z.string(expected('a key prefix such as "incoming/partner-a", or "" for the whole bucket')).max(1024, 'must be at most 1024 characters'), [
  [/^(?!\/)/, 'must not start with "/"'],
  [/^[^*?]*$/, 'must not contain wildcards "*" or "?": the prefix is matched literally'],
  [/^(?!.*\.\.)/, 'must not contain ".."'],
  [/^[A-Za-z0-9._\/*?-]*$/, 'may contain only letters, digits, "/", ".", "_" and "-"'],
  [/^(?!.*\/\/)/, 'must not contain an empty segment "//"'],
  // (".." has its own message above.)
  [/^(?!(.*\/)?([_-]|\.(?!\.)))/, 'must start each "/"-separated segment with a letter or digit'],
])
  .default('')
  // One spelling per prefix: "incoming/a/" is stored as "incoming/a".
  .transform((p) => p.replace(/\/+$/, ''));

const grant = z
  .strictObject({
    transferUser: systemUser('an Aspera transfer user name (a system user name)').describe(
      'The Aspera transfer user (a system user on the host) whose docroot this grant sets. One grant per user.',
    ),
    bucket: z.string(expected('the name of a bucket declared in "buckets"')).describe('Name of a bucket declared in "buckets".'),
    prefix: prefix.describe('Key prefix the user is confined to, e.g. "incoming/partner-a"; "" (the default) for the whole bucket. No leading "/", no "..", no wildcards.'),
    access: z
      .enum(['read-write', 'read-only'], expected('"read-write" or "read-only"'))
      .describe('"read-write": upload, download, delete. "read-only": download and list.'),
    roleName: roleName('an IAM role name')
      .optional()
      .describe('Name of the cross-account role in myAccount. Default: "<stackName>-<transferUser>".'),
    roleArn: roleArn
      .optional()
      .describe('Mode "transfer-host" only, instead of "roleName": the bucket owner\'s role for this grant by its ARN (from their "grant_role_arns" output).'),
    installAs: z
      .array(z.enum(INSTALL_TARGETS, expected(INSTALL_TARGETS.map((t) => `"${t}"`).join(' or '))), expected('a list such as ["docroot"], ["access-key"] or ["docroot", "access-key"]'))
      .min(1, 'must name at least one of "docroot" and "access-key"')
      .refine((targets) => new Set(targets).size === targets.length, 'must not name a target twice')
      .default(DEFAULT_INSTALL_TARGETS)
      .describe(
        'What the Aspera hosts get for this grant. "docroot" (the default): the transfer user\'s S3 docroot in aspera.conf, for ascp transfer users on any Aspera version. ' +
          '"access-key": a Node API access key (HSTS 4.x) whose storage is this bucket and prefix and whose credentials assume the grant role with the External ID, ' +
          'for Faspex 5, Aspera on Cloud and Shares; its id and secret are in the outputs "access_keys" and "access_key_secrets". Both may be given.',
      ),
  }, expectedObject('an object { "transferUser": ..., "bucket": ..., "prefix": ..., "access": ... }'))
  .describe('Access for one Aspera transfer user to one bucket (and prefix).');

const hostGrammar = (h: string): boolean => (NUMERIC_DOTTED.test(h) ? IPV4.test(h) : HOSTNAME.test(h) || z.ipv6().safeParse(h).success);

const host = z
  .string(expected('a hostname or an IP address'))
  // One message per host: "0x7f.0.0.1", "10.1" are IPv4 addresses in disguise (src/ssh/host-address.ts).
  .superRefine((h, ctx) => {
    const grammar = hostGrammar(h);
    const problem = h.includes(':') ? undefined : grammar ? ipv4SpellingProblem(h) : disguisedIpv4(h) !== undefined ? ipv4SpellingProblem(h) : undefined;
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    else if (!grammar) ctx.addIssue({ code: 'custom', message: 'must be a hostname (e.g. "aspera.example.com") or an IPv4/IPv6 address' });
  });

/**
 * How the install script reaches the Node API on a host, for grants installed as access keys. The
 * script runs on the host, so the default URL is the host itself; nothing here is a secret: the
 * credentials stay in a root-only file on the host.
 */
const nodeApi = z
  .strictObject({
    url: z
      .string(expected('a Node API URL such as "https://127.0.0.1:9092"'))
      .regex(...rule(NODE_API_URL, 'must be a URL of the form "https://<host>[:<port>]" (scheme, host and port only: no path, user or query)'))
      .regex(...rule(NODE_API_URL_LOOPBACK_OR_HTTPS, 'must use https, unless the host is the Aspera host itself (127.0.0.1, localhost or [::1]): the request carries the Node API password'))
      .default(DEFAULT_NODE_API_URL)
      .describe(`The Node API as seen from the Aspera host (the script calls it there, as root). Default "${DEFAULT_NODE_API_URL}". ASPERA_NODE_API_URL overrides it when the script runs.`),
    credentialsFile: safePath('an absolute path on the host')
      .regex(...rule(/^\/(?!.*(^|\/)\.\.?(\/|$))/, 'must be an absolute path on the host without "." or ".." segments'))
      .default(DEFAULT_NODE_API_CREDENTIALS_FILE)
      .describe(
        `File on the host holding the Node API user's credentials as one line "<node user>:<password>", owned by root and readable by root only (the script refuses it otherwise). The operator creates it (see docs/access-keys.md); the credentials never pass through Terraform. Default "${DEFAULT_NODE_API_CREDENTIALS_FILE}".`,
      ),
    caFile: safePath('an absolute path on the host')
      .regex(...rule(/^\/(?!.*(^|\/)\.\.?(\/|$))/, 'must be an absolute path on the host without "." or ".." segments'))
      .optional()
      .describe(
        'PEM file on the host with the CA that signed the Node API\'s certificate. Without it, the certificate is checked against the system\'s CAs, except on a loopback URL (127.0.0.1, localhost, [::1]), where HSTS\'s self-signed certificate is accepted: that traffic never leaves the host.',
      ),
  }, expectedObject('an object { "url": ..., "credentialsFile": ... }'))
  .default({ url: DEFAULT_NODE_API_URL, credentialsFile: DEFAULT_NODE_API_CREDENTIALS_FILE })
  .describe(
    'Where the install script reaches the Node API of this host, for the grants installed as access keys ("installAs"). Called only when a grant asks for an access key or the host holds keys this stack created; ' +
      'changing it on an applied host replaces the host\'s resources (an uninstall, then an install).',
  );

const asperaHost = z
  .strictObject({
    host: host.describe('Hostname or IP address of the Aspera server (reachable over SSH from where cdktf apply runs).'),
    port: z
      .number(expected('a TCP port number'))
      .int('must be a whole number')
      .min(1, 'must be a TCP port from 1 to 65535')
      .max(65535, 'must be a TCP port from 1 to 65535')
      .default(22)
      .describe('SSH port. Default 22.'),
    user: systemUser('the SSH login user name').describe('SSH login user; needs passwordless sudo unless it is root.'),
    privateKeyPath: safePath('a path to the SSH private key on the machine that runs cdktf, e.g. "~/.ssh/aspera.pem"')
      // Terraform reads it with file(pathexpand(...)) in cdktf.out/stacks/<stack>/, not where cdktf
      // was run: a relative path would name another file. pathexpand knows "~/" but not "~user/".
      .regex(
        ...rule(
          /^(\/|~\/)/,
          'must be an absolute path ("/home/ops/.ssh/aspera.pem") or start with "~/": Terraform reads the key from the synthesized stack\'s directory, where a relative path (or "~user/") names another file',
        ),
      )
      .optional()
      .describe('SSH private key on the machine that runs cdktf (read at apply time, never stored in state): an absolute path or "~/...". Omit to use the SSH agent.'),
    asperaConfPath: asperaConfPath('the host'),
    nodeApi,
    hostKey: z
      .string(expected('the server\'s SSH public host key'))
      .regex(...rule(SSH_PUBLIC_KEY, 'must be the server\'s SSH public host key, e.g. "ssh-ed25519 AAAAC3Nza..." (no comment)'))
      // The blob itself must be a key of the stated type (src/ssh/host-key.ts); only once it looks like one.
      .superRefine((key, ctx) => {
        if (!SSH_PUBLIC_KEY.test(key)) return;
        const problem = hostKeyProblem(key);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional()
      .describe('The server\'s SSH public host key ("ssh-ed25519 AAAA..."), pinned for the connection.'),
    connectionTimeout: z
      .string(expected('a duration such as "90s" or "1m", written as a string'))
      .regex(...rule(CONNECTION_TIMEOUT, 'must be a duration of whole minutes "m" and/or seconds "s", such as "90s", "1m" or "2m30s" (no leading zeros, no "0s", 1-59 seconds after minutes)'))
      .regex(...rule(CONNECTION_TIMEOUT_IN_BOUNDS, `must be from ${CONNECTION_TIMEOUT_BOUNDS.min} to ${CONNECTION_TIMEOUT_BOUNDS.max}: shorter fails a slow but healthy host, longer lets a host that is down hold the apply`))
      .default(DEFAULT_CONNECTION_TIMEOUT)
      .describe(
        `How long Terraform tries to reach the host over SSH before it gives up, on install and on uninstall: a duration from ${CONNECTION_TIMEOUT_BOUNDS.min} to ${CONNECTION_TIMEOUT_BOUNDS.max} ` +
          `such as "90s" or "2m30s". Default "${DEFAULT_CONNECTION_TIMEOUT}". A down host or a host key that does not match fails the apply after this long; a destroy goes on without the host.`,
      ),
    retired: z
      .boolean(expected('true (uninstall on the next apply, then stop managing the host) or false'))
      .default(false)
      .describe(
        'true: the next apply runs the uninstall on this host (the plan shows it as the host\'s "retirement" resource) and stops installing there; ' +
          'remove the entry once that apply has succeeded. Removing an entry that is not retired runs nothing on the host. Default false.',
      ),
  }, expectedObject('an object { "host": ..., "user": ..., "port": ..., "privateKeyPath": ..., "asperaConfPath": ... }'))
  .describe('An Aspera server whose aspera.conf receives the grants\' docroots.');

// ---- Fleets: Aspera instances configured by AWS Systems Manager State Manager instead of SSH ----

/** SSM association compliance severities (CreateAssociation, ComplianceSeverity). */
export const COMPLIANCE_SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNSPECIFIED'] as const;
export const DEFAULT_COMPLIANCE_SEVERITY = 'HIGH';
/** How long apply waits for the first run of an association to succeed on every matched instance. */
export const WAIT_FOR_SUCCESS_BOUNDS = { min: 60, max: 3600, default: 900 } as const;
/** CreateAssociation takes at most 5 targets. */
export const MAX_ASSOCIATION_TARGETS = 5;
export const FLEET_NAME = /^[a-z][a-z0-9-]{0,29}[a-z0-9]$/;
// EC2 tag keys and values are wider than this (any Unicode letter, spaces, + - = . _ : / @); these
// reach Terraform strings and the review report, so "$", "%", quotes and braces are kept out.
const TAG_KEY = /^(?!aws:)[A-Za-z0-9 +=._:\/@-]{1,128}$/;
const TAG_VALUE = /^[A-Za-z0-9 +=._:\/@-]{0,256}$/;
// Auto Scaling group names may hold more; these are the characters a name in Terraform may hold safely.
const ASG_NAME = /^[A-Za-z0-9._:\/@+=-]{1,255}$/;
// "*", "?" and "$" are in this set only so that they get their own message (S3_KEY_PREFIX_LITERAL).
const S3_KEY_PREFIX = /^[A-Za-z0-9!_.'()\/*?$-]{1,500}$/;
// The prefix goes into the Resource of the instances' S3 output policy (src/iam/fleet-policy.ts),
// where IAM reads "*" and "?" as wildcards and "${...}" as a policy variable.
const S3_KEY_PREFIX_LITERAL = /^[^*?$]*$/;

const fleetTargets = z
  .strictObject({
    autoScalingGroupName: z
      .string(expected('the name of an Auto Scaling group in otherAccount'))
      .regex(...rule(ASG_NAME, 'must be an Auto Scaling group name of 1-255 letters, digits and . _ : / @ + = -'))
      .optional()
      .describe('Every instance of this Auto Scaling group (the tag aws:autoscaling:groupName, which Auto Scaling puts on its instances), those launched later included.'),
    tags: z
      .array(
        z.strictObject({
          key: z.string(expected('an EC2 tag key')).regex(...rule(TAG_KEY, 'must be an EC2 tag key of 1-128 letters, digits, spaces and + = . _ : / @ -, not starting with "aws:"')).describe('Tag key, e.g. "Role".'),
          values: z
            .array(z.string(expected('a tag value')).regex(...rule(TAG_VALUE, 'must be an EC2 tag value of 0-256 letters, digits, spaces and + = . _ : / @ -')), expected('a list of tag values'))
            .min(1, 'must list at least one value')
            .max(50, 'must list at most 50 values (SSM target values)')
            .describe('The instance\'s tag must have one of these values.'),
        }, expectedObject('an object { "key": "Role", "values": ["aspera"] }')),
        expected('a list of tags such as [{ "key": "Role", "values": ["aspera"] }]'),
      )
      .optional()
      .describe('Instances carrying every one of these tags, each with one of its values, e.g. [{ "key": "Role", "values": ["aspera"] }].'),
  }, expectedObject('an object { "autoScalingGroupName": ... } and/or { "tags": { ... } }'))
  .describe('Which managed instances in otherAccount the association applies to; an instance must match every target given (see docs/limitations.md on several targets).');

/** A key prefix that goes into an IAM policy as it is: no wildcard, no policy variable, no empty or leading segment. */
const literalKeyPrefix = (example: string, describe: string) =>
  z
    .string(expected(`an S3 key prefix such as "${example}"`))
    .regex(...rule(S3_KEY_PREFIX, 'must be an S3 key prefix of 1-500 safe characters (letters, digits, ! _ . \' ( ) / -)'))
    .regex(
      ...rule(
        S3_KEY_PREFIX_LITERAL,
        'must not contain "*", "?" or "$": the prefix is part of the instances\' IAM policy (the ARN of the objects they may read or write), where IAM would read it as a wildcard or a policy variable ("${...}"), so the policy would allow more than the prefix',
      ),
    )
    .regex(...rule(/^(?!\/)/, 'must not start with "/"'))
    .regex(...rule(/^(?!.*\/\/)/, 'must not contain an empty segment "//"'))
    // One spelling: "ssm/aspera/" is stored as "ssm/aspera" (the agent adds its own "/").
    .transform((p) => p.replace(/\/+$/, ''))
    .optional()
    .describe(describe);

const fleetOutputS3 = z
  .strictObject({
    bucket: bucketName('the name of an S3 bucket in otherAccount for the command output').describe('S3 bucket (in otherAccount) for the full command output.'),
    keyPrefix: literalKeyPrefix('ssm/aspera', 'Key prefix for the output objects, e.g. "ssm/aspera"; also the prefix the instances\' IAM policy allows them to write under.'),
    region: region.optional().describe('Region of that bucket. Default: otherAccount.region.'),
  }, expectedObject('an object { "bucket": ..., "keyPrefix": ... }'))
  .describe('Where SSM Agent uploads the full output of each run (the console keeps only the first 2,500 characters).');

const fleetScriptS3 = z
  .strictObject({
    bucket: bucketName('the name of an S3 bucket in otherAccount for the fleet scripts').describe(
      'S3 bucket in otherAccount, in otherAccount.region, where the stack puts the fleet\'s host script (it holds the docroots, so the External ID): the instances download it with their own role. One bucket can serve every stack and fleet.',
    ),
    keyPrefix: literalKeyPrefix('aspera/scripts', 'Key prefix under which the scripts go (then <stackName>/<myAccount>/<fleet>/), e.g. "aspera/scripts"; the instances\' IAM policy allows reading under that path only.'),
  }, expectedObject('an object { "bucket": ..., "keyPrefix": ... }'))
  .describe(
    'Where the host script reaches the instances: SSM documents hold at most 64 KB, and the script (its constant logic alone is over 50 KB, plus about 250 bytes per grant) does not fit in one. The document downloads it from here (aws:downloadContent) and runs it.',
  );

const asperaFleet = z
  .strictObject({
    name: z
      .string(expected('a fleet name'))
      .regex(...rule(FLEET_NAME, 'must be 2-31 characters of lowercase letters, digits and "-", starting with a letter and not ending with "-"'))
      .describe('Names this group in resource names, the SSM document and the review report, e.g. "transfer-asg".'),
    targets: fleetTargets,
    asperaConfPath: asperaConfPath('the instances'),
    nodeApi,
    docroots: z
      .enum(['installed', 'removed'], expected('"installed" or "removed"'))
      .default('installed')
      .describe(
        '"installed" (default): the association runs the install script on every matching instance. "removed": it runs the uninstall script instead; ' +
          'apply that before removing the fleet (removing an association runs nothing on the instances).',
      ),
    complianceSeverity: z
      .enum(COMPLIANCE_SEVERITIES, expected(COMPLIANCE_SEVERITIES.map((s) => `"${s}"`).join(', ')))
      .default(DEFAULT_COMPLIANCE_SEVERITY)
      .describe(`Severity State Manager reports for an instance where the script failed. Default "${DEFAULT_COMPLIANCE_SEVERITY}".`),
    waitForSuccessSeconds: z
      .number(expected('a number of seconds'))
      .int('must be a whole number of seconds')
      .min(WAIT_FOR_SUCCESS_BOUNDS.min, `must be from ${WAIT_FOR_SUCCESS_BOUNDS.min} to ${WAIT_FOR_SUCCESS_BOUNDS.max} seconds`)
      .max(WAIT_FOR_SUCCESS_BOUNDS.max, `must be from ${WAIT_FOR_SUCCESS_BOUNDS.min} to ${WAIT_FOR_SUCCESS_BOUNDS.max} seconds`)
      .default(WAIT_FOR_SUCCESS_BOUNDS.default)
      .describe(`How long apply waits for the association's first run to succeed; a failure or no success by then fails the apply. Default ${WAIT_FOR_SUCCESS_BOUNDS.default}.`),
    scriptS3: fleetScriptS3,
    outputS3: fleetOutputS3.optional(),
  }, expectedObject('an object { "name": ..., "targets": { ... } }'))
  .describe('A group of Aspera instances in otherAccount configured by AWS Systems Manager State Manager (no SSH): the same install script the SSH hosts receive.');

const localState = z.strictObject({
  backend: z.literal('local'),
  path: safePath('a path for the local state file')
    .regex(...rule(/^(?!~)/, 'must not start with "~": Terraform does not expand it; write the full path'))
    // Terraform runs in cdktf.out/stacks/<stack>/: left relative, the state would land inside
    // cdktf.out. Resolve it where cdktf runs, as cdktf does for its default path.
    .transform((p) => resolve(p))
    .optional()
    .describe('State file path; a relative path is taken from the directory where cdktf runs. Default: terraform.<stackName>.tfstate there.'),
});

const s3State = z.strictObject({
  backend: z.literal('s3'),
  bucket: bucketName('the name of the S3 bucket that holds Terraform state').describe('S3 bucket for the Terraform state.'),
  key: z
    .string(expected('the object key of the state file, e.g. "aspera/cross-account.tfstate"'))
    .regex(...rule(TERRAFORM_STATE_KEY, 'must be an S3 object key of 1-1024 safe characters (letters, digits, ! _ . * \' ( ) / -)'))
    .regex(...rule(/^(?!\/)/, 'must not start with "/"'))
    .describe('Object key of the state file, e.g. "aspera/cross-account.tfstate".'),
  region: region.describe('Region of the state bucket.'),
  profile: awsProfile.optional().describe('AWS CLI profile for the state bucket.'),
  kmsKeyId: z.string(expected('a KMS key ID, key ARN or alias')).regex(...rule(KMS_KEY, 'must be a KMS key ID, key ARN or alias')).optional().describe('KMS key for state encryption (default: SSE-S3).'),
});

// The other half's state, read (never written) by mode "bucket-owner" or "transfer-host".
const otherHalfState = z
  .strictObject({
    bucket: bucketName('the name of the S3 bucket that holds the other half\'s Terraform state').describe('S3 bucket of the other half\'s state.'),
    key: z
      .string(expected('the object key of the other half\'s state file, e.g. "aspera/transfer-host.tfstate"'))
      .regex(...rule(TERRAFORM_STATE_KEY, 'must be an S3 object key of 1-1024 safe characters (letters, digits, ! _ . * \' ( ) / -)'))
      .regex(...rule(/^(?!\/)/, 'must not start with "/"'))
      .describe('Object key of the other half\'s state file.'),
    region: region.describe('Region of that bucket.'),
    profile: awsProfile.optional().describe('AWS CLI profile that may read that object (s3:GetObject). Omit to use the default credential chain.'),
  }, expectedObject('an object { "bucket": ..., "key": ..., "region": ..., "profile": ... }'))
  .describe('Modes "bucket-owner" and "transfer-host": read the other half\'s published outputs from its S3 state instead of taking them from this config.');

const state = z
  .discriminatedUnion('backend', [localState, s3State], {
    error: 'must be { "backend": "local" } or { "backend": "s3", "bucket": ..., "key": ..., "region": ... }',
  })
  .default({ backend: 'local' })
  .describe('Where Terraform keeps the state. Default { "backend": "local" }. S3 state is always encrypted and locked with a lock file.');

const docrootTemplate = z
  .string(expected('a docroot template string'))
  .min(1, 'must not be empty')
  .max(2048, 'must be at most 2048 characters')
  .regex(...rule(/^[A-Za-z0-9{}:\/.@;=_%+,?-]*$/, 'may contain only letters, digits, {placeholders} and : / . @ ; = _ % + , ? -'))
  .regex(...rule(/^(?!.*\{prefix\}.*\{prefixSlashesEncoded\}|.*\{prefixSlashesEncoded\}.*\{prefix\})/, 'uses both {prefix} and {prefixSlashesEncoded}: they are two spellings of the same path, use one'))
  .superRefine((template, ctx) => {
    const used = [...template.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]);
    for (const name of used) {
      if (!(DOCROOT_PLACEHOLDERS as readonly string[]).includes(name)) {
        ctx.addIssue({ code: 'custom', message: `unknown placeholder {${name}}; allowed: ${DOCROOT_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}` });
      }
    }
    for (const required of ['roleArn', 'bucket'] as const) {
      if (!used.includes(required)) ctx.addIssue({ code: 'custom', message: `must contain {${required}}` });
    }
    // Every grant role's trust policy requires sts:ExternalId: a docroot without it can never assume the role.
    if (!used.includes('externalId')) {
      ctx.addIssue({ code: 'custom', message: 'must contain {externalId}: every grant role requires the External ID, so a docroot without it could never assume its role' });
    }
    if (template.replace(/\{[^{}]*\}/g, '').match(/[{}]/)) {
      ctx.addIssue({ code: 'custom', message: 'has an unbalanced "{" or "}"' });
    }
  });

/** An STS External ID, by STS's rules: the one definition of "externalId" and "nextExternalId". */
const stsExternalId = z
  .string(expected('an External ID: 2-1224 characters of letters, digits and _ + = , . @ : / -'))
  .min(2, 'must be at least 2 characters (STS ExternalId rules)')
  .max(1224, 'must be at most 1224 characters (STS ExternalId rules)')
  .regex(...rule(/^[\w+=,.@:/-]*$/, 'may contain only letters, digits and _ + = , . @ : / - (STS ExternalId rules)'));

export const configObject = z.strictObject({
  $schema: z.string(expected('a path or URL of the JSON schema')).optional().describe('For editors: "./aspera.config.schema.json".'),
  stackName: z
    .string(expected('a stack name'))
    .regex(...rule(STACK_NAME, 'must be 1-31 characters of letters, digits and "-", starting with a letter'))
    .default(DEFAULT_STACK_NAME)
    .describe(`Name of the cdktf stack; also the prefix of derived role names. Default "${DEFAULT_STACK_NAME}".`),
  mode: z
    .enum(MODES, expected(`one of ${MODES.map((m) => `"${m}"`).join(', ')}`))
    .default(DEFAULT_MODE)
    .describe(
      'What this stack applies. "both" (default): everything, with credentials for both accounts. "bucket-owner": only My Account\'s half; ' +
        '"transfer-host": only Other Account\'s half, for when the two accounts belong to two organizations that each apply their own half.',
    ),
  externalId: stsExternalId
    .optional()
    .describe(
      'The External ID every grant role requires in sts:AssumeRole (STS rules: 2-1224 characters of letters, digits and _ + = , . @ : / -). ' +
        'Required in mode "both". Mode "transfer-host" generates one when it is left out; mode "bucket-owner" may read it with "otherHalfState".',
    ),
  nextExternalId: stsExternalId
    .optional()
    .describe(
      'The External ID to rotate to, without an outage (same rules as externalId, and different from it). While it is set, the grant roles\' trust ' +
        'accepts both externalId (in mode "bucket-owner" with "otherHalfState": the one read from the operator\'s state) and this one, and everything ' +
        'the Aspera hosts use (docroots, host scripts, SSM scripts, the outputs "docroots" and "external_id") carries this one. Two organizations: the ' +
        'bucket owner adds it and applies first. Once every host presents it, promote: set externalId to this value and remove nextExternalId ' +
        '(the hosts do not change; the trust stops accepting the old one). Also how a generated External ID is rotated.',
    ),
  myAccount: awsAccount('My Account: the bucket owner. Buckets and the grant roles are created here.'),
  otherAccount: awsAccount('Other Account: owner of the Aspera transfer host. The host role and its assume-role policy live here.'),
  hostRole,
  hostPolicy: z
    .enum(HOST_POLICY_FORMS, expected(`one of ${HOST_POLICY_FORMS.map((f) => `"${f}"`).join(', ')}`))
    .default(DEFAULT_HOST_POLICY_FORM)
    .describe(
      'How the transfer host role\'s policy names the grant roles. "exact-roles" (default): it lists every grant role ARN (164 grants with the example config\'s names, 103 with 64-character role names: ' +
        'IAM\'s 10,240 characters of inline policy per role). "role-path": the grant roles are created under the IAM path /aspera/<stackName>/ and the ' +
        'policy allows that path, at a constant size for any number of grants. Switching an applied stack replaces every grant role.',
    ),
  buckets: z.array(bucket, expected('a list of buckets')).min(1, 'must declare at least one bucket').describe('Buckets in myAccount that grants may name.'),
  grants: z
    .array(grant, expected('a list of grants'))
    .min(1, 'must contain at least one grant')
    .max(MAX_GRANTS, GRANTS_ABOVE_ROLE_QUOTA)
    .describe(`One entry per Aspera transfer user (at most ${MAX_GRANTS}: one IAM role each).`),
  asperaHosts: z
    .array(asperaHost, expected('a list of Aspera hosts'))
    .default([])
    .describe('Aspera servers to configure over SSH. Default []: roles and policies only, no host is touched.'),
  asperaFleets: z
    .array(asperaFleet, expected('a list of Aspera fleets'))
    .default([])
    .describe('Groups of Aspera instances to configure through AWS Systems Manager State Manager, by tag or Auto Scaling group. Default [].'),
  s3Endpoint: z
    .string(expected('an S3 endpoint host name'))
    .regex(...rule(HOSTNAME, 'must be an S3 endpoint host name such as "s3.amazonaws.com" or "s3.eu-west-1.amazonaws.com"'))
    // Defaulted after validation from myAccount.region (src/config/schema.ts).
    .optional()
    .describe(
      `S3 endpoint host in the docroots, in the partition of myAccount.region. Default "${DEFAULT_S3_ENDPOINT}" in the aws partition, "s3.<region>.<partition's DNS suffix>" elsewhere (e.g. "s3.cn-north-1.amazonaws.com.cn").`,
    ),
  docrootTemplate: docrootTemplate
    .optional()
    .describe(
      `Override of the docroot form. Placeholders: ${DOCROOT_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}; {roleArn}, {bucket} and {externalId} are required. ` +
        '{prefix} is "/seg/seg" with the "/" kept; {prefixSlashesEncoded} is "%2Fseg%2Fseg", every "/" encoded, the one after the bucket included ' +
        '(as in the example of IBM\'s "URL encoding" page); both are "" for the whole bucket, and a template uses one of them.',
    ),
  otherHalfState: otherHalfState.optional(),
  state,
})
  // For editors: "externalId" is required unless the mode is one of the halves (see MODE_CHECKS in modes.ts).
  .meta({
    if: { properties: { mode: { enum: MODES.filter((m) => m !== 'both') } }, required: ['mode'] },
    else: { required: ['externalId'] },
  });

/** A config that passed the field grammar, before the checks across fields and the defaults derived after them. */
export type ConfigShape = z.output<typeof configObject>;

