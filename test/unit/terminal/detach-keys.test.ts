import { DetachKeyMatcher, describeDetachKeys, parseDetachKeys } from '../../../src/terminal/detach-keys';

describe('parseDetachKeys (docker\'s format)', () => {
  it.each<[string, number[]]>([
    ['ctrl-p,ctrl-q', [16, 17]],
    ['CTRL-P,Ctrl-Q', [16, 17]],
    ['ctrl-a', [1]],
    ['ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_', [0, 27, 28, 29, 30, 31]],
    ['a,b', [97, 98]],
    ['', []],
  ])('%j -> %j', (spec, bytes) => {
    expect([...parseDetachKeys(spec)]).toEqual(bytes);
  });

  it.each(['ctrl-1', 'ab', 'ctrl-', 'ctrl-p,,ctrl-q', 'é'])('refuses %j with one line naming the fix', (spec) => {
    expect(() => parseDetachKeys(spec)).toThrow(/^invalid --detach-keys .*for example ctrl-p,ctrl-q, or "" to disable$/);
  });

  it('describes the keys as a user reads them', () => {
    expect(describeDetachKeys(parseDetachKeys('ctrl-p,ctrl-q'))).toBe('Ctrl-P Ctrl-Q');
    expect(describeDetachKeys(parseDetachKeys('ctrl-@,x'))).toBe('Ctrl-@ x');
  });
});

describe('DetachKeyMatcher', () => {
  const feedAll = (keys: string, chunks: string[]) => {
    const m = new DetachKeyMatcher(parseDetachKeys(keys));
    let passed = '';
    let detachedAt = -1;
    chunks.forEach((c, i) => {
      const r = m.feed(Buffer.from(c, 'latin1'));
      passed += r.pass.toString('latin1');
      if (r.detach && detachedAt < 0) detachedAt = i;
    });
    return { passed, detachedAt };
  };

  it.each<[string, string, string[], string, number]>([
    ['the sequence in one chunk', 'ctrl-p,ctrl-q', ['ls\x10\x11'], 'ls', 0],
    ['the sequence across chunks, first key held back', 'ctrl-p,ctrl-q', ['ab\x10', '\x11'], 'ab', 1],
    ['Ctrl-P then another key: both go on', 'ctrl-p,ctrl-q', ['\x10', 'x'], '\x10x', -1],
    ['Ctrl-P twice then Ctrl-Q: the first goes on, the pair detaches', 'ctrl-p,ctrl-q', ['\x10\x10\x11'], '\x10', 0],
    ['Ctrl-Q alone goes on', 'ctrl-p,ctrl-q', ['\x11'], '\x11', -1],
    ['disabled: everything goes on', '', ['\x10\x11'], '\x10\x11', -1],
    ['a one-key sequence', 'ctrl-x', ['a\x18b'], 'a', 0],
  ])('%s', (_what, keys, chunks, passed, detachedAt) => {
    expect(feedAll(keys, chunks)).toEqual({ passed, detachedAt });
  });
});
