/**
 * The Node API access key a grant gets on the Aspera hosts when it asks for one ("installAs":
 * ["access-key"]). Pure: config in, data out. It decides one thing: what the key is - its id, its
 * storage, the credentials it assumes the grant role with, and how its secret is derived.
 *
 * IBM documents this form (Node API 4.4.x, "IBM Aspera Node API" OpenAPI 4.4.6, POST /access_keys,
 * schemas accessKeyRequest, accessKeyStorageRequest, accessKeycreds): storage "aws_s3" with the
 * bucket, the endpoint and the path within the bucket, and credentials "assume-role" with
 * assume_role_arn, assume_role_external_id and assume_role_session_name. The node then assumes the
 * grant role with the External ID for every transfer the key authorizes, exactly as a docroot does.
 *
 *  - id: "<stackName>-<My Account>-<transfer user>". The stack and My Account keep customers'
 *    stacks apart on one node, as they do in the host's docroot state; the transfer user names the
 *    grant. The install script refuses an id that exists on the node and that this stack did not
 *    create (it never takes a key over).
 *  - session name: "<stackName>.<transfer user>" (STS RoleSessionName: 2-64 of letters, digits and
 *    _ + = , . @ -), so that the bucket owner's CloudTrail says which stack and grant assumed the role.
 *  - path: "/" and the grant's prefix ("/" for the whole bucket), as the Node API spells a path.
 *  - secret: SHA-256, in lowercase hex, of "<seed>:<id>", the seed being 16 random bytes this
 *    stack generates once (random_bytes.access_key_secret_seed, in the state). Terraform computes the
 *    same value for the sensitive output "access_key_secrets"; the host computes it from the seed,
 *    which reaches it inside the install script at apply time only. One seed, not one random value
 *    per key: the script then carries one value whatever the number of keys, and a key's secret
 *    tells nothing about another's. Replacing the seed (terraform apply -replace) gives every key
 *    a new secret on the next install. The seed is random_bytes, whose value the random provider
 *    marks sensitive (random_id shows its value as the resource id in every plan's log); it is
 *    spliced into the install script with nonsensitive(), since Terraform would otherwise hide the
 *    script's whole output, its error messages included, and Terraform never displays a script.
 */
import type { Config, Grant, InstallTarget } from '../config/schema';
import { externalIdValue, SCRIPT_MARKERS } from '../config/schema';
import { grantRoleArn, normalizePrefix } from '../iam/arns';

/** Stands for the seed in a script rendered at synth time; Terraform puts the value in at apply. Capital letters only, like EXTERNAL_ID_MARKER. */
export const ACCESS_KEY_SEED_MARKER = SCRIPT_MARKERS.accessKeySeed;

/** Size of the seed: 16 random bytes, 32 lowercase hex digits (random_bytes.length). */
export const ACCESS_KEY_SEED_BYTES = 16;

/** Terraform name of the seed: random_bytes.access_key_secret_seed. */
export const ACCESS_KEY_SEED_ID = 'access_key_secret_seed';

/** The storage of an access key, as POST and PUT /access_keys send it (accessKeyStorageRequest). */
export interface AccessKeyStorage {
  readonly type: 'aws_s3';
  readonly bucket: string;
  readonly endpoint: string;
  readonly path: string;
  readonly credentials: {
    readonly type: 'assume-role';
    readonly assume_role_arn: string;
    readonly assume_role_external_id: string;
    readonly assume_role_session_name: string;
  };
}

/** One grant's access key: everything but the secret. */
export interface AccessKey {
  readonly transferUser: string;
  readonly id: string;
  readonly storage: AccessKeyStorage;
}

/** What a grant installs on the hosts ("installAs"); a grant of the config, or of the review's model. */
type InstallsAs = { readonly installAs: readonly InstallTarget[] };
export const installsDocroot = (grant: InstallsAs): boolean => grant.installAs.includes('docroot');
export const installsAccessKey = (grant: InstallsAs): boolean => grant.installAs.includes('access-key');

/** True when some grant asks for an access key: the stack then needs the seed and the hosts their Node API. */
export const hasAccessKeys = (config: Pick<Config, 'grants'>): boolean => config.grants.some(installsAccessKey);

export const accessKeyId = (config: Pick<Config, 'stackName' | 'myAccount'>, grant: Pick<Grant, 'transferUser'>): string =>
  `${config.stackName}-${config.myAccount.accountId}-${grant.transferUser}`;

export const accessKeySessionName = (config: Pick<Config, 'stackName'>, grant: Pick<Grant, 'transferUser'>): string => `${config.stackName}.${grant.transferUser}`;

/** The path within the bucket, as the Node API spells it: "/" for the whole bucket, else "/seg/seg". */
export const accessKeyPath = (grant: Pick<Grant, 'prefix'>): string => `/${normalizePrefix(grant.prefix)}`;

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

/** What an access key is, apart from the External ID (which may be known at plan time only): for outputs and the review. */
export interface AccessKeyFacts {
  readonly transferUser: string;
  readonly id: string;
  readonly bucket: string;
  readonly path: string;
  readonly roleArn: string;
  readonly sessionName: string;
}

export function accessKeyFacts(config: Config, grant: Grant): AccessKeyFacts {
  const id = accessKeyId(config, grant);
  const sessionName = accessKeySessionName(config, grant);
  // Defence in depth: the schema allows far less; these values go into JSON and a URL path as they are.
  if (!ID.test(id)) throw new Error(`internal: access key id ${JSON.stringify(id)} is not letters, digits and . _ -`);
  if (!SESSION_NAME.test(sessionName)) throw new Error(`internal: session name ${JSON.stringify(sessionName)} is not an STS RoleSessionName`);
  return { transferUser: grant.transferUser, id, bucket: grant.bucket, path: accessKeyPath(grant), roleArn: grantRoleArn(config, grant), sessionName };
}

/** The access key facts of a config, in grant order. */
export const accessKeysFacts = (config: Config): AccessKeyFacts[] => config.grants.filter(installsAccessKey).map((grant) => accessKeyFacts(config, grant));

/** The access key of a grant that asks for one, with the External ID the config carries (the one the hosts present). */
export function grantAccessKey(config: Config, grant: Grant): AccessKey {
  const facts = accessKeyFacts(config, grant);
  return {
    transferUser: facts.transferUser,
    id: facts.id,
    storage: {
      type: 'aws_s3',
      bucket: facts.bucket,
      endpoint: config.s3Endpoint,
      path: facts.path,
      credentials: {
        type: 'assume-role',
        assume_role_arn: facts.roleArn,
        assume_role_external_id: externalIdValue(config),
        assume_role_session_name: facts.sessionName,
      },
    },
  };
}

/** The access keys of a config, in grant order. */
export const accessKeys = (config: Config): AccessKey[] => config.grants.filter(installsAccessKey).map((grant) => grantAccessKey(config, grant));

/**
 * The secrets as Terraform computes them for the output "access_key_secrets": the same derivation
 * as the host script's (sha256 of "<seed>:<id>"). `seedReference` is a plain reference, e.g.
 * "random_bytes.access_key_secret_seed.hex".
 */
export const accessKeySecretsExpression = (ids: readonly string[], seedReference: string): Record<string, string> =>
  Object.fromEntries(ids.map((id) => [id, `\${sha256("\${${seedReference}}:${id}")}`]));
