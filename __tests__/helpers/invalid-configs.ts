/**
 * The bad-input corpus in __tests__/fixtures/configs/invalid/. Two kinds of file:
 *  - <name>.patch.json: a JSON Merge Patch (RFC 7396) on the example aspera.config.json; it shows
 *    only the mistake (null deletes a field, arrays are replaced whole);
 *  - <name>.json: the config file exactly as given (for broken JSON, an empty file, ...).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..');
export const INVALID_FIXTURES_DIR = join(__dirname, '..', 'fixtures', 'configs', 'invalid');
export const EXAMPLE_CONFIG_PATH = join(REPO_ROOT, 'aspera.config.json');

export const invalidFixtureNames = (): string[] => readdirSync(INVALID_FIXTURES_DIR).filter((f) => f.endsWith('.json')).sort();

/** RFC 7396 JSON Merge Patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** The config file text a fixture stands for. */
export function invalidFixtureText(name: string): string {
  const raw = readFileSync(join(INVALID_FIXTURES_DIR, name), 'utf8');
  if (!name.endsWith('.patch.json')) return raw;
  const example = JSON.parse(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8')) as unknown;
  return `${JSON.stringify(mergePatch(example, JSON.parse(raw)), null, 2)}\n`;
}
