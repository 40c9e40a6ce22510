// Parses Mermaid diagrams with the real mermaid library, for __tests__/report.test.ts.
// stdin: a JSON array of diagram sources.
// stdout: a JSON array, per diagram, of { ok: false, error } or { ok: true, diagramType, vertices
// (with their classes), edges, subgraphs } as mermaid's own flowchart database holds them after
// parsing, with label text decoded the way mermaid renders it (entity codes such as #quot; turned back into characters).
//
// Runs in its own node process because mermaid is ESM-only and jest here runs CommonJS. mermaid
// sanitizes labels with DOMPurify, which needs a DOM: jsdom provides one, installed before mermaid
// is first imported (DOMPurify binds to the global window at import time).
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

const { window } = new JSDOM('');
globalThis.window = window;
globalThis.document = window.document;

const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });

// mermaid keeps "#name;" codes as placeholders until rendering, then emits them as HTML entities.
const decode = (text) => {
  const html = String(text).replace(/ﬂ°°/g, '&#').replace(/ﬂ°/g, '&').replace(/¶ß/g, ';');
  const area = window.document.createElement('textarea');
  area.innerHTML = html;
  return area.value;
};

const sources = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
for (const source of sources) {
  try {
    const parsed = await mermaid.parse(source);
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(source);
    const db = diagram.db;
    results.push({
      ok: true,
      diagramType: parsed.diagramType,
      vertices: [...db.getVertices().values()].map((v) => ({ id: v.id, text: decode(v.text), type: v.type, classes: [...(v.classes ?? [])] })),
      edges: db.getEdges().map((e) => ({ start: e.start, end: e.end, text: decode(e.text) })),
      subgraphs: db.getSubGraphs().map((s) => ({ id: s.id, title: decode(s.title), nodes: s.nodes })),
    });
  } catch (error) {
    results.push({ ok: false, error: String(error?.message ?? error) });
  }
}
process.stdout.write(JSON.stringify(results));
