/**
 * How large and how deep a config file may be before anything parses or validates it. This file
 * decides those limits; the loader (load.ts) applies them first, so that no input can crash it
 * (a deeply nested value overflowed the stack) or keep it busy for minutes (a 20 MB file).
 *
 * The limits leave a wide margin over any real config: the deepest field is three levels down
 * (grants[0].prefix), and 5,000 grants (IAM's maximum of roles per account, see MAX_GRANTS) of
 * several hundred bytes each fit in the size limit.
 */
import { withThousands } from '../number-format';
import { GRANTS_ABOVE_ROLE_QUOTA, MAX_GRANTS } from './schema';

/** 4 MiB: room for MAX_GRANTS grants of about 800 bytes each, indentation included. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** Objects and arrays inside each other; a config needs 3. */
export const MAX_NESTING = 32;

/** Why a file of `bytes` bytes is refused unread, or undefined. */
export function sizeProblem(bytes: number): string | undefined {
  if (bytes <= MAX_CONFIG_BYTES) return undefined;
  return `is ${withThousands(bytes)} bytes; a config may be at most ${withThousands(MAX_CONFIG_BYTES)} bytes (4 MiB, room for ${withThousands(MAX_GRANTS)} grants, IAM's maximum)`;
}

/**
 * Offset of the first "{" or "[" that opens level MAX_NESTING + 1, or -1. A linear scan that
 * skips strings, so it works on any text (valid JSON or not) without recursion.
 */
export function tooDeepOffset(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '{' || c === '[') {
      if (++depth > MAX_NESTING) return i;
    } else if (c === '}' || c === ']') depth--;
  }
  return -1;
}

export const nestingProblem = (where: string): string =>
  `${where}: objects and arrays are nested more than ${MAX_NESTING} levels deep; a config needs 3 (grants[0].prefix)`;

/** The grant count as written, when it is over the limit: checked before validating 100,000 grants. */
export function grantCountProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const grants = (value as { grants?: unknown }).grants;
  if (!Array.isArray(grants) || grants.length <= MAX_GRANTS) return undefined;
  return `grants: has ${withThousands(grants.length)} grants; ${GRANTS_ABOVE_ROLE_QUOTA}`;
}
