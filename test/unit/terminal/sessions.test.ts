import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listRecordings } from '../../../src/terminal/sessions';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sessions-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

// Builds the text of a recording as AsciicastWriter would write it.
function aRecording() {
  const meta: Record<string, unknown> = { cluster: 'kind', context: 'kind-test', namespace: 'shop', pod: 'web-1', container: 'dbg', preset: 'net', image: 'img', user: 'dev' };
  let timestamp = 1_700_000_000;
  const lines: string[] = [];
  const builder = {
    startedAt(seconds: number) { timestamp = seconds; return builder; },
    with(key: string, value: unknown) { meta[key] = value; return builder; },
    event(time: number, data = 'x') { lines.push(JSON.stringify([time, 'o', data])); return builder; },
    build(): string {
      const header = { version: 2, width: 80, height: 24, timestamp, title: 't', env: { TERM: 'xterm', SHELL: null }, kubectl_ephemeral: meta };
      return [JSON.stringify(header), ...lines].join('\n') + '\n';
    },
  };
  return builder;
}

describe('listRecordings', () => {
  it('returns [] for a directory that does not exist', async () => {
    expect(await listRecordings(join(dir, 'none'))).toEqual([]);
  });

  it('summarizes each recording from its header and last event, newest first', async () => {
    const older = aRecording().startedAt(1_700_000_000).event(0.1).event(12.5).build();
    const newer = aRecording().startedAt(1_700_000_600).with('pod', 'api-0').with('preset', null).event(3.25).build();
    writeFileSync(join(dir, 'older.cast'), older);
    writeFileSync(join(dir, 'newer.cast'), newer);
    expect(await listRecordings(dir)).toEqual([
      { file: join(dir, 'newer.cast'), startedAt: new Date(1_700_000_600_000), pod: 'api-0', namespace: 'shop', container: 'dbg', context: 'kind-test', durationSeconds: 3.25, sizeBytes: Buffer.byteLength(newer) },
      { file: join(dir, 'older.cast'), startedAt: new Date(1_700_000_000_000), pod: 'web-1', namespace: 'shop', container: 'dbg', preset: 'net', context: 'kind-test', durationSeconds: 12.5, sizeBytes: Buffer.byteLength(older) },
    ]);
  });

  it('takes the duration from the last complete line of a recording still being written', async () => {
    writeFileSync(join(dir, 'live.cast'), aRecording().event(1).event(2.5).build() + '[3.7, "o", "trunc');
    expect((await listRecordings(dir))[0]!.durationSeconds).toBe(2.5);
  });

  it('reads only the ends of a large recording', async () => {
    const big = aRecording().event(0.5, 'y'.repeat(3 * 1024 * 1024)).event(99).build();
    writeFileSync(join(dir, 'big.cast'), big);
    expect((await listRecordings(dir))[0]).toMatchObject({ durationSeconds: 99, sizeBytes: Buffer.byteLength(big) });
  });

  it('leaves out a header-only recording duration, and skips files that are not ours', async () => {
    writeFileSync(join(dir, 'empty.cast'), aRecording().build());
    writeFileSync(join(dir, 'asciinema.cast'), JSON.stringify({ version: 2, width: 80, height: 24, timestamp: 1 }) + '\n[0.1, "o", "x"]\n');
    writeFileSync(join(dir, 'garbage.cast'), 'not json\n');
    writeFileSync(join(dir, 'notes.txt'), aRecording().build());
    const listed = await listRecordings(dir);
    expect(listed.map((r) => r.file)).toEqual([join(dir, 'empty.cast')]);
    expect(listed[0]).not.toHaveProperty('durationSeconds');
  });
});
