/**
 * `npm run bench`: how long a synth takes compared with the floor set by the libraries it needs.
 *
 *   (a) baseline: plain node loading cdktf and every provider module the app imports (deep paths,
 *       found by scanning main.ts and src/), i.e. what any cdktf app with these resources pays;
 *   (b) `cdktf synth`'s app command (from cdktf.json) on the default aspera.config.json;
 *   (c) the same app command on a generated config with 1,000 grants over 100 buckets (every
 *       other bucket created, two grants in three with a prefix).
 *
 * Each is timed as a separate node process, in rounds of (a), (b), (c) back to back, after one
 * untimed warm-up run each; the medians of wall time and (on Linux) of CPU time are reported.
 * Each ratio is the median of the ratios within a round: the machine's speed drifts over a run
 * (a shared VM: the same process's CPU time varies by about 15% from minute to minute), and
 * processes timed side by side see the same speed.
 * Targets: (b)/(a) <= 1.5 (validation, bundling from the cache and our code cost at most half of
 * what the libraries cost) and (c)/(b) <= 4 (a thousand grants, about 2,250 resources, cost at
 * most three more default synths).
 *
 * Usage: npm run bench [-- --runs N] [--check] [--app "<command>"]
 *   --check  exit 1 when a target is missed
 *   --app    time another app command than cdktf.json's, e.g. --app "node --import tsx main.ts"
 * A script, not a test: timings depend on the machine.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigInput } from '../src/config/schema';

const ROOT = join(__dirname, '..');
const TARGET_B_OVER_A = 1.5;
const TARGET_C_OVER_B = 4;
const MANY_GRANTS = 1000;
const MANY_BUCKETS = 100;

const argv = process.argv.slice(2);
const runsArg = argv.indexOf('--runs');
const RUNS = runsArg >= 0 ? Number(argv[runsArg + 1]) : 31;
const CHECK = argv.includes('--check');
const appArg = argv.indexOf('--app');
const APP_OVERRIDE = appArg >= 0 ? argv[appArg + 1] : undefined;

/** Provider modules main.ts and src/ load at run time (type-only imports are erased, so skipped). */
function providerModulesOfApp(): string[] {
  const files: string[] = [join(ROOT, 'main.ts')];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) files.push(path);
    }
  };
  walk(join(ROOT, 'src'));
  const modules = new Set<string>();
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/^\s*import\s+(?!type\b)[^;]*?\bfrom\s+['"](@cdktf\/provider-[\w-]+\/lib\/[\w-]+)['"]/gm)) modules.add(m[1]);
  }
  return [...modules].sort();
}

/** The app command cdktf runs for `cdktf synth`, split into program and arguments. */
function appCommand(): string[] {
  const app = APP_OVERRIDE ?? (JSON.parse(readFileSync(join(ROOT, 'cdktf.json'), 'utf8')) as { app: string }).app;
  // The command is plain words (no quoting or shell syntax); refuse anything else rather than guess.
  if (!/^[\w ./=@-]+$/.test(app)) throw new Error(`cdktf.json "app" is not a plain command: ${app}`);
  return app.split(' ').filter((word) => word !== '');
}

/** A valid config with `count` grants over `bucketCount` buckets, built from the example config. */
function manyGrantsConfig(count: number, bucketCount: number): ConfigInput {
  const example = JSON.parse(readFileSync(join(ROOT, 'aspera.config.json'), 'utf8')) as ConfigInput;
  const buckets = Array.from({ length: bucketCount }, (_, i) => ({ name: `acme-bench-${String(i).padStart(3, '0')}`, create: i % 2 === 0 }));
  const grants = Array.from({ length: count }, (_, i) => ({
    transferUser: `xfer${String(i).padStart(4, '0')}`,
    bucket: buckets[i % buckets.length].name,
    prefix: i % 3 === 0 ? '' : `partners/p${i}`,
    access: i % 2 === 0 ? ('read-write' as const) : ('read-only' as const),
  }));
  // The exact list of 1,000 role ARNs is over IAM's inline-policy limit: the path form, as such a stack must use.
  return { ...example, $schema: undefined, hostPolicy: 'role-path', buckets, grants };
}

interface Case {
  name: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** Output directory to check after each run (synth cases only). */
  outdir?: string;
}

/**
 * CPU seconds (user + system) used by this process's finished children, from /proc (Linux; in
 * USER_HZ = 1/100 s). Unlike wall time it hardly changes when other work shares the machine.
 */
function childrenCpuSeconds(): number | undefined {
  try {
    // Fields after the ")" that ends the command name: state is field 3, cutime 16, cstime 17.
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(fields[16 - 3]) + Number(fields[17 - 3])) / 100;
  } catch {
    return undefined;
  }
}

interface Sample {
  wall: number;
  cpu: number | undefined;
}

function timeOnce(c: Case): Sample {
  if (c.outdir !== undefined) rmSync(c.outdir, { recursive: true, force: true });
  const cpuBefore = childrenCpuSeconds();
  const start = process.hrtime.bigint();
  const run = spawnSync(c.argv[0], c.argv.slice(1), { cwd: ROOT, env: c.env, encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const cpuAfter = childrenCpuSeconds();
  if (run.status !== 0) throw new Error(`${c.name} failed (exit ${run.status}):\n${run.stderr}`);
  if (c.outdir !== undefined && !existsSync(join(c.outdir, 'manifest.json'))) throw new Error(`${c.name} wrote no manifest.json to ${c.outdir}`);
  return { wall, cpu: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function main(): number {
  if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('--runs needs a positive whole number, e.g. npm run bench -- --runs 5');
  const work = mkdtempSync(join(tmpdir(), 'aspera-bench-'));
  try {
    const modules = providerModulesOfApp();
    const manyConfig = join(work, 'many-grants.json');
    writeFileSync(manyConfig, JSON.stringify(manyGrantsConfig(MANY_GRANTS, MANY_BUCKETS), null, 2));
    const app = appCommand();
    const env = { ...process.env, CHECKPOINT_DISABLE: '1' };
    const baseline: Case = {
      name: '(a) baseline',
      argv: [process.execPath, '-e', ['cdktf', ...modules].map((m) => `require(${JSON.stringify(m)});`).join('')],
      env,
    };
    const synthDefault: Case = {
      name: '(b) synth, default config',
      argv: app,
      env: { ...env, ASPERA_CONFIG: join(ROOT, 'aspera.config.json'), CDKTF_OUTDIR: join(work, 'out-default') },
      outdir: join(work, 'out-default'),
    };
    const synthMany: Case = {
      name: `(c) synth, ${MANY_GRANTS} grants`,
      argv: app,
      env: { ...env, ASPERA_CONFIG: manyConfig, CDKTF_OUTDIR: join(work, 'out-many') },
      outdir: join(work, 'out-many'),
    };
    const cases = [baseline, synthDefault, synthMany];

    console.log(`app command: ${app.join(' ')}${APP_OVERRIDE === undefined ? ' (from cdktf.json)' : ' (--app)'}`);
    console.log(`baseline loads cdktf and ${modules.length} provider modules: ${modules.map((m) => m.replace('@cdktf/', '')).join(', ')}`);
    console.log(`node ${process.version}, ${RUNS} timed rounds after 1 warm-up, medians; ratios: the median of each round's ratio\n`);

    for (const c of cases) timeOnce(c);
    const samples = new Map<Case, Sample[]>(cases.map((c) => [c, []]));
    for (let run = 0; run < RUNS; run++) for (const c of cases) samples.get(c)?.push(timeOnce(c));

    const wall = (c: Case) => median((samples.get(c) ?? []).map((x) => x.wall));
    const cpuValues = (c: Case) => (samples.get(c) ?? []).map((x) => x.cpu).filter((x): x is number => x !== undefined);
    const haveCpu = cases.every((c) => cpuValues(c).length === RUNS);
    const cpu = (c: Case) => median(cpuValues(c));
    console.log(`${''.padEnd(28)} ${'wall'.padStart(8)}  ${haveCpu ? 'cpu (user+sys)'.padStart(15) : ''}`);
    for (const c of cases) {
      const runs = (samples.get(c) ?? []).map((x) => x.wall.toFixed(2)).join(' ');
      console.log(`${c.name.padEnd(28)} ${wall(c).toFixed(3).padStart(6)} s  ${haveCpu ? `${cpu(c).toFixed(3).padStart(13)} s` : ''}   (wall runs: ${runs})`);
    }
    const verdict = (ratio: number, target: number) => (ratio <= target ? 'ok' : 'MISSED');
    /** The median over the rounds of `over`'s measure divided by `under`'s in the same round. */
    const ratio = (of: (x: Sample) => number, over: Case, under: Case): number => {
      const overs = samples.get(over) ?? [];
      const unders = samples.get(under) ?? [];
      return median(overs.map((x, round) => of(x) / of(unders[round])));
    };
    const wallOf = (x: Sample) => x.wall;
    const cpuOf = (x: Sample) => x.cpu as number;
    let missed = false;
    console.log('');
    for (const [label, of] of [['wall', wallOf], ...(haveCpu ? [['cpu', cpuOf]] : [])] as [string, (x: Sample) => number][]) {
      const ba = ratio(of, synthDefault, baseline);
      const cb = ratio(of, synthMany, synthDefault);
      missed ||= ba > TARGET_B_OVER_A || cb > TARGET_C_OVER_B;
      // Three decimals: with two, a ratio of 1.504 read "1.50 ... MISSED" against a target of 1.5.
      console.log(`${label.padEnd(4)}  (b)/(a) = ${ba.toFixed(3)}  target <= ${TARGET_B_OVER_A}  ${verdict(ba, TARGET_B_OVER_A).padEnd(6)}   (c)/(b) = ${cb.toFixed(3)}  target <= ${TARGET_C_OVER_B}  ${verdict(cb, TARGET_C_OVER_B)}`);
    }
    // (b) <= 1.5 (a) and (c) <= 4 (b) can only hold together if (c) <= 6 (a), whatever (b) is.
    const bound = TARGET_B_OVER_A * TARGET_C_OVER_B;
    const ca = ratio(haveCpu ? cpuOf : wallOf, synthMany, baseline);
    console.log(`${haveCpu ? 'cpu ' : 'wall'}  (c)/(a) = ${ca.toFixed(2)}: both targets can hold together only if (c)/(a) <= ${bound}${ca > bound ? ', so at least one must miss' : ''}`);
    if (haveCpu) console.log('\n(wall time follows the load on the machine; cpu time much less so: compare both when the machine is busy)');
    return CHECK && missed ? 1 : 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  process.exitCode = main();
} catch (error) {
  // A failed run is reported as what failed (with its stderr), not as a stack trace of this script.
  process.stderr.write(`bench: ${(error as Error).message}\n`);
  process.exitCode = 2;
}
