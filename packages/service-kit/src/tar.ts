/** The little of the tar format template builds need: write one-file contexts, read a file out of a caller's context. */

const BLOCK = 512;

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

/** A ustar archive of regular files (mode 0644, owner root). */
export function tarOf(files: { name: string; content: Buffer | string }[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    const body = Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content);
    const header = Buffer.alloc(BLOCK);
    header.write(f.name, 0, 100, 'utf8');
    header.write(octal(0o644, 8), 100);
    header.write(octal(0, 8), 108);
    header.write(octal(0, 8), 116);
    header.write(octal(body.length, 12), 124);
    header.write(octal(0, 12), 136);
    header.write('        ', 148);
    header.write('0', 156);
    header.write('ustar\u000000', 257);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    parts.push(header, body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

/** The content of the regular file `name` (`./name` too) in an uncompressed tar, or undefined. */
export function readTarFile(tar: Buffer, name: string): Buffer | undefined {
  let longName: string | undefined;
  for (let off = 0; off + BLOCK <= tar.length;) {
    const header = tar.subarray(off, off + BLOCK);
    if (header.every((b) => b === 0)) return undefined;
    const size = parseInt(header.toString('latin1', 124, 136).replace(/\0.*$/s, '').trim() || '0', 8);
    const type = String.fromCharCode(header[156]!);
    const prefix = header.toString('utf8', 345, 500).replace(/\0.*$/s, '');
    const base = header.toString('utf8', 0, 100).replace(/\0.*$/s, '');
    const entry = longName ?? (prefix ? `${prefix}/${base}` : base);
    const body = tar.subarray(off + BLOCK, off + BLOCK + size);
    off += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (!Number.isFinite(size) || size < 0) return undefined;
    longName = undefined;
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    if ((type === '0' || type === '\0') && entry.replace(/^\.\//, '') === name) return Buffer.from(body);
  }
  return undefined;
}
