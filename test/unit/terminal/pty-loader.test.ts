import { platformPtyOptions, ptyBytes } from '../../../src/terminal/pty-loader';

describe('pty-loader: what node-pty needs on each platform', () => {
  it('Windows: ConPTY through the conpty.dll the executable carries (no winpty, no forked console-list helper)', () => {
    expect(platformPtyOptions('win32')).toEqual({ useConpty: true, useConptyDll: true });
  });

  it('elsewhere: nothing besides the caller\'s options', () => {
    expect(platformPtyOptions('linux')).toEqual({});
    expect(platformPtyOptions('darwin')).toEqual({});
  });

  it('output as bytes: Windows\' decoded strings back to their UTF-8, Buffers as they are', () => {
    expect(ptyBytes('é\x1b[0m')).toEqual(Buffer.from([0xc3, 0xa9, 0x1b, 0x5b, 0x30, 0x6d]));
    const raw = Buffer.from([0xff, 0x00]);
    expect(ptyBytes(raw)).toBe(raw);
  });
});
