/**
 * How the report words the two-organization facts: which half a config describes, what belongs
 * to the other party, an External ID that is not known at synth time, and a rotation of the
 * External ID (which one the hosts present, which ones the trust accepts, what comes next). Pure;
 * the facts come from the access model (src/modes/half-ownership.ts through model.ts).
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

/** The External ID for the accounts table: the value, or where it comes from and when it is known; during a rotation, see rotationDescription. */
export function externalIdDescription(model: AccessModel): string {
  if (model.nextExternalId !== undefined) return rotationDescription(model, model.nextExternalId);
  const source = model.externalId;
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

/** The current External ID during a rotation, as the rotation's description names it: never a value the config does not hold. */
function currentExternalIdText(source: ExternalIdSource): string {
  if (source.kind === 'config') return `${code(source.value)} (${code('externalId')})`;
  if (source.kind === 'other-half-state') return `${externalIdStandInText(source)} (output ${code(source.output)} of ${code(stateUrl(source.state))})`;
  return `${externalIdStandInText(source)} (still kept in this half's state)`;
}

/**
 * A rotation in progress ("nextExternalId", the cutover), in the words of the half this config
 * applies: which External ID the hosts present, which ones the trust accepts, and what to do next.
 */
function rotationDescription(model: AccessModel, next: string): string {
  const current = currentExternalIdText(model.externalId);
  const nextText = `${code(next)} (${code('nextExternalId')})`;
  const { bucketOwnerHalf, transferHostHalf } = model.ownership;
  const head = '**Rotation in progress (cutover).**';
  const promote = `set ${code('externalId')} to the new value and remove ${code('nextExternalId')}`;
  const everyHost = `every host presents the new one (those this stack configures, and any configured outside it from the ${code('docroots')} output)`;
  if (bucketOwnerHalf && transferHostHalf) {
    return (
      `${head} The Aspera hosts present ${nextText}: every docroot carries it. The grant roles' trust accepts ${current} and ${nextText}. ` +
      `Next: once ${everyHost}, promote: ${promote}. The hosts do not change then; the trust stops accepting the old one.`
    );
  }
  if (bucketOwnerHalf) {
    const fromState = model.externalId.kind === 'other-half-state';
    return (
      `${head} The grant roles' trust accepts ${current} and ${nextText}; the operator's hosts present one of them. Apply this before the operator moves their hosts to the new one. ` +
      (fromState ? 'Once their state publishes the new one, the plan stops until you promote. ' : '') +
      `Next: once the operator confirms that every host presents the new one (those their stack configures, and any configured from its ${code('docroots')} output), promote: ` +
      (fromState ? `remove ${code('nextExternalId')} (their state then holds the new one)` : promote) +
      '; the trust then stops accepting the old one.'
    );
  }
  const generated = model.externalId.kind === 'generated' ? ` (this deletes the generated one, ${code('random_id.external_id')})` : '';
  return (
    `${head} The Aspera hosts present ${nextText}: every docroot carries it, and the output ${code('external_id')} (sensitive) publishes it. ` +
    `The bucket owner's trust must accept it before this is applied: they add it as ${code('nextExternalId')} and apply first` +
    (model.otherHalfState === undefined ? '' : " (this half's plan checks that in their state)") +
    `; their trust keeps accepting ${current} until they promote. Next: once ${everyHost}, promote: ${promote}${generated}, and have the bucket owner promote too. The hosts do not change then.`
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
        ? ` At plan time it reads the operator's state ${code(stateUrl(model.otherHalfState))} and fails unless the operator published a valid External ID and runs the host role this config trusts${model.nextExternalId === undefined ? '' : ', and, during the rotation, unless the operator still publishes the previous External ID (not yet "nextExternalId")'}.`
        : ` At plan time it reads the bucket owner's state ${code(stateUrl(model.otherHalfState))} and fails unless the bucket owner is in ${my}, trusts this host role, publishes exactly these grants and accepts the External ID this half's hosts present (compared by SHA-256).`;
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
