/**
 * cdktf app entry point: read the config, refuse it with one line per problem, or synthesize.
 * Composition only; see src/.
 *
 * An invalid config exits non-zero before any construct exists, so nothing is written to the
 * output directory. cdktf and the stack are loaded only after validation: refusing a config then
 * takes a fraction of a second instead of the time it takes to load the providers.
 */
import { configPathFromEnv, loadConfigFile } from './src/config/load';

function main(): number {
  const configPath = configPathFromEnv();
  const result = loadConfigFile(configPath);
  if (!result.ok) {
    const count = result.problems.length === 1 ? '1 problem' : `${result.problems.length} problems`;
    process.stderr.write(`Invalid config ${configPath} (${count}):\n${result.problems.map((p) => `  ${p}\n`).join('')}`);
    return 1;
  }
  const { App } = require('cdktf') as typeof import('cdktf');
  const { AsperaCrossAccountStack } = require('./src/stack') as typeof import('./src/stack');
  // cdktf records a full stack trace for every token it creates. With source maps on (tsx turns
  // them on, and cdktf's own files carry inline maps) each trace is source-mapped, which made up
  // most of the synth time (measured: construct 3x faster without). Off while building; back on
  // before an error leaves this function, so a crash still points at the TypeScript lines.
  process.setSourceMapsEnabled(false);
  try {
    const app = new App();
    new AsperaCrossAccountStack(app, result.config.stackName, result.config);
    app.synth();
  } finally {
    process.setSourceMapsEnabled(true);
  }
  return 0;
}

process.exitCode = main();
