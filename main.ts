/**
 * cdktf app entry point: read the config, refuse it with one line per problem, or synthesize.
 * Composition only; see src/.
 */
import { App } from 'cdktf';
import { configPathFromEnv, loadConfigFile } from './src/config/load';
import { AsperaCrossAccountStack } from './src/stack';

const configPath = configPathFromEnv();
const result = loadConfigFile(configPath);
if (!result.ok) {
  process.stderr.write(`Invalid config ${configPath}:\n${result.problems.map((p) => `  ${p}`).join('\n')}\n`);
  process.exit(1);
}

const app = new App();
new AsperaCrossAccountStack(app, result.config.stackName, result.config);
app.synth();
