/**
 * The cdktf CLI loads the native module `@cdktf/node-pty-prebuilt-multiarch` on every command, and
 * `cdktf apply`/`destroy` run Terraform in the pseudo-terminal it gives. That package's last release
 * (0.10.2) ships binaries for Node's ABIs up to 127 (Node 22) only, so on Node 24 every `npx cdktf`
 * command crashed with "Cannot find module '../build/Release/pty.node'". package.json installs
 * `@lydell/node-pty` (node-pty built on Node-API, one binary for every Node) under that name and
 * makes cdktf's own dependency on it resolve to the same package (`overrides`).
 *
 * Here: the module the CLI resolves under that name, from where the CLI requires it, runs a process
 * in a terminal, the way cdktf does (spawn, onData, write, onExit), on the Node running the tests.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** What cdktf uses of the module (its typings declare it under its own name only). */
interface Pty {
  spawn(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): {
    onData(listener: (data: string) => void): void;
    onExit(listener: (event: { exitCode: number }) => void): void;
    write(data: string): void;
  };
}

const PTY = '@cdktf/node-pty-prebuilt-multiarch';
const CLI_HANDLERS = join(dirname(require.resolve('cdktf-cli/package.json')), 'bundle', 'bin', 'cmds', 'handlers.js');
const CLI_CORE_PTY_PROCESS = require.resolve('@cdktf/cli-core/src/lib/models/pty-process.js');

test('the CLI and cdktf\'s cli-core load one pseudo-terminal module, @lydell/node-pty', () => {
  const forCli = createRequire(CLI_HANDLERS).resolve(PTY);
  expect(createRequire(CLI_CORE_PTY_PROCESS).resolve(PTY)).toBe(forCli);
  expect(JSON.parse(readFileSync(join(dirname(forCli), 'package.json'), 'utf8')).name).toBe('@lydell/node-pty');
});

test('a process in the terminal gets the input written to it, and its exit code comes back', async () => {
  const pty = createRequire(CLI_HANDLERS)(PTY) as Pty;
  const child = pty.spawn('/bin/sh', ['-c', 'read answer; echo "answer: $answer"; exit 3'], { cwd: __dirname, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  let output = '';
  child.onData((data) => {
    output += data;
  });
  const exit = new Promise<number>((resolve) => child.onExit(({ exitCode }) => resolve(exitCode)));
  child.write('yes\r');
  expect(await exit).toBe(3);
  expect(output).toContain('answer: yes');
});
