// Byte-level helpers shared by the parsers: counting what was read, and peeking at the first bytes.

export class ByteCounter {
  bytes = 0;
}

/** Passes chunks through as Buffers, counting them; pulling from it pulls from the source, no further. */
export async function* countBytes(
  source: AsyncIterable<Uint8Array | string>,
  counter: ByteCounter,
): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    const buffer =
      typeof chunk === 'string'
        ? Buffer.from(chunk)
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    counter.bytes += buffer.length;
    if (buffer.length > 0) yield buffer;
  }
}

/** Reads until at least `size` bytes (or the end) and returns them with an iterable that replays them. */
export async function peekBytes(
  source: AsyncIterable<Uint8Array | string>,
  size: number,
): Promise<{ head: Buffer; source: AsyncGenerator<Buffer> }> {
  const iterator = countBytes(source, new ByteCounter());
  const chunks: Buffer[] = [];
  let length = 0;
  while (length < size) {
    const next = await iterator.next();
    if (next.done) break;
    chunks.push(next.value);
    length += next.value.length;
  }
  const head = Buffer.concat(chunks);
  async function* replay(): AsyncGenerator<Buffer> {
    try {
      if (head.length > 0) yield head;
      yield* iterator;
    } finally {
      await iterator.return(undefined);
    }
  }
  return { head, source: replay() };
}
