import { platformPtyOptions, ptyBytes } from '../../../src/terminal/pty-loader';

/** A fresh pty-loader (it caches what it loaded once per process). */
function freshLoader(): typeof import('../../../src/terminal/pty-loader') {
  let loader: typeof import('../../../src/terminal/pty-loader') | undefined;
  jest.isolateModules(() => {
    loader = require('../../../src/terminal/pty-loader');
  });
  return loader!;
}

describe('pty-loader: what node-pty needs on each platform', () => {
  it('Windows: ConPTY through the conpty.dll the executable carries (no winpty, no forked console-list helper)', () => {
    expect(platformPtyOptions('win32')).toEqual({ useConpty: true, useConptyDll: true });
  });

  it('Windows: the ConPTY addon is loaded with node-pty, so one that cannot load means no pty (the inherited-stdio attach), not a failed spawn', () => {
    // Here (Linux) node-pty has no conpty.node: what a Windows machine whose addon fails would see.
    const heard: unknown[] = [];
    expect(freshLoader().loadPty((e) => heard.push(e), 'win32')).toBeUndefined();
    expect(String(heard[0])).toMatch(/conpty\.node/);
    // Without the Windows step the same node-pty loads.
    expect(freshLoader().loadPty(undefined, 'linux')?.spawn).toEqual(expect.any(Function));
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
