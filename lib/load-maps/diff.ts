// The differences between two load maps (or any two JSON values), path by path, for `herald loadmap diff`.

export interface JsonChange {
  path: string;
  kind: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Objects are compared key by key; arrays and other values whole (a column list is one setting). */
export function diffJson(before: unknown, after: unknown, path = ''): JsonChange[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => {
      const at = path ? `${path}.${key}` : key;
      if (!(key in before)) return [{ path: at, kind: 'added' as const, after: after[key] }];
      if (!(key in after)) return [{ path: at, kind: 'removed' as const, before: before[key] }];
      return diffJson(before[key], after[key], at);
    });
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path, kind: 'changed', before, after }];
}

export function describeJsonChanges(changes: readonly JsonChange[]): string[] {
  return changes.map((c) =>
    c.kind === 'added'
      ? `+ ${c.path}: ${JSON.stringify(c.after)}`
      : c.kind === 'removed'
        ? `- ${c.path}: ${JSON.stringify(c.before)}`
        : `~ ${c.path}: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`,
  );
}
