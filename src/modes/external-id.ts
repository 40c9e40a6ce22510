/**
 * Which External IDs this stack uses, and how each appears wherever it appears. One decision, made
 * here once: which IDs the grant roles' trust accepts, which one the Aspera hosts present, and how
 * each is written in a policy, a docroot (output and host scripts), the checks between the halves
 * and the review report. Everything else asks ExternalIds instead of deciding again.
 *
 * The current External ID has one of three sources (src/config/schema.ts allows "externalId" left
 * out only for the last two):
 *  - given in the config ("externalId"): known at synth time, rendered as it is;
 *  - read from the other half's state (mode "bucket-owner" with "otherHalfState"): the
 *    transfer-host half's published output, a plan-time value;
 *  - generated here (mode "transfer-host" without "externalId"): random_id, 128 bits as lowercase
 *    hex, created at the first apply and kept in this half's state.
 *
 * A rotation without an outage ("nextExternalId", the cutover) adds a second one, always given in
 * the config, and splits the two roles an External ID plays:
 *  - what the grant roles' trust accepts: the current one and the next (src/iam/trust-policy.ts);
 *  - what the hosts present: the next one only, in every docroot (the "docroots" output, the SSH
 *    host scripts, the fleets' scripts), the transfer-host half's "external_id" output and the
 *    SHA-256 that half checks against what the bucket owner's trust accepts.
 * Promotion is one config change: "externalId" takes the new value and "nextExternalId" goes. What
 * the hosts present does not change then; the trust stops accepting the old value. A generated
 * External ID stays in state during its rotation (random_id.external_id is kept, though nothing
 * reads it), so that removing "nextExternalId" without promoting returns the hosts to the value
 * the trust still accepts; setting "externalId" at promotion deletes it.
 *
 * A plan-time value cannot be in text written at synth time. Where it goes into a Terraform string
 * (a policy, an output) it is a reference, "${...}". Where it goes into a file rendered at synth
 * time (the host scripts, the SSM documents) the file carries EXTERNAL_ID_MARKER and the host
 * constructs have Terraform splice the value in (only a generated, hex value can reach a host).
 * The report, which states facts rather than Terraform, shows where the value comes from instead.
 * Pure: config in, strings out; the cdktf resources behind a plan-time value are made in
 * src/modes/compose.ts under the names below.
 */
import { grantDocroot } from '../aspera/docroot';
import { type HostScripts, renderHostScripts, renderHostScriptsWithExternalIdMarker, type ScriptTarget, sha256Hex } from '../aspera/host-scripts';
import { type Config, externalIdValue, type Grant, type OtherHalfStateConfig } from '../config/schema';
import { TRANSFER_HOST_OUTPUTS } from '../exchange/contract';
import { hclString } from '../exchange/hcl';

/** Size of a generated External ID: 16 random bytes, 32 hex characters. */
export const GENERATED_EXTERNAL_ID_BYTES = 16;

/** Terraform name of the generated External ID: random_id.external_id. */
export const GENERATED_EXTERNAL_ID_ID = 'external_id';

/** Construct id of the operator's state as the bucket owner reads it: data.terraform_remote_state.transfer_host_half. */
export const TRANSFER_HOST_HALF_ID = 'transfer_host_half';

/** Where the External ID the grant roles require and the docroots carry comes from. */
export type ExternalIdSource =
  /** "externalId" in the config: known at synth time. */
  | { readonly kind: 'config'; readonly value: string }
  /** Mode "bucket-owner" with "otherHalfState": the transfer-host half's published output, read at plan time. */
  | { readonly kind: 'other-half-state'; readonly state: OtherHalfStateConfig; readonly output: string }
  /** Mode "transfer-host" without "externalId": generated at the first apply, kept in this half's state, published as `output`. */
  | { readonly kind: 'generated'; readonly output: string };

export function externalIdSource(config: Config): ExternalIdSource {
  // The schema leaves externalId undefined exactly when the config omits it, which it allows only in
  // these two cases (src/config/schema.ts, MODE_CHECKS).
  if (config.mode === 'bucket-owner' && config.otherHalfState !== undefined) {
    return { kind: 'other-half-state', state: config.otherHalfState, output: TRANSFER_HOST_OUTPUTS.externalId };
  }
  if (config.mode === 'transfer-host' && config.externalId === undefined) return { kind: 'generated', output: TRANSFER_HOST_OUTPUTS.externalId };
  return { kind: 'config', value: externalIdValue(config) };
}

/** An External ID that is only known at plan time and reaches an Aspera host, as Terraform refers to it. */
export interface PlanTimeExternalId {
  /** A plain reference, without "${}", e.g. "random_id.external_id.hex". */
  readonly reference: string;
  /** The value is exactly this many lowercase hex digits (checked by a precondition). */
  readonly hexDigits: number;
}

/** Stands for a plan-time External ID while a docroot output is rendered; letters and digits, so encoding keeps it. */
const DOCROOT_MARKER = 'EXTERNALIDPLACEHOLDER0';

/**
 * Stands for an External ID that is not known at synth time in what the review report renders
 * with the stack's own policy and docroot functions, so that everything around it is rendered as
 * the stack renders it. "~" occurs in no config value the schema accepts, and percent-encoding
 * leaves it as it is: every occurrence in a rendered value is this stand-in, which the report then
 * shows as reportPhrase, never as a value.
 */
export const EXTERNAL_ID_STAND_IN = '~external-id~';

export class ExternalId {
  static of(config: Config): ExternalId {
    return new ExternalId(externalIdSource(config));
  }

  /** The External ID of a source already decided (e.g. the one an access model records). */
  static from(source: ExternalIdSource): ExternalId {
    return new ExternalId(source);
  }

  private constructor(readonly source: ExternalIdSource) {}

  /** Whether the value is known at synth time (given in the config). */
  get known(): boolean {
    return this.source.kind === 'config';
  }

  /** The Terraform reference (without "${}") of a plan-time value; undefined when it is known. */
  get reference(): string | undefined {
    switch (this.source.kind) {
      case 'config':
        return undefined;
      case 'other-half-state':
        return `data.terraform_remote_state.${TRANSFER_HOST_HALF_ID}.outputs.${this.source.output}`;
      case 'generated':
        return `random_id.${GENERATED_EXTERNAL_ID_ID}.hex`;
    }
  }

  /**
   * In a Terraform string (a policy's JSON, an output): the value, or "${reference}". A value read
   * from the other half is checked by a postcondition (src/exchange/contract.ts) to hold only STS
   * External ID characters before any policy that holds it is planned.
   */
  get inTerraform(): string {
    return this.source.kind === 'config' ? this.source.value : `\${${this.reference}}`;
  }

  /** The config the policy functions (src/iam/) see: this External ID as it appears in the policy. */
  inPolicy(config: Config): Config {
    return { ...config, externalId: this.inTerraform };
  }

  /** A Terraform expression (without "${}") for the value's SHA-256, for the checks between the halves. */
  get sha256Expression(): string {
    return this.source.kind === 'config' ? hclString(sha256Hex(this.source.value)) : `sha256(${this.reference})`;
  }

  /** The SHA-256 as a Terraform string (the bucket owner publishes it for the operator to compare). */
  get sha256InTerraform(): string {
    return this.source.kind === 'config' ? sha256Hex(this.source.value) : `\${${this.sha256Expression}}`;
  }

  /**
   * A grant's docroot as a Terraform string (the "docroots" output). A plan-time value is put in
   * by reference: it is hex (generated), which percent-encoding leaves as it is, so the result is
   * what grantDocroot renders with the concrete value.
   */
  docroot(config: Config, grant: Grant): string {
    if (this.source.kind === 'config') return grantDocroot({ ...config, externalId: this.source.value }, grant);
    // Refuse a config whose docroot contains the marker already: every marker stands for the value.
    if (grantDocroot({ ...config, externalId: '' }, grant).includes(DOCROOT_MARKER)) throw new Error(`the docroot of ${grant.transferUser} contains ${DOCROOT_MARKER}`);
    return grantDocroot({ ...config, externalId: DOCROOT_MARKER }, grant).split(DOCROOT_MARKER).join(this.inTerraform);
  }

  /**
   * The value as it reaches an Aspera host at plan time (the host constructs splice it into the
   * scripts in place of EXTERNAL_ID_MARKER); undefined when the scripts carry the value itself.
   * Only a generated value reaches a host: reading one from the other half happens in mode
   * "bucket-owner", which configures no host.
   */
  get planTime(): PlanTimeExternalId | undefined {
    if (this.source.kind === 'config') return undefined;
    if (this.source.kind === 'other-half-state') throw new Error('internal: an External ID read from the other half never reaches an Aspera host');
    return { reference: this.reference as string, hexDigits: 2 * GENERATED_EXTERNAL_ID_BYTES };
  }

  /** The host scripts as written at synth time: with the value, or with EXTERNAL_ID_MARKER where a plan-time value goes. */
  hostScripts(config: Config, target: ScriptTarget): HostScripts {
    if (this.source.kind === 'config') return renderHostScripts({ ...config, externalId: this.source.value }, target);
    return renderHostScriptsWithExternalIdMarker(config, target, (this.planTime as PlanTimeExternalId).hexDigits);
  }

  /**
   * The config the review report's renderers see: this External ID, or EXTERNAL_ID_STAND_IN
   * where a plan-time value will be.
   */
  inReport(config: Config): Config {
    if (this.source.kind === 'config') return { ...config, externalId: this.source.value };
    if (config.grants.some((g) => grantDocroot({ ...config, externalId: '' }, g).includes(EXTERNAL_ID_STAND_IN))) {
      throw new Error(`a docroot of this config contains ${EXTERNAL_ID_STAND_IN}, which the review uses for the External ID`);
    }
    return { ...config, externalId: EXTERNAL_ID_STAND_IN };
  }

  /** In the report, where the value would be: the value itself, or a short phrase for where it comes from. */
  get reportPhrase(): string {
    switch (this.source.kind) {
      case 'config':
        return this.source.value;
      case 'other-half-state':
        return "the External ID read from the operator's state at plan time";
      case 'generated':
        return 'the External ID generated at first apply';
    }
  }
}

/** Which config field (or the generation) the External ID the hosts present comes from. */
export type PresentedBy = 'externalId' | 'nextExternalId' | 'generated';

/**
 * The External IDs of one config: the current one (any source), and during a rotation the next
 * one (given in the config). What the trust accepts and what the hosts present, as the header says.
 */
export class ExternalIds {
  static of(config: Config): ExternalIds {
    return ExternalIds.from(externalIdSource(config), config.nextExternalId);
  }

  /** The External IDs of a current source and a next value already decided (e.g. those an access model records). */
  static from(current: ExternalIdSource, next?: string): ExternalIds {
    return new ExternalIds(ExternalId.from(current), next === undefined ? undefined : ExternalId.from({ kind: 'config', value: next }));
  }

  private constructor(
    /** The External ID the trust has accepted until now; outside a rotation the only one. */
    readonly current: ExternalId,
    /** During a rotation: the one it moves to ("nextExternalId"). */
    readonly next: ExternalId | undefined,
  ) {}

  /** Whether a rotation is under way ("nextExternalId" set). */
  get rotating(): boolean {
    return this.next !== undefined;
  }

  /** Every External ID the grant roles' trust accepts: the current one, then the next. */
  get accepted(): readonly ExternalId[] {
    return this.next === undefined ? [this.current] : [this.current, this.next];
  }

  /** The External ID the Aspera hosts present (docroots, host scripts, "external_id"): the next one during a rotation. */
  get presented(): ExternalId {
    return this.next ?? this.current;
  }

  /** Where the presented External ID comes from. Only the transfer host's half presents one: never from the other half's state. */
  get presentedBy(): PresentedBy {
    if (this.next !== undefined) return 'nextExternalId';
    return this.current.source.kind === 'generated' ? 'generated' : 'externalId';
  }

  /** Whether this stack creates random_id.external_id: the current External ID is generated (kept during its rotation, see the header). */
  get generates(): boolean {
    return this.current.source.kind === 'generated';
  }

  /** The config the policy functions (src/iam/) see: the current External ID as it appears in the policy, "nextExternalId" as it is. */
  inPolicy(config: Config): Config {
    return this.current.inPolicy(config);
  }

  /** The config the review report's trust renderers see: the current External ID or its stand-in, "nextExternalId" as it is. */
  inReport(config: Config): Config {
    return this.current.inReport(config);
  }
}
