import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// Each folder of lib/ (and each file directly in lib/) is one part of the design; when two parts
// import each other, neither can be read, tested or moved alone. These tests keep the parts layered.

const LIB = path.resolve(import.meta.dirname, '../../lib');

/** The part of lib/ a path belongs to: its top folder, or the file itself when it sits in lib/. */
function partOf(file: string): string | undefined {
  const rel = path.relative(LIB, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const [top, ...rest] = rel.split(path.sep);
  return rest.length > 0 ? top : top!.replace(/\.ts$/, '');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [full] : [];
  });
}

/** part → the parts it imports, each with one file that does it (type-only imports count too). */
function partImports(files: readonly string[]): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of files) {
    const from = partOf(file)!;
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const to = partOf(path.resolve(path.dirname(file), fileName));
      if (to && to !== from && !edges.has(to)) edges.set(to, path.relative(LIB, file));
    }
  }
  return graph;
}

/** Every group of parts that reach each other through imports (Tarjan's strongly connected components). */
function importCycles(graph: ReadonlyMap<string, ReadonlyMap<string, string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1) cycles.push(group.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return cycles;
}

function describeCycle(graph: ReadonlyMap<string, ReadonlyMap<string, string>>, group: string[]): string {
  const members = new Set(group);
  const edges = group.flatMap((a) =>
    [...(graph.get(a) ?? [])].filter(([b]) => members.has(b)).map(([b, file]) => `${a} -> ${b} (${file})`),
  );
  return `${group.join(', ')}: ${edges.join('; ')}`;
}

describe('lib/ layering', () => {
  it('has no import cycle between its folders', () => {
    const graph = partImports(sourceFiles(LIB));
    expect(graph.get('ingest')?.has('load-maps')).toBe(true);
    expect(importCycles(graph).map((group) => describeCycle(graph, group))).toEqual([]);
  });

  it('finds a cycle through three folders, not only between two', () => {
    const graph = new Map([
      ['a', new Map([['b', 'a/x.ts']])],
      ['b', new Map([['c', 'b/y.ts']])],
      ['c', new Map([['a', 'c/z.ts']])],
      ['d', new Map([['a', 'd/w.ts']])],
    ]);
    expect(importCycles(graph)).toEqual([['a', 'b', 'c']]);
    expect(describeCycle(graph, ['a', 'b', 'c'])).toBe(
      'a, b, c: a -> b (a/x.ts); b -> c (b/y.ts); c -> a (c/z.ts)',
    );
  });
});
