/**
 * What the stack of one config creates (and so what its `cdktf destroy` removes), by mode, and
 * where its External ID comes from (src/modes/external-id.ts). Pure: config in, facts out, no cdktf.
 *
 * The review report (src/report/) states these facts; the stack composes exactly these parts
 * (src/modes/compose.ts, with these flags), and
 * __tests__/report-modes.test.ts checks the two agree against synthesized stacks.
 */
import type { Config } from '../config/schema';
import { type ExternalIdSource, externalIdSource } from './external-id';
import { appliesBucketOwnerHalf, appliesTransferHostHalf, type Mode } from './mode';

export type { ExternalIdSource } from './external-id';

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
  /** Where the current External ID comes from (a generated one is this stack's: random_id.external_id). */
  readonly externalId: ExternalIdSource;
  /** During a rotation: the External ID the trust accepts besides the current one, and the one the hosts present. */
  readonly nextExternalId?: string;
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
    ...(config.nextExternalId === undefined ? {} : { nextExternalId: config.nextExternalId }),
  };
}
