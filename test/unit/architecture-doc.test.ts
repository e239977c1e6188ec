import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// docs/architecture.md is where a newcomer finds the code of each stage and what each part of lib/
// holds: these tests keep it from naming files that moved and from leaving new parts out.

const ROOT = path.resolve(import.meta.dirname, '../..');
const DOC = readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8');
const LIB = path.join(ROOT, 'lib');

describe('docs/architecture.md', () => {
  it('has a line for every folder of lib/ and names every file directly in it', () => {
    const entries = readdirSync(LIB, { withFileTypes: true });
    const folders = entries.filter((e) => e.isDirectory()).map((e) => `lib/${e.name}/`);
    const files = entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => e.name);
    expect(folders.filter((f) => !DOC.includes(`| \`${f}\``))).toEqual([]);
    expect(files.filter((f) => !DOC.includes(`\`${f}\``))).toEqual([]);
  });

  it('names only paths that exist', () => {
    const named = new Set(
      DOC.match(/\b(?:lib|workflows|activities|workers|scripts|schemas|test)\/[\w./-]*\w/g),
    );
    expect(named.size).toBeGreaterThan(40);
    // a pattern such as schemas/migrations/NNNN_name.sql names a kind of file, not one
    const paths = [...named].filter((p) => !p.includes('NNNN'));
    expect(paths.filter((p) => !existsSync(path.join(ROOT, p)))).toEqual([]);
  });

  it('points every stage of the data flow at its code', () => {
    const flow = DOC.slice(DOC.indexOf('## Data flow'), DOC.indexOf('## The Temporal split'));
    const stages = [
      'source fetch',
      'parse',
      'map',
      'clean',
      'stage',
      'merge',
      'region',
      'reminder run, due steps',
      'screening',
      'claim',
      'send',
      'callbacks',
      'replies',
      'webhooks',
      'archive',
    ];
    const where = new Map(
      flow
        .split('\n')
        .filter((l) => l.startsWith('| '))
        .map((l) => l.split('|').map((c) => c.trim()))
        .map(([, stage, , code]) => [stage!, code!]),
    );
    expect(stages.filter((s) => !/`(lib|workflows|activities)\/[^`]+`/.test(where.get(s) ?? ''))).toEqual([]);
  });
});
