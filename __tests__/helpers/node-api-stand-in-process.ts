/**
 * The stand-in Node API (node-api-stand-in.ts) in a process of its own, for tests that run the
 * host script with spawnSync (the SSM Agent simulation): a server in the test's own process could
 * not answer while the test waits. The child writes what it recorded to a JSON file before each
 * answer leaves, so the file is complete when the script that made the requests has ended.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeApiStandInOptions, RecordedRequest, StandInKey } from './node-api-stand-in';

export interface StandInProcess {
  readonly url: string;
  /** What the child has recorded so far. */
  recorded(): { requests: RecordedRequest[]; keys: StandInKey[] };
  stop(): Promise<void>;
}

/** Child side: `node --import tsx node-api-stand-in-process.ts <options JSON> <records file>`. */
async function child(): Promise<void> {
  const { writeFileSync } = await import('node:fs');
  const { startNodeApiStandIn } = await import('./node-api-stand-in');
  const [optionsJson, recordsFile] = process.argv.slice(2);
  const requests: RecordedRequest[] = [];
  const api = await startNodeApiStandIn({
    ...(JSON.parse(optionsJson) as NodeApiStandInOptions),
    onRequest: (request, keys) => {
      requests.push(request);
      writeFileSync(recordsFile, JSON.stringify({ requests, keys: [...keys.values()] }));
    },
  });
  writeFileSync(recordsFile, JSON.stringify({ requests, keys: [...api.keys.values()] }));
  process.stdout.write(`${api.url}\n`);
  process.on('SIGTERM', () => void api.close().then(() => process.exit(0)));
}

export async function startNodeApiStandInProcess(options: Omit<NodeApiStandInOptions, 'onRequest'>): Promise<StandInProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'node-api-stand-in-'));
  const records = join(dir, 'records.json');
  const proc = spawn(process.execPath, ['--import', 'tsx', __filename, JSON.stringify(options), records], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes('\n')) resolve(out.trim());
    });
    proc.once('exit', (code) => reject(new Error(`the stand-in process exited with ${code} before it listened`)));
  });
  return {
    url,
    recorded: () => JSON.parse(readFileSync(records, 'utf8')) as { requests: RecordedRequest[]; keys: StandInKey[] },
    stop: async () => {
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

if (require.main === module) void child();
