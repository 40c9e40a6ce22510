/**
 * `npm run docs`: writes docs/configuration-reference.md, the field-by-field reference of
 * aspera.config.json, from the same JSON Schema `npm run schema` writes (itself generated from
 * the zod schema in src/config/schema.ts). The descriptions, defaults, allowed values and the
 * messages a wrong value gets all come from the schema, so the reference cannot say something
 * the validation does not do. A test fails when the committed file differs from what this
 * generates: after changing the schema, run `npm run schema` and `npm run docs`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { editorSchemaText } from './generate-schema';

export const CONFIG_REFERENCE_PATH = join(__dirname, '..', 'docs', 'configuration-reference.md');

type Node = Record<string, unknown> & {
  properties?: Record<string, Node>;
  items?: Node;
  allOf?: Node[];
  oneOf?: Node[];
  anyOf?: Node[];
  required?: string[];
  description?: string;
};

/** Markdown table cell: one line, no column break. */
const cell = (text: string): string => text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
const code = (value: unknown): string => `\`${JSON.stringify(value)}\``;

/** A readable type: scalar types, or where the nested object's table is. */
function typeOf(node: Node, path: string): string {
  if (node.type === 'array') {
    const items = node.items ?? {};
    return items.properties ? `array of objects ([${path}[]](#${anchor(`${path}[]`)}))` : `array of ${typeOf(items, `${path}[]`)}`;
  }
  if (node.oneOf && !node.properties) {
    return `object, one of ${node.oneOf.map((v, i) => `[${variantTitle(v, path, i)}](#${anchor(variantTitle(v, path, i))})`).join(', ')}`;
  }
  if (node.properties) return `object ([${path}](#${anchor(path)}))`;
  return typeof node.type === 'string' ? node.type : 'any';
}

/** Everything the schema constrains about a value, in words. */
function allowed(node: Node): string {
  const parts: string[] = [];
  if (Array.isArray(node.enum)) parts.push(`one of ${node.enum.map(code).join(', ')}`);
  if ('const' in node) parts.push(`exactly ${code(node.const)}`);
  const range = (min: unknown, max: unknown, unit: string): void => {
    if (min !== undefined && max !== undefined) parts.push(`${min}-${max} ${unit}`);
    else if (min !== undefined) parts.push(`at least ${min} ${unit}`);
    else if (max !== undefined) parts.push(`at most ${max} ${unit}`);
  };
  range(node.minLength, node.maxLength, 'characters');
  range(node.minimum, node.maximum, '(inclusive)');
  range(node.minItems, node.maxItems, 'entries');
  for (const n of [node, ...(node.allOf ?? [])]) {
    if (typeof n.patternErrorMessage === 'string') parts.push(`${n.patternErrorMessage}`);
    else if (typeof n.pattern === 'string') parts.push(`matches \`${n.pattern}\``);
  }
  return parts.join('; ');
}

/** The heading of one variant of a oneOf object: by its backend where it has one. */
function variantTitle(variant: Node, path: string, i: number): string {
  const backend = variant.properties?.backend?.const;
  return backend !== undefined ? `${path} (backend ${JSON.stringify(backend)})` : `${path} (variant ${i + 1})`;
}

/** GitHub's heading anchor for the headings this file writes. */
function anchor(path: string): string {
  return path.toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-');
}

interface Table {
  path: string;
  note?: string;
  node: Node;
}

/** Every object of the schema, in document order, as one table each; variants as one table each. */
function tables(node: Node, path: string, out: Table[]): Table[] {
  if (node.type === 'array' && node.items) return tables(node.items, `${path}[]`, out);
  if (node.oneOf && !node.properties) {
    node.oneOf.forEach((variant, i) => {
      const title = variantTitle(variant, path, i);
      out.push({ path: title, node: { ...variant, description: variant.description ?? node.description } });
      for (const [key, child] of Object.entries(variant.properties ?? {})) tables(child, `${title}.${key}`, out);
    });
    return out;
  }
  if (!node.properties) return out;
  let note: string | undefined;
  if (node.oneOf) {
    note = `Exactly one of: ${node.oneOf.map((v) => (v.required ?? []).map((r) => `\`${r}\``).join(' + ')).join(', ')}.`;
  }
  out.push({ path, node, note });
  for (const [key, child] of Object.entries(node.properties)) tables(child, path === '(top level)' ? key : `${path}.${key}`, out);
  return out;
}

function render(table: Table): string {
  const { node } = table;
  const rowPath = (key: string): string => (table.path === '(top level)' ? key : `${table.path}.${key}`);
  const required = new Set(node.required ?? []);
  const lines = [`## ${table.path}`, ''];
  if (node.description) lines.push(node.description, '');
  if (table.note) lines.push(table.note, '');
  lines.push('| Field | Type | Allowed values | Default | Required | Description |', '|---|---|---|---|---|---|');
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const row = [
      `\`${key}\``,
      typeOf(child, rowPath(key)),
      allowed(child),
      'default' in child ? code(child.default) : '',
      required.has(key) ? 'yes' : '',
      child.description ?? '',
    ];
    lines.push(`| ${row.map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The file's exact content. */
export function configReferenceText(): string {
  const schema = JSON.parse(editorSchemaText()) as Node;
  const head = [
    '# Configuration reference',
    '',
    '<!-- Generated by `npm run docs` (scripts/generate-config-reference.ts) from the zod schema in src/config/schema.ts; do not edit by hand. -->',
    '',
    'Every field of `aspera.config.json`, one table per object. Every object is closed: an unknown',
    'field is an error, at any depth. "Allowed values" lists what the schema checks, with the message',
    'a wrong value gets. Rules that tie fields together, the IAM size limits and the limits on the file',
    'itself are in [configuration.md](configuration.md).',
  ];
  if (schema.else && (schema.else as Node).required) {
    head.push('', `In mode \`"both"\` (the default) also required: ${((schema.else as Node).required ?? []).map((r) => `\`${r}\``).join(', ')}.`);
  }
  return `${[head.join('\n'), ...tables(schema, '(top level)', []).map(render)].join('\n\n')}\n`;
}

if (require.main === module) {
  writeFileSync(CONFIG_REFERENCE_PATH, configReferenceText());
  console.log(`wrote ${CONFIG_REFERENCE_PATH}`);
}
