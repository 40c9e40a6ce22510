/**
 * How the report words the two-organization facts: which half a config describes, what belongs
 * to the other party, and an External ID that is not known at synth time. Pure; the facts come
 * from the access model (src/modes/half-ownership.ts through model.ts).
 */
import { EXTERNAL_ID_STAND_IN, ExternalId } from '../modes/external-id';
import type { ExternalIdSource } from '../modes/half-ownership';
import type { Mode } from '../modes/mode';
import type { AccessModel } from './model';
import { code } from './text';
import { s3Uri } from '../aws/arns';

/** Marks a part this config's stack does not create. */
export const MANAGED_BY_OTHER_PARTY = '*Managed by the other party.*';

/** "both halves", "the bucket owner's half", "the operator's half". */
export const HALF_OF_MODE: Record<Mode, string> = {
  both: 'both halves',
  'bucket-owner': "the bucket owner's half",
  'transfer-host': "the operator's (transfer host's) half",
};

/** Where the state of the other half is, as the config names it. */
const stateUrl = (state: { bucket: string; key: string }): string => s3Uri(state.bucket, state.key);

/** A short noun phrase for an External ID that is not in the config, to stand where its value would. */
export function externalIdStandInText(source: ExternalIdSource): string {
  const externalId = ExternalId.from(source);
  return externalId.known ? code(externalId.reportPhrase) : externalId.reportPhrase;
}

/** The External ID for the accounts table: the value, or where it comes from and when it is known. */
export function externalIdDescription(source: ExternalIdSource): string {
  if (source.kind === 'config') return code(source.value);
  if (source.kind === 'other-half-state') {
    return (
      `not in this config: read from the operator's state at plan time (output ${code(source.output)} of ${code(stateUrl(source.state))}). ` +
      '`cdktf plan` shows the value in each trust policy, and fails before planning any role unless it is a valid External ID.'
    );
  }
  return (
    `not in this config: generated at first apply (random hex, kept in this half's state, never changed by a config change), output ${code(source.output)} ` +
    '(sensitive: `npx cdktf output`). Send it to the bucket owner: their grant roles must require it before the host can assume them.'
  );
}

/**
 * `text` (a rendered value that may hold EXTERNAL_ID_STAND_IN) as Markdown: code spans for what
 * is known, and the External ID's description in italics where the stand-in is, so no empty or
 * made-up value is ever shown as if it were the External ID.
 */
export function codeWithExternalId(text: string, source: ExternalIdSource): string {
  if (!text.includes(EXTERNAL_ID_STAND_IN)) return code(text);
  // In a rendered condition the stand-in is a JSON string: the quotes go with it.
  return text
    .split(new RegExp(`"?${EXTERNAL_ID_STAND_IN}"?`))
    .map((piece) => piece.trim())
    .map((piece) => (piece === '' ? '' : code(piece)))
    .join(` *(${externalIdStandInText(source)})* `)
    .trim();
}

/** The paragraph under the title: the mode, which half the report describes, and what is the other party's. */
export function modeParagraph(model: AccessModel): string {
  const my = `My Account ${code(model.myAccount.accountId)}`;
  const other = `Other Account ${code(model.otherAccount.accountId)}`;
  const readNote =
    model.otherHalfState === undefined
      ? ''
      : model.mode === 'bucket-owner'
        ? ` At plan time it reads the operator's state ${code(stateUrl(model.otherHalfState))} and fails unless the operator published a valid External ID and runs the host role this config trusts.`
        : ` At plan time it reads the bucket owner's state ${code(stateUrl(model.otherHalfState))} and fails unless the bucket owner is in ${my}, trusts this host role, publishes exactly these grants and requires this half's External ID (compared by SHA-256).`;
  if (model.mode === 'both') {
    return (
      `**Mode ${code('both')}** (the default): this stack applies ${HALF_OF_MODE.both}, with credentials for both accounts: ` +
      `${my} (buckets, grant roles) and ${other} (the transfer host role's access, and the docroots on the Aspera hosts).`
    );
  }
  if (model.mode === 'bucket-owner') {
    return (
      `**Mode ${code('bucket-owner')}: this report describes ${HALF_OF_MODE['bucket-owner']}**, what this config creates in ${my}: ` +
      'the buckets it creates and one grant role with its trust and S3 policy per grant. ' +
      `The transfer host's half (${other}: the host role, its assume-role policy, the docroots on the Aspera hosts) is applied by the operator from their own config; ` +
      `below it appears as this config expects it, marked *managed by the other party*.${readNote}`
    );
  }
  const generated = model.ownership.externalId.kind === 'generated' ? ', and the generated External ID' : '';
  return (
    `**Mode ${code('transfer-host')}: this report describes ${HALF_OF_MODE['transfer-host']}**, what this config creates in ${other} ` +
    `(the transfer host role's access) and on the Aspera hosts (the docroots)${generated}. ` +
    `The bucket owner's half (${my}: the buckets and the grant roles with their trust and S3 policies) is applied by the bucket owner from their own config; ` +
    `below it appears as this config expects it, marked *managed by the other party*.${readNote}`
  );
}
