/**
 * `npm run bench:access-keys`: the host script with N grants installed as Node API access keys
 * (default 500), under dash, against the stand-in Node API (__tests__/helpers/node-api-stand-in.ts,
 * in a process of its own) on 127.0.0.1: the wall time of the install (N GETs, N POSTs), a run
 * that changes nothing (N GETs) and the uninstall (N DELETEs), and the time per key. Each key costs
 * a curl per request and a few sha256sum and awk runs: the time grows linearly with the keys.
 * A fake systemctl and getent stand in for the host; a fake `id` says root.
 * Usage: npm run bench:access-keys [-- --keys N]. A script, not a test: timings depend on the machine.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACCESS_KEY_SEED_MARKER } from '../src/aspera/access-key';
import { renderHostScripts } from '../src/aspera/host-scripts';
import { fakeTool, fixture, testConfig, workdir } from '../__tests__/helpers/aspera-host';
import { startNodeApiStandInProcess } from '../__tests__/helpers/node-api-stand-in-process';

const keysArg = process.argv.indexOf('--keys');
const KEYS = keysArg >= 0 ? Number(process.argv[keysArg + 1]) : 500;

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'aspera-bench-access-keys-'));
  const api = await startNodeApiStandInProcess({ users: { node_admin: 'bench-password' } });
  try {
    const grants = Array.from({ length: KEYS }, (_, i) => ({ transferUser: `ak${i}`, bucket: 'acme-aspera-inbox', prefix: `tenants/t${i}`, access: 'read-write' as const, installAs: ['access-key' as const] }));
    const config = testConfig({ grants, hostPolicy: 'role-path' });
    const w = workdir(root, 'host', fixture('hsts-realm.conf'));
    const credentials = join(w.dir, 'node-api.credentials');
    writeFileSync(credentials, 'node_admin:bench-password\n', { mode: 0o600 });
    const scripts = renderHostScripts(config, { ...config.asperaHosts[0], nodeApi: { url: 'https://127.0.0.1:9092', credentialsFile: credentials } });
    const install = join(root, 'install.sh');
    const uninstall = join(root, 'uninstall.sh');
    writeFileSync(install, scripts.install.split(ACCESS_KEY_SEED_MARKER).join('0123456789abcdef0123456789abcdef'));
    writeFileSync(uninstall, scripts.uninstall);
    fakeTool(w.bin, 'getent', join(w.dir, 'getent.log'), 0, 'exit 0');
    const time = (script: string): number => {
      const start = process.hrtime.bigint();
      const r = spawnSync('dash', [script], { env: { PATH: `${w.bin}:/usr/bin:/bin`, ASPERA_CONF: w.conf, ASPERA_NODE_API_URL: api.url }, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
      return Number(process.hrtime.bigint() - start) / 1e9;
    };
    const requests = async () => (await api.recorded()).requests.length;
    const rows: [string, number, number][] = [];
    for (const [name, script] of [['install (GET + POST per key)', install], ['no-op (GET per key)', install], ['uninstall (DELETE per key)', uninstall]] as const) {
      const before = await requests();
      const seconds = time(script);
      rows.push([name, seconds, (await requests()) - before]);
    }
    if ((await api.recorded()).keys.length !== 0) throw new Error('the uninstall left keys on the stand-in');
    console.log(`host script, ${KEYS} Node API access keys, dash, stand-in Node API on 127.0.0.1 (one run each):`);
    for (const [name, seconds, n] of rows) console.log(`  ${name.padEnd(30)} ${seconds.toFixed(2)} s, ${n} requests, ${((1000 * seconds) / KEYS).toFixed(1)} ms per key`);
  } finally {
    await api.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
