import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterLine, descriptorStreams, escapeTerminal, processPrinter } from '../../../src/output/printer';

describe('escapeTerminal (what came from the cluster cannot drive the terminal)', () => {
  it.each([
    ['a title-setting OSC', 'log \x1b]0;pwned\x07 line', 'log ^[]0;pwned^G line'],
    ['a colour CSI', '\x1b[31mred\x1b[0m', '^[[31mred^[[0m'],
    ['clear screen and cursor home', '\x1b[2J\x1b[H', '^[[2J^[[H'],
    ['a one-byte C1 CSI', 'a\u009b31mb', 'a\\u009b31mb'],
    ['a carriage return that overwrites the line', 'ok\rFAKE', 'ok\\rFAKE'],
    ['backspaces and DEL', 'ab\b\b\x7f', 'ab^H^H^?'],
    ['a NUL', 'a\x00b', 'a^@b'],
    ['a right-to-left override (a name that shows reversed)', 'invoice\u202Efdp.exe', 'invoice\\u202efdp.exe'],
    ['the other bidirectional controls', '\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069', '\\u061c\\u200e\\u200f\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069'],
    ['the line and paragraph separators', 'a\u2028b\u2029c', 'a\\u2028b\\u2029c'],
    ['every C1 control', String.fromCharCode(...Array.from({ length: 32 }, (_, i) => 0x80 + i)), Array.from({ length: 32 }, (_, i) => `\\u00${(0x80 + i).toString(16)}`).join('')],
  ])('escapes %s', (_what, input, expected) => {
    expect(escapeTerminal(input)).toBe(expected);
  });

  it('keeps newlines, tabs, CRLF line ends (as LF) and non-ASCII text', () => {
    expect(escapeTerminal('one\ttwo\r\nthree\nünïcode ✓ 日本')).toBe('one\ttwo\nthree\nünïcode ✓ 日本');
  });

  it('output without control characters is unchanged', () => {
    const text = 'NAMESPACE   POD   CONTAINER\nshop   web-7d4b9   debugger-network-x7k2p';
    expect(escapeTerminal(text)).toBe(text);
  });
});

describe('clusterLine (cluster text inside one line of ours)', () => {
  it.each([
    ['escaped, a line break shown and not made, a tab a space', 'evil\x1b[2J\r\nnext\tcol', 20, 'evil^[[2J\\nnext col'],
    ['short text unchanged', '0/2 nodes are available', 400, '0/2 nodes are available'],
    ['cut at the bound with an ellipsis', 'abcdefghij', 5, 'abcd…'],
    ['never between the halves of a surrogate pair', 'abc😀def', 5, 'abc…'],
  ])('%s', (_what, input, max, expected) => {
    expect(clusterLine(input, max)).toBe(expected);
  });
});

describe('processPrinter', () => {
  const capture = (verbose = false) => {
    const written = { stdout: '', stderr: '' };
    const printer = processPrinter(verbose, {}, { stdout: { write: (t: string) => (written.stdout += t) }, stderr: { isTTY: true, columns: 80, write: (t: string) => (written.stderr += t) } });
    return { printer, written };
  };

  it('escapes everything it prints on stdout, stderr and under -v', () => {
    const { printer, written } = capture(true);
    printer.out('\x1b]52;c;ZXZpbA==\x07');
    printer.info('event: \x1b[2J');
    printer.debug('body \x1b[8m');
    expect(written).toEqual({ stdout: '^[]52;c;ZXZpbA==^G\n', stderr: 'event: ^[[2J\n[debug] body ^[[8m\n' });
  });

  it('a warning\'s label is bold yellow on a terminal (kubectl\'s Warning:), plain otherwise or with NO_COLOR; the text escaped', () => {
    const { printer, written } = capture();
    printer.warn('would violate \x1b[2J', 'Warning:');
    const plain = { stderr: '' };
    for (const [env, isTTY] of [[{}, false], [{ NO_COLOR: '1' }, true]] as const)
      processPrinter(false, env, { stdout: { write: () => true }, stderr: { isTTY, write: (t: string) => (plain.stderr += t) } }).warn('x', 'Warning:');
    expect([written.stderr, plain.stderr]).toEqual(['\x1b[33;1mWarning:\x1b[0m would violate ^[[2J\n', 'Warning: x\nWarning: x\n']);
  });

  it('status is the one unescaped path (the plugin\'s own live line, which it draws and clears)', () => {
    const { printer, written } = capture();
    printer.status('\x1b[2mwaiting 3s\x1b[0m');
    printer.status(undefined);
    expect(written).toEqual({ stdout: '', stderr: '\r\x1b[K\x1b[2mwaiting 3s\x1b[0m\r\x1b[K' });
  });
});

describe('descriptorStreams (--help and --version written straight to the descriptors)', () => {
  it('writes every byte, escaped, to the descriptors it is given', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ke-printer-'));
    try {
      const [out, err] = [openSync(join(dir, 'out'), 'w'), openSync(join(dir, 'err'), 'w')];
      const printer = processPrinter(false, {}, descriptorStreams({ stdout: out, stderr: err }));
      const long = 'é'.repeat(70_000);
      printer.out(long);
      printer.info('note \x1b[2J');
      closeSync(out);
      closeSync(err);
      expect(readFileSync(join(dir, 'out'), 'utf8')).toBe(`${long}\n`);
      expect(readFileSync(join(dir, 'err'), 'utf8')).toBe('note ^[[2J\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
