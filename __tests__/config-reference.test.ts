/**
 * docs/configuration-reference.md: generated from the zod schema (through the editor JSON Schema)
 * by `npm run docs`, committed, and checked here against a fresh generation, as the editor schema
 * is in config-schema.test.ts.
 */
import { readFileSync } from 'node:fs';
import { configReferenceText, CONFIG_REFERENCE_PATH } from '../scripts/generate-config-reference';
import { EDITOR_SCHEMA_PATH } from '../scripts/generate-schema';

const reference = readFileSync(CONFIG_REFERENCE_PATH, 'utf8');

test('the committed docs/configuration-reference.md is what `npm run docs` generates (run it after changing src/config/schema.ts)', () => {
  expect(reference).toBe(configReferenceText());
});

test('every top-level field and every field of the nested objects has a row, with its description', () => {
  const schema = JSON.parse(readFileSync(EDITOR_SCHEMA_PATH, 'utf8'));
  const rows = (heading: string): string => {
    const start = reference.indexOf(`\n## ${heading}\n`);
    expect(start).toBeGreaterThanOrEqual(0);
    const end = reference.indexOf('\n## ', start + 1);
    return reference.slice(start, end < 0 ? undefined : end);
  };
  const objects: [string, { properties: Record<string, { description?: string }> }][] = [
    ['(top level)', schema],
    ['myAccount', schema.properties.myAccount],
    ['hostRole', schema.properties.hostRole],
    ['grants[]', schema.properties.grants.items],
    ['asperaHosts[]', schema.properties.asperaHosts.items],
    ['asperaFleets[]', schema.properties.asperaFleets.items],
    ['otherHalfState', schema.properties.otherHalfState],
    ['state (backend "s3")', schema.properties.state.oneOf[1]],
  ];
  for (const [heading, node] of objects) {
    const table = rows(heading);
    for (const [key, child] of Object.entries(node.properties)) {
      const row = table.split('\n').find((line) => line.startsWith(`| \`${key}\` |`));
      expect(row).toBeDefined();
      if (child.description) expect(row).toContain(child.description.replace(/\|/g, '\\|').replace(/\n/g, ' '));
    }
  }
});

test('the allowed values carry the CLI\'s messages and the enums', () => {
  expect(reference).toMatch(/\| `access` \| string \| one of `"read-write"`, `"read-only"` \|/);
  expect(reference).toMatch(/\| `port` \| integer \| 1-65535 \(inclusive\) \| `22` \|/);
  expect(reference).toContain('must not start with a prefix AWS reserves');
});

test('every link inside the reference names a heading it has', () => {
  const anchors = new Set(
    [...reference.matchAll(/^#+ (.*)$/gm)].map((m) => m[1].toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-')),
  );
  const links = [...reference.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
  expect(links.length).toBeGreaterThan(5);
  for (const link of links) expect(anchors).toContain(link);
});
