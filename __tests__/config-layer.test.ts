/**
 * The config is the bottom layer: src/config/ may import from src/aws/, src/ssh/ and its own files,
 * never from the layers that read a config (iam/, modes/, aspera/, constructs/). This scans every
 * import and export-from line of src/config, static and dynamic, so a new upward import fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const SRC = resolve(__dirname, '../src');
const CONFIG = join(SRC, 'config');
const ABOVE = ['iam', 'modes', 'aspera', 'constructs'];

/** Every module specifier in a TypeScript file: import/export ... from '...', import('...'), require('...'). */
function moduleSpecifiers(source: string): string[] {
  const out: string[] = [];
  const patterns = [/\b(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) out.push(match[1]);
  return out;
}

/** The src/ directory a relative specifier in `file` lands in ("iam" for ../iam/arns), or undefined. */
function layerOf(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const target = relative(SRC, resolve(join(file, '..'), specifier));
  return target.startsWith('..') ? '(outside src)' : target.split('/')[0];
}

const configFiles = readdirSync(CONFIG, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts'))
  .map((f) => join(CONFIG, f));

describe('src/config imports nothing from the layers above it', () => {
  it('finds the config files and their imports (the scan itself works)', () => {
    expect(configFiles.map((f) => relative(CONFIG, f))).toEqual(expect.arrayContaining(['schema.ts', 'fields.ts', 'cross-field.ts', 'modes.ts']));
    expect(moduleSpecifiers(readFileSync(join(CONFIG, 'schema.ts'), 'utf8'))).toEqual(expect.arrayContaining(['zod', './fields']));
  });

  it('the scan catches each kind of upward import', () => {
    const file = join(CONFIG, 'x.ts');
    const caught = (line: string) => moduleSpecifiers(line).map((s) => layerOf(file, s));
    expect(caught("import { a } from '../iam/arns';")).toEqual(['iam']);
    expect(caught("import type {\n  Mode,\n} from '../modes/mode';")).toEqual(['modes']);
    expect(caught("export { b } from \"../aspera/docroot\";")).toEqual(['aspera']);
    expect(caught("const c = require('../constructs/aspera-hosts');")).toEqual(['constructs']);
    expect(caught("await import('../iam/limits');")).toEqual(['iam']);
    expect(caught("import '../modes/mode';")).toEqual(['modes']);
    expect(caught("import { z } from 'zod';\nimport { d } from '../aws/arns';")).toEqual([undefined, 'aws']);
  });

  it.each(configFiles.map((f) => [relative(SRC, f), f]))('%s', (_name, file) => {
    const upward = moduleSpecifiers(readFileSync(file, 'utf8')).filter((s) => {
      const layer = layerOf(file, s);
      return layer !== undefined && (ABOVE.includes(layer) || layer === '(outside src)');
    });
    expect(upward).toEqual([]);
  });
});
