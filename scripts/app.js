// @ts-check
/**
 * The app command of cdktf.json (`node scripts/app.js`): runs main.ts as JavaScript that esbuild
 * (the compiler tsx ships with) bundled from the current sources, instead of compiling each file
 * through tsx's require hook on every synth.
 *
 * No stale code can run: the bundle is cached under .cache/aspera-synth/<key>/, where the key is a
 * SHA-256 of every source file it is built from (main.ts and everything under src/, by path and
 * content), tsconfig.json, this file, the package.json of the one package bundled with them (zod,
 * below), the esbuild version and the repository path. Any edit gives
 * a new key and so a fresh bundle on the next `cdktf synth`; there is no build step to forget.
 * After each build, the files esbuild actually read are checked against that set, so a source
 * outside it (an import from another directory) fails the synth instead of being cached unseen.
 *
 * A crash still points at TypeScript lines: the bundle carries a source map, and source maps are
 * on while it loads and whenever an error is printed (main.ts turns them off only while cdktf
 * loads and the stack is built, see src/synth/).
 *
 * Plain JavaScript on purpose: it is what compiles the TypeScript.
 */
'use strict';
const { createHash } = require('node:crypto');
const { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join, relative, sep } = require('node:path');

const ROOT = join(__dirname, '..');
const ENTRY = join(ROOT, 'main.ts');
const SOURCE_DIR = join(ROOT, 'src');
const CACHE_DIR = join(ROOT, '.cache', 'aspera-synth');
/** Bundles kept: enough to switch between a few branches without rebuilding. */
const KEEP = 8;

/** esbuild as installed with tsx (its exact version is tsx's, locked in package-lock.json). */
const ESBUILD_DIR = dirname(require.resolve('esbuild/package.json', { paths: [dirname(require.resolve('tsx/package.json'))] }));
/** Loaded only to build: a synth from the cache does not pay for it. */
const loadEsbuild = () => /** @type {typeof import('esbuild')} */ (require(ESBUILD_DIR));
const ESBUILD_VERSION = JSON.parse(readFileSync(join(ESBUILD_DIR, 'package.json'), 'utf8')).version;

/**
 * The one package bundled with our sources instead of loaded from node_modules: zod, the schema
 * library, is 95 small files that node would find, read and compile one by one before any config
 * is read (about 0.05 s of CPU per synth more than one bundled file). Its package.json (name and
 * exact version) is part of the cache key, so installing another version rebundles.
 */
const BUNDLED_PACKAGES = ['zod'];
const packageJsonOf = (name) => require.resolve(`${name}/package.json`, { paths: [ROOT] });

/** Every file under dir, sorted. */
function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]))
    .sort();
}

/** The files the bundle is built from; any of them changing gives another cache key. */
const sources = () => [ENTRY, join(ROOT, 'tsconfig.json'), __filename, ...BUNDLED_PACKAGES.map(packageJsonOf), ...filesUnder(SOURCE_DIR)];

/** Where a bundled package's files are: esbuild may read them, and the key covers them by its package.json. */
const bundledPackageDirs = () => BUNDLED_PACKAGES.map((name) => dirname(packageJsonOf(name)) + sep);

function cacheKey(files) {
  const hash = createHash('sha256').update(`esbuild ${ESBUILD_VERSION}\0${ROOT}\0`);
  for (const file of files) {
    const content = readFileSync(file);
    hash.update(`${relative(ROOT, file)}\0${content.length}\0`).update(content);
  }
  return hash.digest('hex').slice(0, 32);
}

/**
 * esbuild puts every module in one file: give each of our modules its own __dirname and
 * __filename (src/aspera/host-scripts.ts reads the script next to it). Written on the first line,
 * so every line keeps its number in the source map.
 */
const ownDirname = {
  name: 'own-dirname',
  /** @param {import('esbuild').PluginBuild} build */
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => ({
      contents: `const __dirname = ${JSON.stringify(dirname(args.path))}, __filename = ${JSON.stringify(args.path)}; ${readFileSync(args.path, 'utf8')}`,
      loader: 'ts',
    }));
  },
};

/** Every package import stays a require() of node_modules, but those of BUNDLED_PACKAGES. */
const externalPackages = {
  name: 'external-packages',
  /** @param {import('esbuild').PluginBuild} build */
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
      return BUNDLED_PACKAGES.includes(name) ? undefined : { path: args.path, external: true };
    });
  },
};

async function build(outfile, files) {
  const result = await loadEsbuild().build({
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'linked',
    // The original file paths in the map, so stack traces name src/... as in the repository. No
    // copy of the sources in it: stack traces need only the positions, and node reads the map
    // whole when the bundle loads.
    sourceRoot: '',
    sourcesContent: false,
    tsconfig: join(ROOT, 'tsconfig.json'),
    metafile: true,
    // A syntax error is reported once, by the rejection below (esbuild's message names file, line and column).
    logLevel: 'silent',
    plugins: [externalPackages, ownDirname],
  });
  const read = Object.keys(result.metafile.inputs).map((input) => join(ROOT, input));
  const packageDirs = bundledPackageDirs();
  const unhashed = read.filter((file) => !files.includes(file) && !packageDirs.some((dir) => file.startsWith(dir)));
  if (unhashed.length > 0) {
    throw new Error(`scripts/app.js: the bundle reads ${unhashed.map((f) => relative(ROOT, f)).join(', ')}, which its cache key does not cover; add them to sources()`);
  }
}

/** Removes all but the newest KEEP bundles. */
function prune() {
  const entries = readdirSync(CACHE_DIR)
    .map((name) => ({ path: join(CACHE_DIR, name), mtime: statSync(join(CACHE_DIR, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { path } of entries.slice(KEEP)) rmSync(path, { recursive: true, force: true });
}

async function bundlePath() {
  const files = sources();
  const dir = join(CACHE_DIR, cacheKey(files));
  const bundle = join(dir, 'main.js');
  if (existsSync(bundle)) return bundle;
  // Built beside, then moved into place in one rename: a synth running at the same time sees
  // either no bundle or a complete one.
  const staging = `${dir}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    await build(join(staging, 'main.js'), files);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  writeFileSync(join(staging, 'sources.txt'), `${files.map((f) => relative(ROOT, f).split(sep).join('/')).join('\n')}\n`);
  try {
    renameSync(staging, dir);
  } catch (error) {
    // Another synth won the race with the same sources: use its bundle.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(bundle)) throw error;
  }
  prune();
  return bundle;
}

bundlePath().then(
  (bundle) => {
    process.setSourceMapsEnabled(true);
    require(bundle);
  },
  (error) => {
    // A syntax error in a source: esbuild's message names the file, line and column.
    process.stderr.write(`Cannot bundle main.ts for synth: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
