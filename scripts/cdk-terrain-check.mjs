// @ts-check
/**
 * Proof that this app, unchanged, builds and synthesizes on CDK Terrain (the community fork of
 * CDKTF: the library `cdktn`, the CLI `cdktn-cli`, the providers `@cdktn/provider-*`), and gives
 * what __tests__/golden/ holds. scripts/cdk-terrain-check.sh installs the pinned Terrain packages
 * and Node 22 into a temporary prefix and runs this file with that Node; docs/cdk-terrain.md says
 * what the result means and how to switch.
 *
 *   node scripts/cdk-terrain-check.mjs --prefix <dir whose node_modules holds the Terrain packages> [--keep]
 *
 * Nothing is installed into or written under the repository: the bundles, the synth output and a
 * tsconfig live in a temporary directory (kept with --keep, and its path printed).
 *
 * The build: main.ts and src/ bundled by esbuild (the repository's, as scripts/app.js uses), every
 * import rewritten by ALIASES below. The Terrain packages stay outside the bundle, each required by
 * its absolute path in the prefix, so node loads each of them once, from one place.
 * @cdktf/provider-null has no Terrain package: it is bundled from the repository's node_modules,
 * its own `cdktf` and `constructs` imports rewritten like ours, so its resources are classes of the
 * same cdktn library as everything else (one library instance: checked below, from require.cache).
 *
 * The tests, one line each, then `tests: N passed, N failed, 0 skipped`:
 *   - typecheck: tsc on main.ts and src/ with the same map as TypeScript paths (Terrain's types);
 *   - one per golden case: the case synthesized twice under Terrain, (1) in one process by the
 *     golden helpers themselves, as `npm run golden` does (scripts/cdk-terrain-cases.ts), and (2) by
 *     the Terrain build of main.ts as `cdktf synth` runs it (ASPERA_CONFIG, CDKTF_OUTDIR, the
 *     repository as the working directory); both must equal __tests__/golden/<case>/ file for file;
 *   - cdktn-cli: `cdktn synth --app <the Terrain build>` in the repository (its cdktf.json) for
 *     aspera.config.json, compared the same way.
 *
 * The comparison (compareStackFiles): every file byte for byte, but cdk.tf.json, which must be the
 * same JSON (values and key order) apart from the ACCEPTED differences below, each checked against
 * the exact values expected, and whose text may differ from the golden's only where that JSON
 * writes an empty object or list. Every other difference fails and is printed, with its JSON path.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const started = Number(process.env.CDK_TERRAIN_CHECK_STARTED_MS) || Date.now();
const ROOT = realpathSync(join(dirname(fileURLToPath(import.meta.url)), '..'));
const GOLDEN_DIR = join(ROOT, '__tests__', 'golden');
const SCRIPT_LOGIC_GOLDEN = join(GOLDEN_DIR, 'script-logic.sh');
/** As in __tests__/helpers/golden.ts: what stands for the repository path and the constant script logic in goldens. */
const REPO_ROOT_MARKER = '<repo-root>';
const SCRIPT_LOGIC_MARKER = '@golden: the constant script logic, as in __tests__/golden/script-logic.sh@\n';

// ---- Arguments and the two places packages come from -------------------------------------------

const args = process.argv.slice(2);
const prefixAt = args.indexOf('--prefix');
if (prefixAt < 0 || args[prefixAt + 1] === undefined) {
  process.stderr.write('usage: node scripts/cdk-terrain-check.mjs --prefix <dir> [--keep]\n');
  process.exit(2);
}
const PREFIX = realpathSync(args[prefixAt + 1]);
const KEEP = args.includes('--keep');
/** The repository's node_modules, as node and esbuild name its files (real paths). */
const NODE_MODULES = realpathSync(join(ROOT, 'node_modules'));
const requireFromRepo = createRequire(join(ROOT, 'package.json'));
const requireFromTerrain = createRequire(join(PREFIX, 'package.json'));
const versionIn = (req, name) => JSON.parse(readFileSync(req.resolve(`${name}/package.json`), 'utf8')).version;
/** The provider version a prebuilt provider package pins ("cdktf.provider.version" of its package.json). */
const pinIn = (req, name) => JSON.parse(readFileSync(req.resolve(`${name}/package.json`), 'utf8')).cdktf.provider.version;

/**
 * The alias map: each import of ours (and of the bundled @cdktf/provider-null) whose package is a
 * key here is loaded from the Terrain prefix as the named package, deep paths included
 * (`@cdktf/provider-aws/lib/iam-role` -> `@cdktn/provider-aws/lib/iam-role`: the lib/ layout is
 * the same). `constructs` too: cdktn wants >= 10.6 < 10.8, the repository has 10.8.
 */
const ALIASES = {
  cdktf: 'cdktn',
  '@cdktf/provider-aws': '@cdktn/provider-aws',
  '@cdktf/provider-random': '@cdktn/provider-random',
  constructs: 'constructs',
};
/** Bundled from the repository's node_modules (no Terrain package is published for it). */
const BUNDLED_CDKTF_PROVIDERS = ['@cdktf/provider-null'];

const packageOf = (specifier) => (specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]);

/** The versions in play, read from the packages themselves (in main(), so a missing one is a failed test). */
const readVersions = () => ({
  node: process.versions.node,
  cdktf: versionIn(requireFromRepo, 'cdktf'),
  cdktn: versionIn(requireFromTerrain, 'cdktn'),
  'cdktn-cli': versionIn(requireFromTerrain, 'cdktn-cli'),
  constructs: versionIn(requireFromTerrain, 'constructs'),
  '@cdktn/provider-aws': versionIn(requireFromTerrain, '@cdktn/provider-aws'),
  '@cdktn/provider-random': versionIn(requireFromTerrain, '@cdktn/provider-random'),
  '@cdktf/provider-null': versionIn(requireFromRepo, '@cdktf/provider-null'),
});

/**
 * The provider pins in required_providers: what the goldens have (the @cdktf packages of the
 * repository) and what the Terrain build must write (the package it takes each provider from).
 */
const readPins = () => ({
  aws: { golden: pinIn(requireFromRepo, '@cdktf/provider-aws'), terrain: pinIn(requireFromTerrain, '@cdktn/provider-aws') },
  random: { golden: pinIn(requireFromRepo, '@cdktf/provider-random'), terrain: pinIn(requireFromTerrain, '@cdktn/provider-random') },
  null: { golden: pinIn(requireFromRepo, '@cdktf/provider-null'), terrain: pinIn(requireFromRepo, '@cdktf/provider-null') },
});
/** @type {ReturnType<typeof readVersions>} */
let VERSIONS;
/** @type {ReturnType<typeof readPins>} */
let PINS;

// ---- Output --------------------------------------------------------------------------------------

let passed = 0;
let failed = 0;
/** The tests reported so far, by name. */
const reported = new Set();
const say = (line) => process.stdout.write(`${line}\n`);
function result(name, problems, detail) {
  reported.add(name);
  if (problems.length === 0) {
    passed += 1;
    say(`ok   ${name}${detail ? `: ${detail}` : ''}`);
  } else {
    failed += 1;
    say(`FAIL ${name}: ${problems.length === 1 ? '1 problem' : `${problems.length} problems`}`);
    for (const p of problems) say(`       ${p.split('\n').join('\n       ')}`);
  }
}
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
/** A process's output in a report: its last lines. */
const tail = (text, lines = 15) => text.trim().split('\n').slice(-lines).join('\n');

// ---- Running things ------------------------------------------------------------------------------

/** Runs a command; resolves with its exit code and output (never rejects). */
function run(file, argv, options) {
  return new Promise((resolve) => {
    execFile(file, argv, { maxBuffer: 64 * 1024 * 1024, timeout: 300_000, ...options }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr: error !== null && typeof error.code !== 'number' ? `${stderr}${error.message}\n` : stderr });
    });
  });
}

/** The environment a synth runs with: ours less every CDKTF_ setting, so nothing outside steers it. */
function synthEnv(extra) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CDKTF_')));
  return { ...env, CHECKPOINT_DISABLE: '1', ...extra };
}

async function pool(items, limit, work) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

// ---- Build ---------------------------------------------------------------------------------------

const esbuild = createRequire(requireFromRepo.resolve('tsx/package.json'))('esbuild');

/**
 * The esbuild plugin that applies ALIASES. A Terrain package resolves to its file in the prefix
 * and stays external (required by that absolute path); @cdktf/provider-null is left to esbuild,
 * which bundles it from the repository; every other package too (zod, fast-xml-parser), as
 * scripts/app.js bundles zod. Node's built-in modules stay external (platform "node").
 */
const terrainAliases = {
  name: 'cdk-terrain-aliases',
  /** @param {import('esbuild').PluginBuild} build */
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (a) => {
      const name = packageOf(a.path);
      const to = ALIASES[name];
      if (to === undefined) return undefined;
      return { path: requireFromTerrain.resolve(to + a.path.slice(name.length)), external: true };
    });
    // As scripts/app.js: each of our modules keeps its own __dirname and __filename (the host
    // scripts are read from beside src/aspera/host-scripts.ts, the goldens from __tests__/).
    build.onLoad({ filter: /\.ts$/ }, (a) => ({
      contents: `const __dirname = ${JSON.stringify(dirname(a.path))}, __filename = ${JSON.stringify(a.path)}; ${readFileSync(a.path, 'utf8')}`,
      loader: 'ts',
    }));
  },
};

/** Forbidden in a Terrain build: a file of a package ALIASES replaces, from anywhere but the prefix (nested copies included). */
const isReplacedFile = (file) => !file.startsWith(PREFIX + sep) && Object.keys(ALIASES).some((name) => file.includes(`${sep}node_modules${sep}${name}${sep}`));

async function bundle(entry, outfile) {
  const r = await esbuild.build({
    entryPoints: [entry],
    absWorkingDir: ROOT,
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    sourcemap: 'linked',
    sourcesContent: false,
    tsconfig: join(ROOT, 'tsconfig.json'),
    metafile: true,
    logLevel: 'silent',
    plugins: [terrainAliases],
  });
  const problems = r.warnings.map((w) => `esbuild warning: ${w.text}`);
  const inputs = Object.keys(r.metafile.inputs).map((i) => join(ROOT, i));
  for (const file of inputs) if (isReplacedFile(file)) problems.push(`bundled a cdktf file: ${relative(ROOT, file)}`);
  for (const name of BUNDLED_CDKTF_PROVIDERS) {
    if (!inputs.some((file) => file.startsWith(join(NODE_MODULES, name) + sep)) && entry.endsWith('main.ts')) problems.push(`${name} is not in the bundle`);
  }
  const externals = Object.values(r.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path));
  for (const path of externals) {
    if (!path.startsWith(PREFIX + sep) && !builtinModules.includes(path.replace(/^node:/, ''))) problems.push(`external import from outside the Terrain prefix: ${path}`);
  }
  return { problems, inputs: inputs.length, externals: new Set(externals.filter((p) => p.startsWith(PREFIX))).size };
}

/** Preloaded into each synth process (--require): on exit, writes the file of every module it loaded, for moduleProblems. */
const RECORDER = `'use strict';
process.on('exit', () => {
  require('node:fs').writeFileSync(process.env.CDK_TERRAIN_MODULES_FILE, Object.keys(require.cache).join('\\n'));
});
`;

/** Problems with the modules a synth process loaded: the library must be cdktn from the prefix, and nothing from the repository's node_modules. */
function moduleProblems(modulesFile) {
  if (!existsSync(modulesFile)) return [`the process wrote no list of its modules (${modulesFile})`];
  const loaded = readFileSync(modulesFile, 'utf8').split('\n');
  const problems = [];
  const fromRepo = loaded.filter((f) => f.startsWith(NODE_MODULES + sep));
  if (fromRepo.length > 0) problems.push(`loaded from the repository's node_modules: ${fromRepo.slice(0, 5).map((f) => relative(ROOT, f)).join(', ')}${fromRepo.length > 5 ? ', ...' : ''}`);
  for (const name of ['cdktn', '@cdktn/provider-aws', 'constructs']) {
    if (!loaded.some((f) => f.startsWith(join(PREFIX, 'node_modules', name) + sep))) problems.push(`did not load ${name} from the Terrain prefix`);
  }
  if (!loaded.includes(join(PREFIX, 'node_modules', 'cdktn', 'lib', 'tokens', 'private', 'stack-trace.js'))) {
    problems.push("did not load cdktn/lib/tokens/private/stack-trace.js (src/synth/token-stack-traces.ts's require)");
  }
  return problems;
}

// ---- Comparison ----------------------------------------------------------------------------------

/** Every file under dir, relative with "/", sorted. */
function filesUnder(dir, prefix = '') {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}

/** The files of a directory by relative path; given a synth's repository path and script logic, with those replaced by the goldens' markers. */
function readStackDir(dir, markers) {
  const asGolden = (text) => (markers === undefined ? text : text.split(markers.repoRoot).join(REPO_ROOT_MARKER).split(markers.scriptLogic).join(SCRIPT_LOGIC_MARKER));
  return new Map(filesUnder(dir).map((p) => [p, asGolden(readFileSync(join(dir, p), 'utf8'))]));
}

/** Terraform's provider address with its defaults filled in: "aws" and "hashicorp/aws" are registry.terraform.io/hashicorp/aws. */
function providerAddress(source) {
  const parts = String(source).toLowerCase().split('/');
  if (parts.length === 1) return `registry.terraform.io/hashicorp/${parts[0]}`;
  if (parts.length === 2) return `registry.terraform.io/${parts[0]}/${parts[1]}`;
  return parts.join('/');
}

/**
 * The differences accepted in cdk.tf.json, by JSON path. Each returns a description when the pair
 * is exactly the expected one, else undefined (and the difference fails).
 */
/** @type {Array<{ path: RegExp, accept: (golden: any, actual: any, match: RegExpExecArray) => string | undefined }>} */
const ACCEPTED = [
  {
    // The "//" block is Terraform's comment key: cdktf writes the library's version there, nothing reads it.
    path: /^\/\/\.metadata\.version$/,
    accept: (golden, actual) => (golden === VERSIONS.cdktf && actual === VERSIONS.cdktn ? `metadata version ${golden} -> ${actual}` : undefined),
  },
  {
    // The provider pin moves with the provider package (each prebuilt package pins one provider release).
    path: /^terraform\.required_providers\.([a-z0-9_-]+)\.version$/,
    accept: (golden, actual, [, name]) => {
      const pin = PINS[name];
      return pin !== undefined && golden === pin.golden && actual === pin.terrain && golden !== actual ? `${name} ${golden} -> ${actual}` : undefined;
    },
  },
  {
    // The same provider written the way Terrain's packages do ("hashicorp/aws" for "aws"): Terraform reads both as registry.terraform.io/hashicorp/aws.
    path: /^terraform\.required_providers\.([a-z0-9_-]+)\.source$/,
    accept: (golden, actual) => (typeof golden === 'string' && typeof actual === 'string' && providerAddress(golden) === providerAddress(actual) ? `source "${golden}" -> "${actual}"` : undefined),
  },
];

const pathKey = (path) => path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[');
const shown = (v) => {
  const t = JSON.stringify(v);
  return t === undefined ? 'undefined' : t.length > 160 ? `${t.slice(0, 157)}...` : t;
};

/** Walks golden and actual together, order-aware; collects accepted and failing differences. */
function diffJson(golden, actual, path, accepted, problems) {
  const kind = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (kind(golden) === 'object' && kind(actual) === 'object') {
    const gk = Object.keys(golden);
    const ak = Object.keys(actual);
    for (const k of gk) if (!(k in actual)) problems.push(`${pathKey([...path, k])}: missing (golden ${shown(golden[k])})`);
    for (const k of ak) if (!(k in golden)) problems.push(`${pathKey([...path, k])}: not in the golden (terrain ${shown(actual[k])})`);
    const common = gk.filter((k) => k in actual);
    const commonActual = ak.filter((k) => k in golden);
    if (common.join('\0') !== commonActual.join('\0')) problems.push(`${pathKey(path) || '(root)'}: keys in another order (golden ${shown(common)}, terrain ${shown(commonActual)})`);
    for (const k of common) diffJson(golden[k], actual[k], [...path, k], accepted, problems);
    return;
  }
  if (kind(golden) === 'array' && kind(actual) === 'array') {
    if (golden.length !== actual.length) problems.push(`${pathKey(path)}: ${golden.length} elements in the golden, ${actual.length} in terrain`);
    for (let i = 0; i < Math.min(golden.length, actual.length); i++) diffJson(golden[i], actual[i], [...path, i], accepted, problems);
    return;
  }
  if (golden === actual) return;
  const key = pathKey(path);
  for (const rule of ACCEPTED) {
    const m = rule.path.exec(key);
    const description = m === null ? undefined : rule.accept(golden, actual, m);
    if (description !== undefined) {
      accepted.push(description);
      return;
    }
  }
  problems.push(`${key}: golden ${shown(golden)}, terrain ${shown(actual)}`);
}

/** How the golden's JSON writer (json-stable-stringify) and cdktn's (safe-stable-stringify) differ: an empty object or list. */
const EMPTY_CONTAINER = /([[{])\n[ ]*([\]}])/g;
const collapseEmpty = (text) => text.replace(EMPTY_CONTAINER, '$1$2');

function compareTfJson(goldenText, actualText, accepted, problems) {
  let golden;
  let actual;
  try {
    golden = JSON.parse(goldenText);
    actual = JSON.parse(actualText);
  } catch (error) {
    problems.push(`cdk.tf.json does not parse: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  // Text: both must be exactly their JSON written with 2 spaces, the golden's empty containers
  // aside; then every byte of difference between the two files is one of those or a JSON one.
  const canonical = (v) => `${JSON.stringify(v, null, 2)}`;
  if (actualText !== canonical(actual)) problems.push('cdk.tf.json (terrain): its text is not its JSON written with 2 spaces');
  if (collapseEmpty(goldenText) !== canonical(golden)) problems.push('cdk.tf.json (golden): its text is not its JSON written with 2 spaces (empty containers aside)');
  const empties = (goldenText.match(EMPTY_CONTAINER) ?? []).length;
  if (empties > 0) accepted.push(`empty objects or lists written on one line: ${empties}`);
  diffJson(golden, actual, [], accepted, problems);
}

/** A short line diff of two texts: the first differing lines with their numbers. */
function textDiff(golden, actual) {
  const g = golden.split('\n');
  const a = actual.split('\n');
  const out = [];
  for (let i = 0; i < Math.max(g.length, a.length) && out.length < 6; i++) {
    if (g[i] !== a[i]) out.push(`line ${i + 1}: golden ${shown(g[i])}, terrain ${shown(a[i])}`);
  }
  return out.join('\n');
}

/** Compares one synth's stack directory with a golden case; returns its accepted differences and its problems. */
function compareStackFiles(label, golden, actual) {
  const accepted = [];
  const problems = [];
  for (const p of golden.keys()) if (!actual.has(p)) problems.push(`${label}: ${p} missing`);
  for (const p of actual.keys()) if (!golden.has(p)) problems.push(`${label}: ${p} is not in the golden`);
  for (const [p, text] of golden) {
    const other = actual.get(p);
    if (other === undefined || other === text) continue;
    if (p === 'cdk.tf.json') {
      const own = [];
      compareTfJson(text, other, accepted, own);
      problems.push(...own.map((x) => `${label}: ${x}`));
    } else problems.push(`${label}: ${p} differs\n${textDiff(text, other)}`);
  }
  return { accepted, problems };
}

// ---- The check -----------------------------------------------------------------------------------

async function main() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 22 || (major === 22 && minor < 19)) {
    result('node', [`Node ${process.versions.node} is too old: cdktn-cli wants >= 22.19, the providers >= 22.11`]);
    return 1;
  }
  VERSIONS = readVersions();
  PINS = readPins();
  say(`cdk-terrain-check: node ${VERSIONS.node}; cdktn ${VERSIONS.cdktn}, cdktn-cli ${VERSIONS['cdktn-cli']}, @cdktn/provider-aws ${VERSIONS['@cdktn/provider-aws']} (aws ${PINS.aws.terrain}), @cdktn/provider-random ${VERSIONS['@cdktn/provider-random']} (random ${PINS.random.terrain}), constructs ${VERSIONS.constructs}; @cdktf/provider-null ${VERSIONS['@cdktf/provider-null']} (null ${PINS.null.terrain}) bundled from the repository`);
  say(`cdk-terrain-check: against the goldens of cdktf ${VERSIONS.cdktf} (aws ${PINS.aws.golden}, random ${PINS.random.golden}, null ${PINS.null.golden})`);

  const work = mkdtempSync(join(tmpdir(), 'cdk-terrain-check-'));
  try {
    return await check(work);
  } finally {
    if (KEEP) say(`cdk-terrain-check: kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

async function check(work) {
  const goldenCaseDirs = readdirSync(GOLDEN_DIR, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const failAll = (why) => {
    for (const name of ['typecheck', ...goldenCaseDirs, 'cdktn-cli']) if (!reported.has(name)) result(name, [why]);
    return 1;
  };

  // Build: the app (main.ts) and the golden helpers' runner, both against Terrain.
  const buildStart = Date.now();
  const bin = join(work, 'bundle');
  mkdirSync(join(bin, 'node_modules'), { recursive: true });
  // The one require esbuild cannot see (its name is a constant, not a literal): src/synth/
  // token-stack-traces.ts's require('cdktf/lib/tokens/private/stack-trace'). Beside the bundles,
  // `cdktf` is this link to the prefix's cdktn; node resolves it to the same real files as the
  // externals, so it is the same module (moduleProblems checks that it is loaded from there).
  symlinkSync(join(PREFIX, 'node_modules', 'cdktn'), join(bin, 'node_modules', 'cdktf'), 'dir');
  writeFileSync(join(bin, 'record-modules.cjs'), RECORDER);
  let builds;
  try {
    builds = [await bundle(join(ROOT, 'main.ts'), join(bin, 'main.js')), await bundle(join(ROOT, 'scripts', 'cdk-terrain-cases.ts'), join(bin, 'cases.js'))];
  } catch (error) {
    return failAll(`the build failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  const buildProblems = builds.flatMap((b) => b.problems);
  if (buildProblems.length > 0) return failAll(`the build is not a Terrain build:\n${buildProblems.join('\n')}`);
  say(`cdk-terrain-check: built main.ts (${builds[0].inputs} files bundled, ${builds[0].externals} Terrain modules external) in ${seconds(Date.now() - buildStart)}`);

  // typecheck: the same map as TypeScript paths, main.ts and src/ only (as `tsc -p .` types them).
  const tsStart = Date.now();
  const terrainDir = (name) => join(PREFIX, 'node_modules', name);
  const paths = {};
  for (const [from, to] of Object.entries(ALIASES)) {
    paths[from] = [terrainDir(to)];
    paths[`${from}/*`] = [`${terrainDir(to)}/*`];
  }
  writeFileSync(
    join(work, 'tsconfig.json'),
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.json'),
      compilerOptions: { noEmit: true, types: ['node'], typeRoots: [join(NODE_MODULES, '@types')], paths },
      include: [join(ROOT, 'main.ts'), join(ROOT, 'src', '**', '*.ts')],
      exclude: [],
    }),
  );
  const tsc = await run(process.execPath, [requireFromRepo.resolve('typescript/bin/tsc'), '-p', join(work, 'tsconfig.json'), '--listFiles'], { cwd: ROOT });
  const listed = tsc.stdout.split('\n').filter((l) => l.startsWith('/'));
  const tsProblems = tsc.code === 0 ? [] : [`tsc exit ${tsc.code}:\n${(tsc.stdout.split('\n').filter((l) => !l.startsWith('/')).join('\n') + tsc.stderr).trim()}`];
  const cdktfTypes = listed.filter(isReplacedFile);
  if (cdktfTypes.length > 0) tsProblems.push(`typed against the repository's cdktf packages: ${cdktfTypes.slice(0, 3).map((f) => relative(ROOT, f)).join(', ')}`);
  if (!listed.includes(join(terrainDir('cdktn'), 'lib', 'index.d.ts'))) tsProblems.push("cdktn's lib/index.d.ts is not in the program");
  result('typecheck', tsProblems, `main.ts and src/ against cdktn's and @cdktn/provider-*'s types (${listed.length} files) in ${seconds(Date.now() - tsStart)}`);

  // Golden path: the golden helpers, in one process.
  const casesOut = join(work, 'cases');
  const casesRun = await run(process.execPath, ['--enable-source-maps', '--require', join(bin, 'record-modules.cjs'), join(bin, 'cases.js'), casesOut], {
    cwd: ROOT,
    env: synthEnv({ CDK_TERRAIN_MODULES_FILE: join(work, 'cases-modules.txt') }),
  });
  const casesProblems = casesRun.code === 0 ? moduleProblems(join(work, 'cases-modules.txt')) : [`the golden helpers' run failed (exit ${casesRun.code}):\n${tail(casesRun.stderr)}`];
  if (casesProblems.length > 0) {
    for (const name of goldenCaseDirs) result(name, casesProblems.map((p) => `golden helpers: ${p}`));
    result('cdktn-cli', ['not run: the golden helpers failed']);
    return 1;
  }
  /** @type {Array<{name: string, stackName: string}>} */
  const cases = JSON.parse(readFileSync(join(casesOut, 'cases.json'), 'utf8'));
  const scriptLogic = readFileSync(join(casesOut, 'script-logic.txt'), 'utf8');
  if (scriptLogic !== readFileSync(SCRIPT_LOGIC_GOLDEN, 'utf8')) return failAll('the host scripts\' constant logic differs from __tests__/golden/script-logic.sh');
  const markers = { repoRoot: ROOT, scriptLogic };

  // App path: the Terrain build of main.ts, once per case, as `cdktf synth` runs it.
  const appStart = Date.now();
  mkdirSync(join(work, 'app'));
  const appRuns = await pool(cases, Math.max(1, availableParallelism()), async (c) => {
    const outdir = join(work, 'app', c.name);
    const modules = join(work, 'app-modules', `${c.name}.txt`);
    mkdirSync(dirname(modules), { recursive: true });
    const t0 = Date.now();
    const r = await run(process.execPath, ['--require', join(bin, 'record-modules.cjs'), join(bin, 'main.js')], {
      cwd: ROOT,
      env: synthEnv({ ASPERA_CONFIG: join(casesOut, 'configs', `${c.name}.json`), CDKTF_OUTDIR: outdir, CDK_TERRAIN_MODULES_FILE: modules }),
    });
    const problems = [];
    if (r.code !== 0) problems.push(`app: exit ${r.code}:\n${tail(r.stderr)}`);
    else if (r.stderr.trim() !== '' || r.stdout.trim() !== '') problems.push(`app: printed something (a synth prints nothing):\n${tail(r.stdout + r.stderr)}`);
    problems.push(...moduleProblems(modules).map((p) => `app: ${p}`));
    return { problems, outdir, ms: Date.now() - t0 };
  });

  // Compare every case, both paths.
  const allAccepted = new Map();
  const caseNames = cases.map((c) => c.name);
  for (const name of goldenCaseDirs) if (!caseNames.includes(name)) result(name, ['a golden without a case (goldenCases() no longer has it)']);
  cases.forEach((c, i) => {
    const golden = readStackDir(join(GOLDEN_DIR, c.name));
    if (golden.size === 0) {
      result(c.name, ['no golden for this case under __tests__/golden/']);
      return;
    }
    const viaHelpers = compareStackFiles('golden helpers', golden, readStackDir(join(casesOut, 'golden-path', c.name)));
    const app = appRuns[i];
    const viaApp = app.problems.length > 0 ? { accepted: [], problems: app.problems } : compareStackFiles('app', golden, readStackDir(join(app.outdir, 'stacks', c.stackName), markers));
    const accepted = [...new Set([...viaHelpers.accepted, ...viaApp.accepted])];
    for (const a of accepted) {
      const what = a.replace(/: \d+$/, '');
      allAccepted.set(what, (allAccepted.get(what) ?? 0) + 1);
    }
    result(c.name, [...viaHelpers.problems, ...viaApp.problems], `${golden.size} ${golden.size === 1 ? 'file' : 'files'} as golden, via the golden helpers and via the app (${seconds(app.ms)})${accepted.length > 0 ? `; accepted: ${accepted.join(', ')}` : ''}`);
  });
  say(`cdk-terrain-check: ${cases.length} app synths in ${seconds(Date.now() - appStart)}`);

  // cdktn-cli: its synth in the repository (cdktf.json), with the Terrain build as the app.
  const cliStart = Date.now();
  const cliOut = join(work, 'cli');
  const cliModules = join(work, 'cli-modules.txt');
  const cli = await run(process.execPath, [join(PREFIX, 'node_modules', 'cdktn-cli', 'bin', 'cdktn'), 'synth', '--app', `${JSON.stringify(process.execPath)} --require ${JSON.stringify(join(bin, 'record-modules.cjs'))} ${JSON.stringify(join(bin, 'main.js'))}`, '--output', cliOut], {
    cwd: ROOT,
    env: synthEnv({ ASPERA_CONFIG: join(ROOT, 'aspera.config.json'), CDK_TERRAIN_MODULES_FILE: cliModules, CI: '1', PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` }),
  });
  const cliProblems = [];
  if (cli.code !== 0) cliProblems.push(`cdktn synth: exit ${cli.code}:\n${tail(cli.stdout + cli.stderr)}`);
  else {
    const stackName = JSON.parse(readFileSync(join(ROOT, 'aspera.config.json'), 'utf8')).stackName;
    const compared = compareStackFiles('cdktn synth', readStackDir(join(GOLDEN_DIR, 'aspera.config')), readStackDir(join(cliOut, 'stacks', stackName), markers));
    cliProblems.push(...compared.problems, ...moduleProblems(cliModules).map((p) => `cdktn synth's app: ${p}`));
  }
  result('cdktn-cli', cliProblems, `\`cdktn synth --app <the Terrain build>\` with the repository's cdktf.json writes the golden of aspera.config (${seconds(Date.now() - cliStart)})`);

  for (const [what, count] of allAccepted) say(`cdk-terrain-check: accepted in ${count} ${count === 1 ? 'case' : 'cases'}: ${what}`);
  say(`cdk-terrain-check: ${seconds(Date.now() - started)} in all`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => {
    say(`tests: ${passed} passed, ${failed} failed, 0 skipped`);
    process.exitCode = code;
  },
  (error) => {
    say(`cdk-terrain-check: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    say(`tests: ${passed} passed, ${failed + 1} failed, 0 skipped`);
    process.exitCode = 1;
  },
);
