/**
 * Reading and validating a config file. Pure apart from reading the file: the result is either a
 * validated Config or a list of problems, one line each, that start with the field's JSON path
 * ("grants[0].bucket: ...", "(config): ..." for the file as a whole).
 *
 * It sits above src/config (the schema, the bottom layer) because a config that passed the schema
 * is then held to what AWS accepts of the policies it renders (src/iam/limits.ts).
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import type { z } from 'zod';
import { hostPathLimitProblems } from './aspera/limits';
import { iamLimitProblems } from './iam/limits';
import { grantCountProblem, MAX_CONFIG_BYTES, nestingProblem, sizeProblem, tooDeepOffset } from './config/input-limits';
import { configSchema, type Config } from './config/schema';

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
    else if (/^[A-Za-z_$][\w$]*$/.test(String(key))) out += out === '' ? String(key) : `.${String(key)}`;
    // A key that is not an identifier (someone typed "my account"): quote it, so the line stays
    // unambiguous and a key with a newline cannot split it.
    else out += `[${JSON.stringify(String(key))}]`;
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

/** A value shown back to the user: JSON (so control characters are escaped), and short. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string[] {
  const path = jsonPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${jsonPath([...issue.path, key])}: unknown field (check the spelling; the allowed fields are in aspera.config.schema.json)`);
  }
  if (issue.code === 'invalid_type' && issue.path.length === 0) {
    return [`(config): must be a JSON object with the fields described in aspera.config.schema.json (got ${shown(input)})`];
  }
  if (issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'invalid_union') {
    const at = valueAt(input, issue.path);
    if (!at.present) return [`${path}: is required; it ${issue.message}`];
    if (issue.code === 'invalid_type') return [`${path}: ${issue.message} (got ${shown(at.value)})`];
  }
  if (issue.code === 'invalid_union' && issue.errors.length > 0 && issue.message === 'Invalid input') {
    // A union without its own message: report the closest alternative's problems.
    const best = [...issue.errors].sort((a, b) => a.length - b.length)[0];
    return best.flatMap((inner) => describeIssue({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue, input));
  }
  return [`${path}: ${issue.message}`];
}

/**
 * Validates an already-parsed JSON value: the schema (fields and the rules across them), then,
 * for a config that passed, what AWS will accept of the policies it renders (src/iam/limits.ts)
 * and of what the host path hands to SSM and the hosts (src/aspera/limits.ts).
 */
export function validateConfig(value: unknown): ConfigResult {
  const tooMany = grantCountProblem(value);
  if (tooMany !== undefined) return { ok: false, problems: [tooMany] };
  const result = configSchema.safeParse(value);
  if (result.success) {
    const problems = [...iamLimitProblems(result.data), ...hostPathLimitProblems(result.data)];
    return problems.length === 0 ? { ok: true, config: result.data } : { ok: false, problems: problems.map((p) => `${jsonPath(p.path)}: ${p.message}`) };
  }
  const problems = result.error.issues.flatMap((issue) => describeIssue(issue, value));
  // One line per problem, whatever a message contains.
  return { ok: false, problems: [...new Set(problems.map((p) => p.replace(/\s*\n\s*/g, ' ')))] };
}

/** 1-based line and column of a character offset. */
function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/**
 * Offset of the first character that makes `text` invalid JSON, or -1 when the text is only
 * incomplete. V8 does not always say where ("Unexpected token ']', ... is not valid JSON"), so
 * find it: the longest prefix that could still start a valid document ends just before it.
 */
function syntaxErrorOffset(text: string): number {
  const couldContinue = (length: number): boolean => {
    try {
      JSON.parse(text.slice(0, length));
      return true;
    } catch (error) {
      const message = (error as Error).message;
      if (/Unexpected end of JSON input/.test(message)) return true;
      const at = / at position (\d+)/.exec(message);
      return at !== null && Number(at[1]) >= length;
    }
  };
  if (couldContinue(text.length)) return -1;
  let good = 0;
  let bad = text.length;
  while (bad - good > 1) {
    const mid = Math.floor((good + bad) / 2);
    if (couldContinue(mid)) good = mid;
    else bad = mid;
  }
  return bad - 1;
}

/** JSON.parse's complaint, located: "line 3, column 7: Expected ',' or '}' after property value". */
function describeJsonError(text: string, error: Error): string {
  const reason = error.message
    // V8 quotes the surrounding text ('Unexpected token ']', ..."x" },]..." is not valid JSON'),
    // which may span lines; the location says it better.
    .replace(/,\s*(\.\.\.)?"[\s\S]*is not valid JSON$/, '')
    .replace(/ (in JSON )?at position \d+[\s\S]*$/, '')
    .split('\n')[0];
  const offset = syntaxErrorOffset(text);
  if (offset < 0) {
    const { line, column } = lineAndColumn(text, text.length);
    return `line ${line}, column ${column}: the file ends before the JSON value is complete (a missing "}" or "]"?)`;
  }
  const { line, column } = lineAndColumn(text, offset);
  // JSON has no comments; editors (and JSONC files) accept them, so say so plainly.
  if (text.startsWith('//', offset) || text.startsWith('/*', offset)) {
    return `line ${line}, column ${column}: JSON does not allow comments ("//" or "/* */"); remove the comment`;
  }
  return `line ${line}, column ${column}: ${reason}`;
}

/**
 * Keys that occur twice in one object. JSON.parse silently keeps the last one, which would hide a
 * pasted duplicate ("grants" twice) just like a typo would: report them instead. `text` is valid JSON.
 */
export function duplicateKeyPaths(text: string): string[] {
  type Frame = { kind: 'object'; keys: Set<string>; key?: string; expectKey: boolean } | { kind: 'array'; index: number };
  const stack: Frame[] = [];
  const duplicates: string[] = [];
  const pathOf = (frames: Frame[]) => frames.map((f) => (f.kind === 'object' ? (f.key as string) : f.index));
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.kind === 'object' && top.expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) duplicates.push(jsonPath([...pathOf(stack.slice(0, -1)), key]));
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = end;
    } else if (c === '{') stack.push({ kind: 'object', keys: new Set(), expectKey: true });
    else if (c === '[') stack.push({ kind: 'array', index: 0 });
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.kind === 'object') top.expectKey = true;
      else if (top?.kind === 'array') top.index++;
    }
  }
  return [...new Set(duplicates)];
}

/** Parses and validates config text; `source` names the file in messages. */
export function parseConfig(text: string, source = DEFAULT_CONFIG_PATH): ConfigResult {
  // Editors on Windows may save a byte-order mark, which JSON.parse rejects.
  const json = text.replace(/^\uFEFF/, '');
  if (json.trim() === '') {
    return { ok: false, problems: [`(config): ${source} is empty; it must hold a JSON object (see aspera.config.json for an example)`] };
  }
  const tooBig = sizeProblem(Buffer.byteLength(json, 'utf8'));
  if (tooBig !== undefined) return { ok: false, problems: [`(config): ${source} ${tooBig}`] };
  // Before JSON.parse: nothing below may recurse through a value nested without limit.
  const deep = tooDeepOffset(json);
  if (deep >= 0) {
    const { line, column } = lineAndColumn(json, deep);
    return { ok: false, problems: [nestingProblem(`(config): ${source} line ${line}, column ${column}`)] };
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return { ok: false, problems: [`(config): ${source} is not valid JSON: ${describeJsonError(json, error as Error)}`] };
  }
  const duplicates = duplicateKeyPaths(json).map((path) => `${path}: appears more than once in the same object (JSON keeps only the last one; remove the others)`);
  const result = validateConfig(value);
  if (duplicates.length === 0) return result;
  return { ok: false, problems: [...duplicates, ...(result.ok ? [] : result.problems)] };
}

/**
 * Why a path is not read as a config, when it is not a regular file; undefined for a regular file.
 * Only a regular file has a size to check before reading and an end: /dev/zero never ends, /dev/tty
 * and a FIFO wait for someone to write, and a directory has no text.
 */
function notARegularFile(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isDirectory()) return 'it is a directory';
  if (stats.isCharacterDevice()) return 'it is a character device, not a regular file';
  if (stats.isBlockDevice()) return 'it is a block device, not a regular file';
  if (stats.isFIFO()) return 'it is a named pipe (FIFO), not a regular file';
  if (stats.isSocket()) return 'it is a socket, not a regular file';
  return 'it is not a regular file';
}

/** At most `limit` bytes from `fd`, in a buffer sized for `expected` bytes first (a file may grow while it is read). */
function readAtMost(fd: number, expected: number, limit: number): Buffer {
  let buffer = Buffer.allocUnsafe(Math.min(expected + 1, limit));
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (length >= limit) break;
      const larger = Buffer.allocUnsafe(Math.min(buffer.length * 2, limit));
      buffer.copy(larger, 0, 0, length);
      buffer = larger;
    }
    const read = readSync(fd, buffer, length, buffer.length - length, null);
    if (read === 0) break;
    length += read;
  }
  return buffer.subarray(0, length);
}

/**
 * Reads and validates the config file at `path`. Only a regular file is read: anything else is one
 * line naming it, before it is opened. The size limit is checked on the file that was opened
 * (fstat), before reading, and the read stops one byte past the limit whatever happens meanwhile.
 */
export function loadConfigFile(path: string): ConfigResult {
  const cannotRead = (why: string): ConfigResult => ({ ok: false, problems: [`(config): cannot read ${path}: ${why} (set ASPERA_CONFIG to choose another file)`] });
  let fd: number | undefined;
  let text: string;
  try {
    const kind = notARegularFile(statSync(path));
    if (kind !== undefined) return cannotRead(kind);
    // Non-blocking, so that a FIFO put at this path since the stat does not hold the open until a
    // writer comes: it is then refused by the fstat below. Reading a regular file is unaffected.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const stats = fstatSync(fd);
    const opened = notARegularFile(stats);
    if (opened !== undefined) return cannotRead(opened);
    // Refused unread: a file too big for a config is not read into memory at all.
    const tooBig = sizeProblem(stats.size);
    if (tooBig !== undefined) return { ok: false, problems: [`(config): ${path} ${tooBig}`] };
    // One byte past the limit is enough for parseConfig to refuse a file that grew meanwhile.
    text = readAtMost(fd, stats.size, MAX_CONFIG_BYTES + 1).toString('utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return cannotRead(code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message.split('\n')[0]);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return parseConfig(text, path);
}
