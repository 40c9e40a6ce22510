/**
 * What the stack of one config creates (and so what its `cdktf destroy` removes), by mode, and
 * where its External ID comes from. Pure: config in, facts out, no cdktf.
 *
 * The review report (src/report/) states these facts; the modes compose exactly these parts
 * (src/stack.ts, bucket-owner-half.ts, transfer-host-half.ts), and
 * __tests__/report-modes.test.ts checks the two agree against synthesized stacks.
 */
import type { Config, OtherHalfStateConfig } from '../config/schema';
import { TRANSFER_HOST_OUTPUTS } from '../exchange/contract';
import { appliesBucketOwnerHalf, appliesTransferHostHalf, type Mode } from './mode';

/** Where the External ID the grant roles require and the docroots carry comes from. */
export type ExternalIdSource =
  /** "externalId" in the config: known at synth time. */
  | { readonly kind: 'config'; readonly value: string }
  /** Mode "bucket-owner" with "otherHalfState": the transfer-host half's published output, read at plan time. */
  | { readonly kind: 'other-half-state'; readonly state: OtherHalfStateConfig; readonly output: string }
  /** Mode "transfer-host" without "externalId": generated at the first apply, kept in this half's state, published as `output`. */
  | { readonly kind: 'generated'; readonly output: string };

export function externalIdSource(config: Config): ExternalIdSource {
  // The schema leaves externalId "" exactly when the config omits it, which it allows only in
  // these two cases (src/config/schema.ts, MODE_CHECKS).
  if (config.mode === 'bucket-owner' && config.otherHalfState !== undefined) {
    return { kind: 'other-half-state', state: config.otherHalfState, output: TRANSFER_HOST_OUTPUTS.externalId };
  }
  if (config.mode === 'transfer-host' && config.externalId === '') return { kind: 'generated', output: TRANSFER_HOST_OUTPUTS.externalId };
  return { kind: 'config', value: config.externalId };
}

/** The parts of the setup one stack creates. A part a stack does not create is the other party's. */
export interface HalfOwnership {
  readonly mode: Mode;
  /**
   * My Account's half: one grant role with its inline S3 policy per grant, and the buckets marked
   * "create": true with their hardening.
   */
  readonly bucketOwnerHalf: boolean;
  /**
   * Other Account's half: the host role and its instance profile (hostRole.name) or nothing of an
   * existing role but the policy; the assume-role policy on it; the docroots on the Aspera hosts;
   * a generated External ID.
   */
  readonly transferHostHalf: boolean;
  /** Buckets this stack creates, in config order. */
  readonly createdBuckets: readonly string[];
  /** How the host role relates to this stack: created here, an existing role that gets the policy, or the other party's. */
  readonly hostRole: 'created' | 'existing' | 'other-party';
  /** Whether this stack installs docroots on Aspera hosts (it has hosts and applies the transfer-host half). */
  readonly installsDocroots: boolean;
  readonly externalId: ExternalIdSource;
}

export function halfOwnership(config: Config): HalfOwnership {
  const bucketOwnerHalf = appliesBucketOwnerHalf(config.mode);
  const transferHostHalf = appliesTransferHostHalf(config.mode);
  return {
    mode: config.mode,
    bucketOwnerHalf,
    transferHostHalf,
    createdBuckets: bucketOwnerHalf ? config.buckets.filter((b) => b.create).map((b) => b.name) : [],
    hostRole: !transferHostHalf ? 'other-party' : 'name' in config.hostRole ? 'created' : 'existing',
    installsDocroots: transferHostHalf && config.asperaHosts.length > 0,
    externalId: externalIdSource(config),
  };
}
