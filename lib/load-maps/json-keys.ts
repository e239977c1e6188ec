// Finds keys written twice in one JSON object: JSON.parse keeps the last silently, so a map would lose the first.

export interface DuplicateKey {
  /** the object's path, e.g. "fields.phone" ("" for the top level) */
  path: string;
  key: string;
  /** 1-based line of the second occurrence */
  line: number;
}

/**
 * Scans JSON text (already known to parse, or not: a syntax error just ends the scan) and lists every
 * key that repeats within its object, with the object's path and the line of the repeat.
 */
export function findDuplicateKeys(text: string): DuplicateKey[] {
  const found: DuplicateKey[] = [];
  let i = 0;
  let line = 1;

  const skipSpace = (): void => {
    while (i < text.length) {
      const c = text[i];
      if (c === '\n') line += 1;
      else if (c !== ' ' && c !== '\t' && c !== '\r') return;
      i += 1;
    }
  };
  const readString = (): string => {
    // text[i] is the opening quote; JSON.parse decodes the escapes exactly as the map's reader will
    const start = i;
    i += 1;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i += 1;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return text.slice(start + 1, i - 1);
    }
  };
  const readValue = (path: string): void => {
    skipSpace();
    const c = text[i];
    if (c === '{') readObject(path);
    else if (c === '[') readArray(path);
    else if (c === '"') readString();
    else while (i < text.length && !/[\s,\]}]/.test(text[i]!)) i += 1;
  };
  const readArray = (path: string): void => {
    i += 1;
    for (let index = 0; i < text.length; index += 1) {
      skipSpace();
      if (text[i] === ']') {
        i += 1;
        return;
      }
      readValue(path ? `${path}.${index}` : String(index));
      skipSpace();
      if (text[i] === ',') i += 1;
      else if (text[i] !== ']') return;
    }
  };
  const readObject = (path: string): void => {
    i += 1;
    const keys = new Set<string>();
    while (i < text.length) {
      skipSpace();
      if (text[i] === '}') {
        i += 1;
        return;
      }
      if (text[i] !== '"') return;
      const keyLine = line;
      const key = readString();
      if (keys.has(key)) found.push({ path, key, line: keyLine });
      keys.add(key);
      skipSpace();
      if (text[i] !== ':') return;
      i += 1;
      readValue(path ? `${path}.${key}` : key);
      skipSpace();
      if (text[i] === ',') i += 1;
      else if (text[i] !== '}') return;
    }
  };

  readValue('');
  return found;
}

/** "fields.phone: the key "rules" is written twice (line 14); JSON keeps only the last" for each repeat. */
export function describeDuplicateKeys(duplicates: readonly DuplicateKey[]): string[] {
  return duplicates.map(
    (d) =>
      `${d.path ? `${d.path}.${d.key}` : d.key}: written twice in one object (again on line ${d.line}); JSON keeps only the last, so the first is lost`,
  );
}
