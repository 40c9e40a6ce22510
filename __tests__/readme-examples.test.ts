/**
 * The README's `json` blocks can be copied: each is valid JSON, or object members to paste inside
 * the config's top-level { } (no comments, no "..."). JSON has no comments, and the loader refuses
 * a config that has them, so an example with "//" would be refused as soon as it is pasted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers/invalid-configs';

const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

/** [line number, block text] of every fenced block tagged `json`, indentation removed. */
function jsonBlocks(markdown: string): [number, string][] {
  const blocks: [number, string][] = [];
  for (const m of markdown.matchAll(/^( *)```json\n([\s\S]*?)^\1```/gm)) {
    const line = markdown.slice(0, m.index).split('\n').length;
    blocks.push([line, m[2].split('\n').map((l) => l.slice(m[1].length)).join('\n')]);
  }
  return blocks;
}

const parses = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

test('the README has json examples (so the check below checks something)', () => {
  expect(jsonBlocks(README).length).toBeGreaterThanOrEqual(5);
  expect(jsonBlocks('```json\n{"a": 1} // no\n```\n')).toEqual([[1, '{"a": 1} // no\n']]);
});

test.each(jsonBlocks(README))('the json block at README.md line %i is JSON, or members of an object', (_, text) => {
  const members = text.trim().replace(/,$/, '');
  expect(parses(text) || parses(`{${members}}`)).toBe(true);
});
