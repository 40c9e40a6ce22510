/**
 * Reading the other half's outputs from its Terraform state in S3 (terraform_remote_state).
 *
 * What is read is a plan-time value: in cdk.tf.json it is a reference such as
 * "${data.terraform_remote_state.transfer_host_half.outputs.external_id}", and `cdktf plan` shows
 * the concrete value it resolved to. The checks run as postconditions of the data source, i.e.
 * when the state is read and before any resource that uses a value is planned: a missing or
 * contradicting output fails the plan with the check's message, and nothing is applied.
 *
 * Reading needs s3:GetObject on exactly that state object (and kms:Decrypt when the state is
 * encrypted with a customer managed key), with the credentials of `profile` (or the default chain).
 */
import { DataTerraformRemoteStateS3 } from 'cdktf';
import type { Construct } from 'constructs';
import { type OtherHalfState, type OutputCheck, outputDefaults } from './contract';

export interface OtherHalfReadProps {
  readonly state: OtherHalfState;
  /** Names of every output used, so a missing one reads as null (see outputDefaults). */
  readonly outputs: Record<string, string>;
  readonly checks: readonly OutputCheck[];
}

export function readOtherHalf(scope: Construct, id: string, props: OtherHalfReadProps): DataTerraformRemoteStateS3 {
  const { state } = props;
  const remote = new DataTerraformRemoteStateS3(scope, id, {
    bucket: state.bucket,
    key: state.key,
    region: state.region,
    ...(state.profile === undefined ? {} : { profile: state.profile }),
  });
  // By override: cdktf's `defaults` cannot hold null (it walks the config to snake_case its keys).
  remote.addOverride('defaults', outputDefaults(props.outputs));
  // cdktf's remote state config has no lifecycle block; Terraform accepts postconditions on every
  // data source, this one included.
  remote.addOverride('lifecycle', {
    postcondition: props.checks.map((check) => ({ condition: check.condition, error_message: check.errorMessage })),
  });
  return remote;
}
