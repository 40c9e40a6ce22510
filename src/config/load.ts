/**
 * Reading and validating a config file. Pure apart from reading the file: the result is either a
 * validated Config or a list of problems, one line each, that name the field's JSON path.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { configSchema, type Config } from './schema';

export const DEFAULT_CONFIG_PATH = 'aspera.config.json';

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

/** The config file every command uses: $ASPERA_CONFIG, else ./aspera.config.json. */
export function configPathFromEnv(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return resolve(cwd, env.ASPERA_CONFIG && env.ASPERA_CONFIG.length > 0 ? env.ASPERA_CONFIG : DEFAULT_CONFIG_PATH);
}

/** "grants[0].bucket" from ["grants", 0, "bucket"]; "(config)" for the root. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(config)' : out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): { present: boolean; value: unknown } {
  let current: unknown = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !Object.prototype.hasOwnProperty.call(current, key)) {
      return { present: false, value: undefined };
    }
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return { present: true, value: current };
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string[] {
  const path = jsonPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${jsonPath([...issue.path, key])}: unknown field (check the spelling; see aspera.config.schema.json for the allowed fields)`);
  }
  if (issue.code === 'invalid_type') {
    if (issue.path.length === 0) return ['(config): must be a JSON object with the fields described in aspera.config.schema.json'];
    const at = valueAt(input, issue.path);
    if (!at.present) return [`${path}: is required; it ${issue.message}`];
    return [`${path}: ${issue.message} (got ${JSON.stringify(at.value)})`];
  }
  if (issue.code === 'invalid_union' && issue.errors.length > 0 && issue.message === 'Invalid input') {
    // A union without its own message: report the closest alternative's problems.
    const best = [...issue.errors].sort((a, b) => a.length - b.length)[0];
    return best.flatMap((inner) => describeIssue({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue, input));
  }
  return [`${path}: ${issue.message}`];
}

/** Validates an already-parsed JSON value. */
export function validateConfig(value: unknown): ConfigResult {
  const result = configSchema.safeParse(value);
  if (result.success) return { ok: true, config: result.data };
  const problems = result.error.issues.flatMap((issue) => describeIssue(issue, value));
  return { ok: false, problems: [...new Set(problems)] };
}

/** Parses and validates config text; `source` names the file in messages. */
export function parseConfig(text: string, source = DEFAULT_CONFIG_PATH): ConfigResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [`(config): ${source} is not valid JSON: ${(error as Error).message}`] };
  }
  return validateConfig(value);
}

export function loadConfigFile(path: string): ConfigResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : (error as Error).message;
    return { ok: false, problems: [`(config): cannot read ${path}: ${why} (set ASPERA_CONFIG to choose another file)`] };
  }
  return parseConfig(text, path);
}
