/**
 * Aspera host configuration: one null_resource per host that installs the grants' docroots into
 * aspera.conf over SSH on create and removes them on destroy. (Being built under issue 3.)
 */
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import type { Config } from '../config/schema';

export interface AsperaHostConfigurationProps {
  readonly config: Config;
  /** Resources that must exist before a host is configured (grant roles, host role policy). */
  readonly dependsOn: ITerraformDependable[];
}

export class AsperaHostConfiguration extends Construct {
  constructor(scope: Construct, id: string, props: AsperaHostConfigurationProps) {
    super(scope, id);
    void props;
  }
}
