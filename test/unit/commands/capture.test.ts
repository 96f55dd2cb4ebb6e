import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCapture, type CaptureOptions } from '../../../src/commands/capture';
import type { CommandContext } from '../../../src/context';
import { PluginError } from '../../../src/errors/plugin-error';
import { PresetRegistry } from '../../../src/presets/registry';

/** A context whose cluster records that it was reached, and fails the way a missing pod does. */
function contextReachingNothing(): { ctx: CommandContext; connects: number } {
  const seen = { ctx: undefined as unknown as CommandContext, connects: 0 };
  seen.ctx = {
    printer: { out: () => undefined, info: () => undefined, debug: () => undefined, verbose: false },
    env: {},
    presets: async () => PresetRegistry.from(),
    connect: async () => {
      seen.connects++;
      throw new PluginError('not-found', 'pod "web" not found');
    },
  } as unknown as CommandContext;
  return seen;
}

const options = (write: string | undefined): CaptureOptions => ({ pod: 'web', iface: 'any', write, timeout: '2m', kube: { verbosity: 0 } });

describe('runCapture: the output before the cluster', () => {
  let dir = '';
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ke-capture-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['a missing directory', () => join(dir, 'missing', 'out.pcap'), 'not-found', /^the directory of .*missing\/out\.pcap does not exist; create it or name another -w file$/],
    ['a symlink', () => (symlinkSync(join(dir, 'victim'), join(dir, 'l.pcap')), join(dir, 'l.pcap')), 'usage', /l\.pcap already exists; -w never overwrites a file/],
    ['an existing file', () => (writeFileSync(join(dir, 'x.pcap'), ''), join(dir, 'x.pcap')), 'usage', /x\.pcap already exists; -w never overwrites a file/],
  ])('%s: refused and the cluster is never contacted', async (_what, path, kind, message) => {
    const seen = contextReachingNothing();
    await expect(runCapture(seen.ctx, options(path()))).rejects.toMatchObject({ kind, message: expect.stringMatching(message) });
    expect(seen.connects).toBe(0);
  });

  it('without -w: a usage error naming -w and the fix, before contacting the cluster', async () => {
    const seen = contextReachingNothing();
    await expect(runCapture(seen.ctx, options(undefined))).rejects.toEqual(
      new PluginError('usage', 'capture needs -w FILE (or -w - for stdout); for example: kubectl ephemeral capture web -w web.pcap'),
    );
    expect(seen.connects).toBe(0);
  });

  it('a capture that fails after the file was created removes it', async () => {
    const seen = contextReachingNothing();
    await expect(runCapture(seen.ctx, options(join(dir, 'out.pcap')))).rejects.toMatchObject({ kind: 'not-found' });
    expect(seen.connects).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('-w - creates no file', async () => {
    const seen = contextReachingNothing();
    await expect(runCapture(seen.ctx, options('-'))).rejects.toMatchObject({ kind: 'not-found' });
    expect(existsSync('-')).toBe(false);
  });
});
