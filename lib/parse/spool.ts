// An upload kept in a temporary file without a name, read back at any offset while it is open.
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

/**
 * The file is created, opened and unlinked at once, so what it holds (a workbook of personal data) is
 * never left in the temporary directory, not even when the process is killed while reading it: the
 * operating system frees it when the file is closed or the process ends.
 */
export class SpooledFile {
  private closed = false;

  private constructor(
    private readonly file: FileHandle,
    readonly size: number,
  ) {}

  /** Writes `chunks` to a new unnamed file in `dir` (the system temporary directory by default). */
  static async write(chunks: AsyncIterable<Buffer>, dir?: string): Promise<SpooledFile> {
    const folder = await mkdtemp(join(dir ?? tmpdir(), 'herald-spool-'));
    let file: FileHandle | undefined;
    try {
      file = await open(join(folder, 'upload'), 'w+', 0o600);
      await rm(folder, { recursive: true, force: true });
      // written chunk by chunk, not through a stream of the handle: such a stream holds the handle,
      // whose close then waits for the stream's own
      let size = 0;
      for await (const chunk of chunks) {
        for (let written = 0; written < chunk.length;) {
          const { bytesWritten } = await file.write(chunk, written, chunk.length - written, size);
          written += bytesWritten;
          size += bytesWritten;
        }
      }
      return new SpooledFile(file, size);
    } catch (error) {
      await rm(folder, { recursive: true, force: true });
      await file?.close();
      throw error;
    }
  }

  /** Exactly `length` bytes from `position`, or fewer when the file ends first. */
  async readAt(position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await this.file.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  }

  /** The bytes from `start` to `end` (inclusive) as a stream; streams may be read side by side. */
  stream(start: number, end: number): Readable {
    // positional reads through the handle: destroying the stream leaves the file open (an fs stream
    // on the descriptor would close it), and closing the handle waits for reads in flight
    const file = this.file;
    let position = start;
    return new Readable({
      highWaterMark: 64 * 1024,
      read(size) {
        const length = Math.min(size, end + 1 - position);
        if (length <= 0) {
          this.push(null);
          return;
        }
        file.read(Buffer.allocUnsafe(length), 0, length, position).then(
          ({ bytesRead, buffer }) => {
            position += bytesRead;
            this.push(bytesRead === 0 ? null : buffer.subarray(0, bytesRead));
          },
          (error: Error) => this.destroy(error),
        );
      },
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.file.close();
  }
}
