/**
 * cdktf app entry point: read the config, refuse it with one line per problem, or synthesize.
 * Composition only; see src/. cdktf.json runs it through scripts/app.js, which bundles it from
 * the current sources (cached by their hash) and runs the bundle with source maps.
 *
 * An invalid config exits non-zero before any construct exists, so nothing is written to the
 * output directory. cdktf and the stack are loaded only after validation: refusing a config then
 * takes a fraction of a second instead of the time it takes to load the providers.
 */
import { configPathFromEnv, loadConfigFile } from './src/config-file';

function main(): number {
  const configPath = configPathFromEnv();
  const result = loadConfigFile(configPath);
  if (!result.ok) {
    const count = result.problems.length === 1 ? '1 problem' : `${result.problems.length} problems`;
    process.stderr.write(`Invalid config ${configPath} (${count}):\n${result.problems.map((p) => `  ${p}\n`).join('')}`);
    return 1;
  }
  // Source maps off while cdktf and the providers load and the stack is built: every one of their
  // files carries an inline map that node would otherwise decode, and cdktf's token stack traces
  // would each be source-mapped. Back on before an error leaves this function, so a crash still
  // points at the TypeScript lines (the bundle's map was read when it loaded).
  process.setSourceMapsEnabled(false);
  try {
    const { App } = require('cdktf') as typeof import('cdktf');
    const { AsperaCrossAccountStack } = require('./src/stack') as typeof import('./src/stack');
    const { withoutTokenStackTraces } = require('./src/synth/token-stack-traces') as typeof import('./src/synth/token-stack-traces');
    const { withoutUtilIsArrayWarning } = require('./src/synth/util-is-array') as typeof import('./src/synth/util-is-array');
    withoutTokenStackTraces(() =>
      withoutUtilIsArrayWarning(() => {
        const app = new App();
        new AsperaCrossAccountStack(app, result.config.stackName, result.config);
        app.synth();
      }),
    );
  } finally {
    process.setSourceMapsEnabled(true);
  }
  return 0;
}

process.exitCode = main();
