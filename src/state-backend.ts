/**
 * Where Terraform keeps this stack's state. Local by default, so a fresh clone synthesizes and
 * plans without any AWS setup; S3 for teams, always encrypted and locked.
 */
import { LocalBackend, S3Backend, type TerraformStack } from 'cdktf';
import type { StateConfig } from './config/schema';

/**
 * S3 backend settings cdktf 0.21's S3BackendConfig cannot express. `use_lockfile` (Terraform
 * >= 1.10) locks state with an S3 conditional write instead of a DynamoDB table.
 */
export interface S3BackendOverrides {
  use_lockfile: true;
}

export const S3_BACKEND_OVERRIDES: S3BackendOverrides = { use_lockfile: true };

export function configureStateBackend(stack: TerraformStack, state: StateConfig): void {
  if (state.backend === 'local') {
    new LocalBackend(stack, state.path === undefined ? {} : { path: state.path });
    return;
  }
  const backend = new S3Backend(stack, {
    bucket: state.bucket,
    key: state.key,
    region: state.region,
    encrypt: true,
    ...(state.profile === undefined ? {} : { profile: state.profile }),
    ...(state.kmsKeyId === undefined ? {} : { kmsKeyId: state.kmsKeyId }),
  });
  for (const [name, value] of Object.entries(S3_BACKEND_OVERRIDES)) backend.addOverride(name, value);
}
