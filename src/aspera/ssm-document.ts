/**
 * The SSM Command document that runs a host script on a fleet's instances. Pure: script in,
 * document text out. It decides one thing: how the script the SSH path uploads is carried
 * unchanged by Systems Manager.
 *
 * SSM Agent's aws:runShellScript writes its runCommand lines into a file, `_script.sh` in the
 * command's orchestration directory (mode 0700, in a directory of mode 0700, both root's), as
 * strings.Join(runCommand, "\n") + "\n", and runs `sh -c <that file>` as root (amazon-ssm-agent,
 * agent/plugins/runscript/runscript.go, runshellscript.go, pluginutil CreateScriptFile). So the
 * runCommand lines are the script's lines without its final newline: the file the agent writes is
 * then byte for byte the file Terraform uploads over SSH (scriptFromDocument checks it), and the
 * script's own checks - run as root, from a file only root can rewrite - hold as they do there.
 *
 * The document has no parameters: nothing an ssm:DescribeDocument caller sees (name, description,
 * parameters) carries a docroot or the External ID. The script itself is the document's content,
 * which ssm:GetDocument returns; see docs/aspera-fleets.md, "What a reader of SSM can see", for who can read it.
 */

export interface SsmShellDocument {
  readonly schemaVersion: '2.2';
  readonly description: string;
  readonly mainSteps: readonly [
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

/** A document description: no config value but the stack and fleet names (both validated identifiers). */
const DESCRIPTION = /^[A-Za-z0-9 ,.:()"_-]+$/;

export function ssmShellDocument(script: string, stepName: 'install' | 'uninstall', description: string): SsmShellDocument {
  if (!script.endsWith('\n')) throw new Error('a host script must end with a newline: SSM Agent writes one after the last runCommand line');
  if (script.includes('\r')) throw new Error('a host script must not contain carriage returns');
  if (!DESCRIPTION.test(description)) throw new Error(`SSM document description ${JSON.stringify(description)} contains characters it should not`);
  return {
    schemaVersion: '2.2',
    description,
    mainSteps: [
      {
        action: 'aws:runShellScript',
        name: stepName,
        precondition: { StringEquals: ['platformType', 'Linux'] },
        inputs: { runCommand: script.slice(0, -1).split('\n'), timeoutSeconds: String(SCRIPT_TIMEOUT_SECONDS) },
      },
    ],
  };
}

/** The document as stored: JSON, one line per runCommand line so that a diff reads like the script's. */
export const renderSsmDocument = (document: SsmShellDocument): string => `${JSON.stringify(document, null, 1)}\n`;

/** The bytes SSM Agent writes to _script.sh for a document's first step. */
export function scriptFromDocument(documentText: string): string {
  const document = JSON.parse(documentText) as SsmShellDocument;
  return `${document.mainSteps[0].inputs.runCommand.join('\n')}\n`;
}
