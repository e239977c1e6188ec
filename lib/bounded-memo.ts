// Remembered answers of a pure function asked the same few questions again and again, in bounded memory.

/**
 * At most `limit` answers, by key. When full it forgets everything and starts over: the callers' inputs
 * repeat a few hundred or thousand values, so a cleared memo refills at once, and no bookkeeping is paid per row
 * as a least-recently-used order would.
 */
export class BoundedMemo<K, V> {
  private readonly known = new Map<K, V>();

  constructor(private readonly limit: number) {}

  get(key: K): V | undefined {
    return this.known.get(key);
  }

  /** Remembers `value` for `key` and returns it. */
  set(key: K, value: V): V {
    if (this.known.size >= this.limit) this.known.clear();
    this.known.set(key, value);
    return value;
  }
}

/**
 * A copy of a cell's text to remember it by. A cell is a slice of the parser's whole piece of text, and
 * a memo that kept the slice would keep that piece alive; the concatenation and slice make a short
 * string of its own.
 */
export function detachedText(text: string): string {
  return ` ${text}`.slice(1);
}
