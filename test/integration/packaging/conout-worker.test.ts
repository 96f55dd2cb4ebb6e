// node-pty on Windows drains ConPTY's output on a worker thread it starts from a file beside its
// lib/, which a single executable does not have: the bundle starts it from source instead
// (scripts/sea/conout-worker.mjs). Windows cannot run here, but the patched connection is the same
// code in every executable, and node's net speaks Unix socket paths where Windows has pipe names:
// a stand-in executable built as the plugin is runs node-pty's ConoutConnection against a socket
// standing in for ConPTY's output pipe, from a directory with no node-pty in it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildExecutable, isolatedPath, removeTempDirs, run, tempDir } from './artifacts';

const ENTRY = `
const { ConoutConnection } = require('node-pty/lib/windowsConoutConnection');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
// The build's own check runs it too, without KE_SOCKET_DIR.
const dir = fs.mkdtempSync(path.join(process.env.KE_SOCKET_DIR || require('node:os').tmpdir(), 'ke-conout-'));
const pipe = path.join(dir, 'conout');
// ConPTY's side: writes the console's output and closes.
const server = net.createServer((s) => s.end('output of the console\\n'));
server.listen(pipe, () => {
  const conout = new ConoutConnection(pipe, true);
  conout.onReady(() => {
    const socket = new net.Socket();
    let got = '';
    socket.on('data', (d) => (got += d));
    socket.on('end', () => {
      process.stdout.write(got);
      conout.dispose();
      server.close(() => fs.rmSync(dir, { recursive: true, force: true }));
    });
    conout.connectSocket(socket);
  });
});
`;

describe("the single executable: node-pty's ConPTY output worker started from source", () => {
  let exe: string;
  beforeAll(() => {
    const dir = tempDir('conout-entry');
    writeFileSync(join(dir, 'entry.js'), ENTRY);
    exe = buildExecutable(join(dir, 'entry.js'));
  }, 600_000);
  afterAll(removeTempDirs);

  it("relays what the output pipe carries through the worker's socket, with no worker file on disk", () => {
    const cwd = tempDir('conout-run');
    const r = run(exe, [], { cwd, env: { PATH: isolatedPath({}), HOME: cwd, KE_SOCKET_DIR: cwd }, timeoutMs: 60_000 });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'output of the console\n', stderr: '' });
    // node-pty's own code would have looked for this file beside the executable.
    expect(readFileSync(exe).includes('worker/conoutSocketWorker.js')).toBe(false);
  });
});
