// What the Windows loader reads of a PE file, read here to prove the Windows archive by structure
// (no Windows and no wine that runs Node 24 on this machine): machine, PE32+, DLL or executable,
// subsystem, the DLLs it imports and those it delay-loads, the certificate table.

/** The fields of a PE image the packaging tests check. */
export interface PeImage {
  /** IMAGE_FILE_MACHINE_*: 0x8664 x86-64, 0xaa64 arm64. */
  machine: number;
  /** 0x20b for PE32+. */
  magic: number;
  /** IMAGE_FILE_DLL set (a .node addon and a .dll are DLLs, an .exe not). */
  dll: boolean;
  /** IMAGE_SUBSYSTEM_*: 3 console, 2 GUI. */
  subsystem: number;
  /** DLL names of the import directory, as written. */
  imports: string[];
  /** DLL names of the delay-load import directory. */
  delayImports: string[];
  /** Data directory 4: [file offset, size]. */
  certificate: [number, number];
}

/** Parses the headers and import tables of a PE image; throws on anything else. */
export function readPe(buf: Buffer): PeImage {
  if (buf.toString('latin1', 0, 2) !== 'MZ') throw new Error('no MZ header');
  const pe = buf.readUInt32LE(0x3c);
  if (buf.toString('latin1', pe, pe + 4) !== 'PE\0\0') throw new Error('no PE signature');
  const sections = buf.readUInt16LE(pe + 6);
  const optional = pe + 24;
  const magic = buf.readUInt16LE(optional);
  if (magic !== 0x20b) throw new Error(`not PE32+ (magic 0x${magic.toString(16)})`);
  const directory = (i: number): [number, number] => [buf.readUInt32LE(optional + 112 + 8 * i), buf.readUInt32LE(optional + 116 + 8 * i)];
  const table = optional + buf.readUInt16LE(pe + 20);
  // A relative virtual address to a file offset, through the section it falls in.
  const offset = (rva: number): number => {
    for (let i = 0; i < sections; i++) {
      const s = table + 40 * i;
      const [virtualSize, va, rawSize, raw] = [buf.readUInt32LE(s + 8), buf.readUInt32LE(s + 12), buf.readUInt32LE(s + 16), buf.readUInt32LE(s + 20)];
      if (rva >= va && rva < va + Math.max(virtualSize, rawSize)) return rva - va + raw;
    }
    throw new Error(`RVA 0x${rva.toString(16)} is in no section`);
  };
  const name = (rva: number) => {
    const at = offset(rva);
    return buf.toString('latin1', at, buf.indexOf(0, at));
  };
  // Both tables end with an all-zero entry; the name's RVA is field 3 of 5 (imports), 1 of 8 (delay).
  const names = (dir: number, entrySize: number, nameField: number) => {
    const [rva] = directory(dir);
    const out: string[] = [];
    for (let at = rva ? offset(rva) : -1; at >= 0 && out.length < 512; at += entrySize) {
      const nameRva = buf.readUInt32LE(at + 4 * nameField);
      if (!nameRva) break;
      out.push(name(nameRva));
    }
    return out;
  };
  return {
    machine: buf.readUInt16LE(pe + 4),
    magic,
    dll: (buf.readUInt16LE(pe + 22) & 0x2000) !== 0,
    subsystem: buf.readUInt16LE(optional + 68),
    imports: names(1, 20, 3),
    delayImports: names(13, 32, 1),
    certificate: directory(4),
  };
}
