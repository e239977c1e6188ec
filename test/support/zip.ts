// A minimal zip writer, so tests can build archives exceljs would never write (bombs, hidden entries).
import { crc32 } from 'node:zlib';

export interface ZipPart {
  name: string;
  data: Buffer;
  /** Inflated size claimed in the headers; the real one by default. */
  declaredSize?: number;
  realSize?: number;
  deflated?: boolean;
}

export function zip(parts: ZipPart[], hidden: ZipPart[] = []): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  const local = (part: ZipPart): { header: Buffer; size: number } => {
    const name = Buffer.from(part.name);
    const size = part.declaredSize ?? part.realSize ?? part.data.length;
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(part.deflated === false ? 0 : 8, 8);
    header.writeUInt32LE(part.deflated === false ? crc32(part.data) : 0, 14);
    header.writeUInt32LE(part.data.length, 18);
    header.writeUInt32LE(size, 22);
    header.writeUInt16LE(name.length, 26);
    return { header: Buffer.concat([header, name, part.data]), size };
  };
  for (const part of [...parts, ...hidden]) {
    const { header, size } = local(part);
    if (parts.includes(part)) {
      const name = Buffer.from(part.name);
      const central = Buffer.alloc(46);
      central.writeUInt32LE(0x02014b50, 0);
      central.writeUInt16LE(20, 4);
      central.writeUInt16LE(20, 6);
      central.writeUInt16LE(part.deflated === false ? 0 : 8, 10);
      central.writeUInt32LE(part.data.length, 20);
      central.writeUInt32LE(size, 24);
      central.writeUInt16LE(name.length, 28);
      central.writeUInt32LE(offset, 42);
      centrals.push(Buffer.concat([central, name]));
    }
    locals.push(header);
    offset += header.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(centrals.length, 8);
  end.writeUInt16LE(centrals.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
