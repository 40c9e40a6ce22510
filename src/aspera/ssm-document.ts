/**
 * The SSM Command document that runs a host script on a fleet's instances. Pure: where the script
 * is in, document text out. It decides one thing: how Systems Manager gets the script the SSH path
 * uploads onto an instance and runs it, unchanged.
 *
 * An SSM document holds at most 64 KB, which the script does not fit in (its constant logic alone
 * is over 50 KB; each grant adds about 250 bytes, 1.2 MB at 5,000 grants). So the script is an S3
 * object, and the document has two steps (amazon-ssm-agent: agent/plugins/downloadcontent,
 * agent/plugins/runscript; steps run in order):
 *  1. aws:downloadContent fetches the object with the instance's own credentials into
 *     <run directory>/downloads/<action>.sh (a relative destinationPath lands there; the agent
 *     makes it mode 0700 in 0700 directories, as root). onFailure "exit": without the script,
 *     the next step does not run, and the run fails.
 *  2. aws:runShellScript: the agent writes its runCommand lines to <run directory>/<step>/_script.sh
 *     and runs `sh -c` on it as root; those lines run the downloaded file with /bin/sh. So the
 *     file that runs is byte for byte the SSH path's install.sh (or uninstall.sh), and its own
 *     checks - run as root, from a file only root can rewrite - hold as they do there.
 *
 * The document carries no docroot and no External ID: only the object's URL (bucket, key) and the
 * step names. It has no parameters. Who can read the script: see docs/aspera-fleets.md.
 */

export interface SsmShellDocument {
  readonly schemaVersion: '2.2';
  readonly description: string;
  readonly mainSteps: readonly [
    {
      readonly action: 'aws:downloadContent';
      readonly name: string;
      readonly precondition: { readonly StringEquals: readonly ['platformType', 'Linux'] };
      readonly inputs: { readonly sourceType: 'S3'; readonly sourceInfo: string; readonly destinationPath: string; readonly onFailure: 'exit' };
    },
    {
      readonly action: 'aws:runShellScript';
      readonly name: string;
      readonly precondition: { readonly StringEquals: readonly ['platformType', 'Linux'] };
      readonly inputs: { readonly runCommand: readonly string[]; readonly timeoutSeconds: string };
    },
  ];
}

/** How long the agent lets the script run (the script itself takes seconds; a restart may take longer). */
export const SCRIPT_TIMEOUT_SECONDS = 600;

/** SSM's limit on a document's content (CreateDocument: MaxDocumentSizeExceeded above it). */
export const SSM_DOCUMENT_MAX_BYTES = 64 * 1024;

/** A document description: no config value but the stack and fleet names (both validated identifiers). */
const DESCRIPTION = /^[A-Za-z0-9 ,.:()"_-]+$/;
/** What may appear in the object's URL as it is (the schema narrows bucket and key far more). */
const URL_SAFE = /^https:\/\/[A-Za-z0-9.-]+\/[A-Za-z0-9!_.'()\/-]+$/;
const STEP_NAME = /^(install|uninstall)$/;

/** The object's URL as aws:downloadContent takes it: path style, with the bucket's region. */
export const s3ObjectUrl = (bucket: string, region: string, dnsSuffix: string, key: string): string => `https://s3.${region}.${dnsSuffix}/${bucket}/${key}`;

/**
 * The runCommand lines: run the file the download step wrote. $0 is <run directory>/<step>/_script.sh
 * (the agent's layout), so the download is ../downloads/<file> from its directory.
 */
export function runDownloadedScript(file: string): string[] {
  return [
    `# aspera-cross-account: runs ${file}, the host script the previous step downloaded (the SSH path's script, byte for byte).`,
    `script="\${0%/*}/../downloads/${file}"`,
    'if [ ! -f "$script" ]; then',
    `  echo "aspera-cross-account: error: $script is missing: the download step did not write it" >&2`,
    '  exit 1',
    'fi',
    'exec /bin/sh "$script"',
  ];
}

export function ssmShellDocument(scriptUrl: string, stepName: 'install' | 'uninstall', description: string): SsmShellDocument {
  if (!URL_SAFE.test(scriptUrl)) throw new Error(`the fleet script URL ${JSON.stringify(scriptUrl)} contains characters it should not`);
  if (!STEP_NAME.test(stepName)) throw new Error(`step name ${JSON.stringify(stepName)}`);
  if (!DESCRIPTION.test(description)) throw new Error(`SSM document description ${JSON.stringify(description)} contains characters it should not`);
  const file = `${stepName}.sh`;
  const linux = { StringEquals: ['platformType', 'Linux'] } as const;
  return {
    schemaVersion: '2.2',
    description,
    mainSteps: [
      {
        action: 'aws:downloadContent',
        name: `download_${stepName}`,
        precondition: linux,
        inputs: { sourceType: 'S3', sourceInfo: JSON.stringify({ path: scriptUrl }), destinationPath: file, onFailure: 'exit' },
      },
      {
        action: 'aws:runShellScript',
        name: stepName,
        precondition: linux,
        inputs: { runCommand: runDownloadedScript(file), timeoutSeconds: String(SCRIPT_TIMEOUT_SECONDS) },
      },
    ],
  };
}

/** The document as stored: JSON, indented so that a diff reads step by step. */
export const renderSsmDocument = (document: SsmShellDocument): string => `${JSON.stringify(document, null, 1)}\n`;
