/**
 * The contract between the two halves (mode "bucket-owner" and mode "transfer-host"): the
 * Terraform outputs each half publishes for the other, what they contain, and what the reading
 * half checks before it relies on them. Pure: config in, names, values and conditions out.
 *
 * The two halves are applied by two organizations from two states, possibly with two versions of
 * this code; these output names are therefore an interface, kept stable and tested by name.
 *
 * What crosses over, and why only that:
 *  - transfer host -> bucket owner: the External ID (the operator chooses it, as AWS recommends for
 *    the party that assumes the role), and the host role's ARN, which the bucket owner does NOT take
 *    over: it trusts the ARN its own config names, and the read only checks that both agree. Which
 *    principal may enter My Account stays a decision written in My Account's reviewed config.
 *  - bucket owner -> transfer host: the grants as created (role ARN, bucket, prefix, access), the
 *    role they trust and the SHA-256 of every External ID they accept (two during a rotation, see
 *    src/modes/external-id.ts; and, for operators on versions before rotations, that of the
 *    current one alone). The transfer host derives every ARN it needs from its own config (the
 *    docroots on the Aspera host are rendered at synth time, so they cannot wait for plan-time
 *    values); the read checks that the bucket owner built
 *    exactly that, so a mismatch fails the plan instead of installing docroots that cannot work.
 *  - both ways: the IAM path of the grant roles ("grant_role_path"; "/" unless "hostPolicy" is
 *    "role-path"), so that the two halves agree on the host policy's form: the operator's policy
 *    allows either exactly the role ARNs or every role under the path, and either only works with
 *    roles created that way.
 */
import type { Config, Grant } from '../config/schema';
import { grantRoleArn, grantRolePathOf, hostRoleArn, normalizePrefix } from '../iam/arns';
import { hclLiteral, hclString, templateText } from './hcl';
import { s3Uri } from '../aws/arns';
import { sha256Hex } from '../sha256';
import type { PresentedBy } from '../modes/external-id';

/**
 * Outputs of the bucket-owner half. Mode "both" publishes only grant_role_arns of these: the others
 * are read by the operator's stack alone, and mode "both" has none (src/modes/compose.ts).
 */
export const BUCKET_OWNER_OUTPUTS = {
  accountId: 'bucket_owner_account_id',
  grantRoleArns: 'grant_role_arns',
  grants: 'grants',
  trustedHostRoleArn: 'trusted_host_role_arn',
  /** SHA-256 of the current External ID ("externalId", or the one read from the operator's state). */
  externalIdSha256: 'external_id_sha256',
  /** SHA-256 of every External ID the trust accepts; versions before rotations publish none. */
  externalIdSha256s: 'external_id_sha256s',
  grantRolePath: 'grant_role_path',
} as const;

/**
 * Outputs of the transfer-host half. Mode "both" publishes the host role's ARN, the instance
 * profile, the docroots and the External ID, not the account ID and grant-role path that only the
 * bucket owner's stack reads (src/modes/compose.ts).
 */
export const TRANSFER_HOST_OUTPUTS = {
  accountId: 'transfer_host_account_id',
  hostRoleArn: 'transfer_host_role_arn',
  externalId: 'external_id',
  instanceProfileName: 'instance_profile_name',
  docroots: 'docroots',
  grantRolePath: 'grant_role_path',
} as const;

/**
 * One grant as the bucket owner publishes it: what the transfer host's docroot must match. Keys in
 * the order Terraform's jsonencode writes them, so a mismatch message shows both sides alike.
 */
export interface PublishedGrant {
  readonly access: Grant['access'];
  readonly bucket: string;
  readonly prefix: string;
  readonly role_arn: string;
}

export function publishedGrants(config: Config): Record<string, PublishedGrant> {
  return Object.fromEntries(
    [...config.grants]
      .sort((a, b) => (a.transferUser < b.transferUser ? -1 : a.transferUser > b.transferUser ? 1 : 0))
      .map((grant) => [
        grant.transferUser,
        { access: grant.access, bucket: grant.bucket, prefix: normalizePrefix(grant.prefix), role_arn: grantRoleArn(config, grant) },
      ]),
  );
}

export { sha256Hex } from '../sha256';

/** Where the other half's state lives, as a config names it. */
export interface OtherHalfState {
  readonly bucket: string;
  readonly key: string;
  readonly region: string;
  readonly profile?: string;
}

const where = (state: OtherHalfState): string => s3Uri(state.bucket, state.key);

/** A check on the other half's outputs, as a postcondition of the terraform_remote_state data source. */
export interface OutputCheck {
  /** A Terraform expression over self.outputs, as "${...}". */
  readonly condition: string;
  /** A Terraform template: may show what the other half published, never a secret. */
  readonly errorMessage: string;
}

/**
 * Every output the reading half uses, null when the other half has not published it: Terraform
 * then reports the check below ("has not published ...") instead of "Unsupported attribute".
 */
export const outputDefaults = (names: Record<string, string>): Record<string, null> =>
  Object.fromEntries(Object.values(names).map((name) => [name, null]));

/**
 * The check that the other half uses the same grant-role path (and so the same host-policy form).
 * A half that publishes no path predates "hostPolicy": it used "/", the exact form's path.
 */
function grantRolePathCheck(config: Config, otherHalf: string, output: string): OutputCheck {
  const published = `coalesce(self.outputs.${output}, "/")`;
  const path = grantRolePathOf(config);
  return {
    condition: `\${${published} == ${hclString(path)}}`,
    errorMessage:
      `${otherHalf} puts the grant roles under the IAM path \${${published}}, but this config uses ${templateText(path)} ` +
      `("hostPolicy": "${config.hostPolicy}"). Both halves must set the same "hostPolicy" (and the same stackName): the host role's policy ` +
      'allows exactly the roles (or the path) this half expects, so roles created the other way could never be assumed.',
  };
}

/** What the bucket-owner half checks before it uses the transfer-host half's outputs. */
export function transferHostHalfChecks(config: Config, state: OtherHalfState): OutputCheck[] {
  const out = (name: string) => `self.outputs.${name}`;
  const externalId = out(TRANSFER_HOST_OUTPUTS.externalId);
  const hostRole = out(TRANSFER_HOST_OUTPUTS.hostRoleArn);
  return [
    {
      // The value lands inside the trust policy's JSON: only STS External ID characters (no quote,
      // no backslash) can keep that JSON intact. RE2 caps repetitions at 1000, so the length is a
      // separate test.
      condition: `\${can(regex("^[\\\\w+=,.@:/-]+$", ${externalId})) && try(length(${externalId}) >= 2 && length(${externalId}) <= 1224, false)}`,
      errorMessage:
        `The transfer-host half (${templateText(where(state))}) has not published a valid External ID (output "${TRANSFER_HOST_OUTPUTS.externalId}": ` +
        '2-1224 characters of letters, digits and _ + = , . @ : / -). The operator applies the transfer-host half first; ' +
        'or put the External ID they sent in "externalId" and remove "otherHalfState".',
    },
    {
      condition: `\${${hostRole} == ${hclString(hostRoleArn(config))}}`,
      errorMessage:
        `The transfer-host half (${templateText(where(state))}) runs the Aspera host with the role \${coalesce(${hostRole}, "(none published)")}, ` +
        `but this config trusts ${templateText(hostRoleArn(config))} (hostRole and otherAccount.accountId). Agree with the operator on one role; ` +
        'the grant roles trust only the role this config names.',
    },
    grantRolePathCheck(config, `The transfer-host half (${templateText(where(state))})`, TRANSFER_HOST_OUTPUTS.grantRolePath),
    ...(config.nextExternalId === undefined ? [] : [rotationOvertakenCheck(state, config.nextExternalId, externalId)]),
  ];
}

/**
 * During a rotation, with the current External ID read from the operator's state: the check that
 * the operator has not switched yet. Once their state publishes "nextExternalId" (their hosts
 * present it), the trust would accept that value twice and no longer the previous one, which
 * exists nowhere else in this config: the plan stops and says to promote when every host presents
 * the new one. Compared by SHA-256, so that no External ID is written into the condition (Terraform
 * prints a failed condition's source); a missing or invalid value is the first check's to report.
 */
function rotationOvertakenCheck(state: OtherHalfState, nextExternalId: string, published: string): OutputCheck {
  return {
    condition: `\${try(sha256(${published}) != ${hclString(sha256Hex(nextExternalId))}, true)}`,
    errorMessage:
      `The transfer-host half (${templateText(where(state))}) already publishes "nextExternalId" as its External ID (output "${TRANSFER_HOST_OUTPUTS.externalId}"): ` +
      "the operator's hosts present the new one. The trust can no longer accept the previous External ID, which this config reads from their state only. " +
      'Once the operator confirms that every host presents the new one (those their stack configures, and any configured from its "docroots" output), ' +
      'promote: remove "nextExternalId" here (the trust then accepts the External ID in their state, the new one).',
  };
}

/** The External ID this half's hosts present, as the check against the bucket owner's trust sees it. */
export interface PresentedExternalId {
  /** A Terraform expression (without "${}") for its SHA-256. */
  readonly sha256Expression: string;
  /** Where it comes from, for the message (never the value). */
  readonly by: PresentedBy;
}

/** Which External ID the hosts present, and what to do when the bucket owner's trust does not accept it. */
const PRESENTED_WORDS: Record<PresentedBy, { readonly which: string; readonly todo: string }> = {
  nextExternalId: {
    which: 'would present, "nextExternalId"',
    todo:
      'A rotation starts on the bucket owner\'s side: send them the new value; they add it as "nextExternalId" and apply first, so that their roles accept ' +
      'both the current External ID and the new one. Then apply this half: it moves the hosts to the new one.',
  },
  externalId: {
    which: 'present, "externalId"',
    todo:
      `Send the bucket owner the External ID the hosts present (terraform output -raw ${TRANSFER_HOST_OUTPUTS.externalId}) and have them apply again with it in "externalId" ` +
      '(or in "nextExternalId", to rotate to it without an outage).',
  },
  generated: {
    which: 'present, the one generated at first apply (random_id.external_id)',
    todo:
      `Send the bucket owner the current one (terraform output -raw ${TRANSFER_HOST_OUTPUTS.externalId}) and have them apply again with it in "externalId" ` +
      '(or in "nextExternalId", to rotate to it without an outage).',
  },
};

/** What the transfer-host half checks before it relies on the bucket owner's roles. */
export function bucketOwnerHalfChecks(config: Config, state: OtherHalfState, presented: PresentedExternalId): OutputCheck[] {
  const out = (name: string) => `self.outputs.${name}`;
  const from = `The bucket-owner half (${templateText(where(state))})`;
  const accountId = out(BUCKET_OWNER_OUTPUTS.accountId);
  const trusted = out(BUCKET_OWNER_OUTPUTS.trustedHostRoleArn);
  const grants = out(BUCKET_OWNER_OUTPUTS.grants);
  const accepted = out(BUCKET_OWNER_OUTPUTS.externalIdSha256s);
  const expectedGrants = publishedGrants(config);
  return [
    {
      condition: `\${${accountId} == ${hclString(config.myAccount.accountId)}}`,
      errorMessage:
        `${from} is in account \${coalesce(${accountId}, "(none published)")}, but myAccount.accountId here is ` +
        `${templateText(config.myAccount.accountId)}. Fix the account ID, or point otherHalfState at the bucket owner's state.`,
    },
    {
      condition: `\${${trusted} == ${hclString(hostRoleArn(config))}}`,
      errorMessage:
        `${from} trusts the role \${coalesce(${trusted}, "(none published)")}, but this half's Aspera host runs with ` +
        `${templateText(hostRoleArn(config))}. The bucket owner's hostRole must name this role.`,
    },
    {
      condition: `\${${grants} == ${hclLiteral(expectedGrants as Record<string, unknown>)}}`,
      errorMessage:
        `${from} publishes other grants than this config's, so the docroots would not match its roles. ` +
        `It publishes \${jsonencode(${grants})}; this config expects ${templateText(JSON.stringify(expectedGrants))}.`,
    },
    {
      // A bucket owner on a version before rotations publishes no list: its one External ID.
      condition: `\${contains(${accepted} != null ? ${accepted} : [${out(BUCKET_OWNER_OUTPUTS.externalIdSha256)}], ${presented.sha256Expression})}`,
      errorMessage:
        `${from} does not accept the External ID this half's hosts ${PRESENTED_WORDS[presented.by].which} (compared by SHA-256 with every External ID its grant roles accept: ` +
        `output "${BUCKET_OWNER_OUTPUTS.externalIdSha256s}", or "${BUCKET_OWNER_OUTPUTS.externalIdSha256}" from a version without it). ${PRESENTED_WORDS[presented.by].todo}`,
    },
    grantRolePathCheck(config, from, BUCKET_OWNER_OUTPUTS.grantRolePath),
  ];
}
