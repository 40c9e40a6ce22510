/**
 * Which part of the cross-account setup one stack applies.
 *
 *  - "both": one party holds credentials for both accounts and applies everything (the default).
 *  - "bucket-owner": My Account's half only (buckets, grant roles). For when the bucket owner and
 *    the Aspera operator are different organizations that will not share credentials.
 *  - "transfer-host": Other Account's half only (host role, its assume-role policy, the Aspera
 *    host configuration).
 *
 * The two halves of one logical config together create exactly what mode "both" creates: one body
 * composes every mode with these flags (src/modes/compose.ts). Each half configures only its own
 * account's AWS provider and publishes what the other needs as outputs (src/exchange/contract.ts).
 */
// The mode names are config vocabulary (src/config/fields.ts); re-exported for the halves.
import type { Mode } from '../config/schema';
export { DEFAULT_MODE, type Mode, MODES } from '../config/schema';

/** Whether a stack in `mode` creates My Account's resources (and configures its provider). */
export const appliesBucketOwnerHalf = (mode: Mode): boolean => mode !== 'transfer-host';

/** Whether a stack in `mode` creates Other Account's resources (and configures its provider). */
export const appliesTransferHostHalf = (mode: Mode): boolean => mode !== 'bucket-owner';
