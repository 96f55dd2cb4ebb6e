// A ustar (POSIX.1-1988) header encoder with pax extended headers (POSIX.1-2001) for what ustar
// cannot hold: the tar format collect writes (plan/collect-archive.ts). Pure: fields in, blocks out.

/** Tar's block size: every header and every member's padded content is a multiple of it. */
export const TAR_BLOCK = 512;
const BLOCK = TAR_BLOCK;

/** One tar member's header fields. type: ustar typeflag ('0' file, '2' symlink, '5' directory). */
export interface TarHeader {
  path: string;
  type: '0' | '2' | '5';
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  link?: string;
}

/**
 * The ustar header blocks for one member, preceded by a pax extended header when a value does not
 * fit ustar (a long or non-ASCII path or link, a size of 8 GiB or more, a large uid), named `paxPath`.
 */
export function tarHeader(h: TarHeader, paxPath = 'PaxHeader'): Buffer[] {
  const pax: Array<[string, string]> = [];
  const fitsText = (s: string, max: number) => Buffer.byteLength(s) <= max && /^[\x20-\x7e]*$/.test(s);
  if (!fitsText(h.path, 100)) pax.push(['path', h.path]);
  if (h.link !== undefined && !fitsText(h.link, 100)) pax.push(['linkpath', h.link]);
  if (h.size > 0o77777777777) pax.push(['size', String(h.size)]);
  if (h.uid > 0o7777777) pax.push(['uid', String(h.uid)]);
  if (h.gid > 0o7777777) pax.push(['gid', String(h.gid)]);
  const blocks: Buffer[] = [];
  if (pax.length) {
    const body = Buffer.from(pax.map(([k, v]) => paxRecord(k, v)).join(''));
    blocks.push(ustar({ path: paxPath, type: 'x', mode: 0o644, uid: 0, gid: 0, mtime: h.mtime, size: body.length }));
    const padded = Buffer.alloc(Math.ceil(body.length / BLOCK) * BLOCK);
    body.copy(padded);
    blocks.push(padded);
  }
  blocks.push(ustar(h));
  return blocks;
}

function paxRecord(key: string, value: string): string {
  const text = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(text) + 1;
  while (String(len).length + Buffer.byteLength(text) !== len) len = String(len).length + Buffer.byteLength(text);
  return `${len}${text}`;
}

function ustar(h: Omit<TarHeader, 'type'> & { type: TarHeader['type'] | 'x' }): Buffer {
  const b = Buffer.alloc(BLOCK);
  // Values too long for a field were put in the pax header; the ustar field gets an ASCII stand-in.
  const ascii = (s: string, max: number) => Buffer.from(s.replace(/[^\x20-\x7e]/g, '_')).subarray(0, max);
  const num = (value: number, offset: number, width: number) => {
    const digits = Math.min(value, 8 ** (width - 1) - 1).toString(8).padStart(width - 1, '0');
    b.write(`${digits}\0`, offset, 'ascii');
  };
  ascii(h.path, 100).copy(b, 0);
  num(h.mode & 0o7777, 100, 8);
  num(h.uid, 108, 8);
  num(h.gid, 116, 8);
  num(h.size, 124, 12);
  num(Math.max(0, h.mtime), 136, 12);
  b.write('        ', 148, 'ascii');
  b.write(h.type, 156, 'ascii');
  if (h.link) ascii(h.link, 100).copy(b, 157);
  b.write('ustar\0', 257, 'ascii');
  b.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return b;
}
