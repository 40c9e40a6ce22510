/**
 * The stand-in Node API (node-api-stand-in.ts) in a process of its own, for tests that run the
 * host script with spawnSync (the SSM Agent simulation) and for the access-key bench: a server in
 * the caller's own process could not answer while it waits. The child records each request before
 * it answers it, so once the script that made the requests has ended, recorded() has them all; it
 * asks the child over Node's IPC channel.
 */
import { fork } from 'node:child_process';
import type { NodeApiStandInOptions, RecordedRequest, StandInKey } from './node-api-stand-in';

export interface StandInProcess {
  readonly url: string;
  /** What the child has recorded so far, and the keys it holds. */
  recorded(): Promise<{ requests: RecordedRequest[]; keys: StandInKey[] }>;
  stop(): Promise<void>;
}

interface Recorded {
  requests: RecordedRequest[];
  keys: StandInKey[];
}

/** Child side: forked with the options as its one argument. */
async function child(): Promise<void> {
  const { startNodeApiStandIn } = await import('./node-api-stand-in');
  const api = await startNodeApiStandIn(JSON.parse(process.argv[2]) as NodeApiStandInOptions);
  process.on('message', (message) => {
    if (message === 'recorded') process.send?.({ requests: api.requests, keys: [...api.keys.values()] } satisfies Recorded);
    if (message === 'stop') void api.close().then(() => process.exit(0));
  });
  process.send?.({ url: api.url });
}

export async function startNodeApiStandInProcess(options: Omit<NodeApiStandInOptions, 'onRequest'>): Promise<StandInProcess> {
  const proc = fork(__filename, [JSON.stringify(options)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <T>(): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the stand-in process exited with ${code}`));
      proc.once('exit', onExit);
      proc.once('message', (message) => {
        proc.off('exit', onExit);
        resolve(message as T);
      });
    });
  const { url } = await next<{ url: string }>();
  return {
    url,
    recorded: () => {
      const answer = next<Recorded>();
      proc.send('recorded');
      return answer;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.send('stop');
      }),
  };
}

if (require.main === module) void child();
