/**
 * Whether what the host path hands to AWS and to the hosts fits their limits, decided at synth
 * (like src/iam/limits.ts for IAM), so that a config that synthesizes never stops halfway through
 * `cdktf apply` or on a host. The limits and how each is met:
 *  - SSM document content, 64 KB (CreateDocument refuses more: MaxDocumentSizeExceeded): a fleet's
 *    document holds only the URL of its script (src/aspera/ssm-document.ts), so it is measured
 *    here; the script itself, which grows by about 250 bytes per grant, is an S3 object.
 *  - Association and document parameters: none are used (nothing to measure).
 *  - Linux's limits on one argument or environment string (128 KiB) and on all of them (about
 *    2 MiB): the grants reach the host script's awk program through a file, never the environment
 *    or a command line (the host scripts' tests run 5,000 grants); remote-exec uploads the script
 *    as a file, with `script` or `inline` alike.
 *  - The size of aspera.conf the scripts edit is the host's to check, at run time
 *    (MAX_CONF_BYTES in aspera-conf-edit.sh): synth does not see the file.
 */
import type { Config } from '../config/schema';
import { withThousands } from '../number-format';
import { fleetScript } from './fleets';
import { SSM_DOCUMENT_MAX_BYTES } from './ssm-document';

export interface HostPathLimitProblem {
  /** The config field to change. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** What SSM or a host would refuse of the stack for `config`. */
export function hostPathLimitProblems(config: Config): HostPathLimitProblem[] {
  const problems: HostPathLimitProblem[] = [];
  config.asperaFleets.forEach((fleet, i) => {
    // The document depends on the script only through its hash (fixed length): any text measures it.
    const { document } = fleetScript(config.stackName, config.myAccount.accountId, config.otherAccount.region, fleet, { install: '', uninstall: '' });
    const bytes = Buffer.byteLength(document);
    if (bytes > SSM_DOCUMENT_MAX_BYTES) {
      problems.push({
        path: ['asperaFleets', i, 'scriptS3', 'keyPrefix'],
        message: `makes the SSM document of fleet ${fleet.name} ${withThousands(bytes)} bytes; SSM allows ${withThousands(SSM_DOCUMENT_MAX_BYTES)} per document: use a shorter key prefix`,
      });
    }
  });
  return problems;
}
