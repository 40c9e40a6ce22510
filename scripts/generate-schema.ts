/**
 * `npm run schema`: writes aspera.config.schema.json, the editor schema for aspera.config.json,
 * from the zod schema the code validates with (src/config/schema.ts). A test fails when the
 * committed file differs from what this generates, so the two cannot drift apart.
 *
 * The schema describes the config as written (io: "input": defaults are optional, prefixes before
 * normalization). Draft-07 because that is what editors (VS Code, JetBrains) support best.
 * Cross-field rules (accounts differ, grants name declared buckets, ...) cannot be expressed in
 * JSON Schema; `npx cdktf synth` checks them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { configSchema, patternMessage } from '../src/config/schema';

export const EDITOR_SCHEMA_PATH = join(__dirname, '..', 'aspera.config.schema.json');

/**
 * Adds, next to every "pattern", the message the CLI gives for it, as "patternErrorMessage" (a
 * keyword VS Code shows instead of the bare regex; other tools ignore unknown keywords).
 */
function withPatternMessages(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withPatternMessages);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) out[key] = withPatternMessages(value);
  const message = typeof out.pattern === 'string' ? patternMessage(out.pattern) : undefined;
  if (message !== undefined) out.patternErrorMessage = message;
  return out;
}

/** The file's exact content: generated JSON Schema, 2-space indented, trailing newline. */
export function editorSchemaText(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-7', unrepresentable: 'throw' });
  return `${JSON.stringify(withPatternMessages({ ...schema, title: 'aspera-cross-account config' }), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(EDITOR_SCHEMA_PATH, editorSchemaText());
  console.log(`wrote ${EDITOR_SCHEMA_PATH}`);
}
