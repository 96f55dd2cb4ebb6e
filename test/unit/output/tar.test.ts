import { tarHeader } from '../../../src/output/tar';

describe('tarHeader', () => {
  it('is one ustar block for a short ASCII name, with a valid checksum', () => {
    const [block, ...rest] = tarHeader({ path: 'evidence/a', type: '0', mode: 0o644, uid: 1, gid: 2, mtime: 3, size: 4 });
    expect(rest).toEqual([]);
    const sum = [...block!].reduce((s, b, i) => s + (i >= 148 && i < 156 ? 32 : b), 0);
    expect(parseInt(block!.subarray(148, 154).toString(), 8)).toBe(sum);
    expect(block!.subarray(257, 263).toString()).toBe('ustar\0');
  });

  it('puts a long or non-ASCII path and a large size in a pax header', () => {
    const blocks = tarHeader({ path: `evidence/${'x'.repeat(120)}`, type: '0', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 9 * 1024 ** 3 });
    expect(blocks).toHaveLength(3);
    expect(blocks[0]!.subarray(156, 157).toString()).toBe('x');
    expect(blocks[0]!.subarray(0, 17).toString()).toBe('PaxHeader\0\0\0\0\0\0\0\0');
    expect(blocks[1]!.toString().replace(/\0+$/, '')).toBe(`139 path=evidence/${'x'.repeat(120)}\n19 size=9663676416\n`);
  });
});
