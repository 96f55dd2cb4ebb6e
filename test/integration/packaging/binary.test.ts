// The single executable stands alone: it runs from an empty directory with no node on PATH, prints
// nothing but its output, and its bundled node-pty works: `kubectl ephemeral attach` against a
// stand-in API server relays a stand-in kubectl through a pseudo-terminal, the addon having been
// written once to the user's cache (and safely when several runs start at once).
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as pty from 'node-pty';
import { buildExecutable, isolatedPath, removeTempDirs, run, runAsync, tempDir, VERSION } from './artifacts';

const POD = 'web';
const CONTAINER = 'debugger-shell-x7k2q';

/** The pod as the API server returns it: one ephemeral container in the given state. */
function aPodWithDebugContainer(state: Record<string, unknown>) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: POD, namespace: 'default', resourceVersion: '7' },
    spec: { containers: [{ name: 'app', image: 'app:1' }], ephemeralContainers: [{ name: CONTAINER, image: 'busybox:1.36', stdin: true, tty: true }] },
    status: { phase: 'Running', ephemeralContainerStatuses: [{ name: CONTAINER, image: 'busybox:1.36', imageID: '', ready: false, restartCount: 0, state }] },
  };
}

/**
 * An API server that knows one pod: running on GET, terminated (exit 0) on the watch that follows
 * the attach. Listing pods of namespace "slow" never answers (completion must give up).
 */
function startApiServer(): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    res.setHeader('Content-Type', 'application/json');
    if (url.pathname === `/api/v1/namespaces/default/pods/${POD}`) {
      res.end(JSON.stringify(aPodWithDebugContainer({ running: { startedAt: '2025-01-01T00:00:00Z' } })));
    } else if (url.pathname === '/api/v1/namespaces/default/pods' && url.searchParams.get('watch') === 'true') {
      const pod = aPodWithDebugContainer({ terminated: { exitCode: 0, reason: 'Completed' } });
      res.end(`${JSON.stringify({ type: 'MODIFIED', object: pod })}\n`);
    } else if (url.pathname === '/api/v1/namespaces/default/pods') {
      res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', items: [aPodWithDebugContainer({ running: {} })] }));
    } else if (url.pathname === '/api/v1/namespaces/slow/pods') {
      // never answers
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${url.pathname} not found` }));
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** A kubeconfig for the stand-in API server, in dir. */
function writeKubeconfig(dir: string, port: number): string {
  const file = join(dir, 'kubeconfig');
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      // client-node refuses plain http unless TLS verification is off.
      `clusters: [{name: local, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]`,
      'users: [{name: me, user: {token: t0ken}}]',
      'contexts: [{name: local, context: {cluster: local, user: me, namespace: default}}]',
      'current-context: local',
      '',
    ].join('\n'),
  );
  return file;
}

/** Runs the executable inside a terminal of our own and collects what it shows. */
function runInTerminal(file: string, args: string[], env: Record<string, string>, cwd: string): Promise<{ exitCode: number; screen: string }> {
  return new Promise((resolve) => {
    const term = pty.spawn(file, args, { cols: 100, rows: 30, cwd, env });
    let screen = '';
    term.onData((d) => (screen += d));
    term.onExit(({ exitCode }) => setTimeout(() => resolve({ exitCode, screen }), 100));
  });
}

describe('single executable (offline)', () => {
  let exe: string;
  let cwd: string;
  let noNodePath: string;
  let server: Server;
  let kubeconfig: string;

  beforeAll(async () => {
    exe = buildExecutable();
    cwd = tempDir('cwd');
    noNodePath = isolatedPath({});
    server = await startApiServer();
    kubeconfig = writeKubeconfig(tempDir('kubeconfig'), (server.address() as AddressInfo).port);
  }, 600_000);

  afterAll(() => {
    server?.closeAllConnections();
    server?.close();
    removeTempDirs();
  });

  const env = (extra: Record<string, string> = {}) => ({ PATH: noNodePath, HOME: cwd, ...extra });

  it('prints its version from an empty directory with no node on PATH, and nothing on stderr', () => {
    const r = run(exe, ['--version'], { cwd, env: env() });
    expect({ status: r.status, stdout: r.stdout.trim(), stderr: r.stderr }).toEqual({ status: 0, stdout: VERSION, stderr: '' });
  });

  it('prints its help without warnings (no SEA or optional-module notices)', () => {
    const r = run(exe, ['--help'], { cwd, env: env() });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('kubectl ephemeral');
    expect(r.stderr).toBe('');
  });

  it('attaches through a pseudo-terminal with the bundled node-pty, its addon written once to the cache', async () => {
    const home = tempDir('home');
    // The stand-in kubectl says whether its stdin is a terminal: it is only under node-pty.
    const fakeKubectl = join(home, 'kubectl');
    writeFileSync(fakeKubectl, '#!/bin/sh\nif [ -t 0 ]; then echo "stdin-is-a-tty"; else echo "stdin-is-not-a-tty"; fi\necho "kubectl $*"\n');
    chmodSync(fakeKubectl, 0o755);
    const runEnv = env({ HOME: home, XDG_CACHE_HOME: join(home, 'cache'), KUBECONFIG: kubeconfig, KUBECTL_EPHEMERAL_KUBECTL: fakeKubectl, TERM: 'xterm' });

    // Three at once on an empty cache: each must find a whole pty.node (temp file + rename).
    const results = await Promise.all([1, 2, 3].map(() => runInTerminal(exe, ['attach', POD, '-v'], runEnv, cwd)));
    for (const { exitCode, screen } of results) {
      expect(screen).toContain('stdin-is-a-tty');
      expect(screen).toMatch(new RegExp(`kubectl attach -i -t --quiet ${POD} -c ${CONTAINER} `));
      expect(screen).toContain('under a pty');
      expect(screen).not.toContain('node-pty could not be loaded');
      expect(exitCode).toBe(0);
    }
    const cache = join(home, 'cache', 'kubectl-ephemeral');
    const dirs = readdirSync(cache).sort();
    expect(dirs).toEqual(['code-cache', expect.stringMatching(new RegExp(`^native-${process.platform}-${process.arch}-[0-9a-f]{16}$`))]);
    expect(readdirSync(join(cache, dirs[1]!))).toEqual(process.platform === 'darwin' ? ['pty.node', 'spawn-helper'] : ['pty.node']);

    // main's code cache: one file for this build and runtime, written by the first runs (the
    // three wrote the same cache, one after another) and left alone by a later run of the kind
    // of command it already covers.
    const codeCache = readdirSync(join(cache, 'code-cache'));
    expect(codeCache).toEqual([expect.stringMatching(new RegExp(`^main-[0-9a-f]{16}-${process.version}-${process.arch}\\.v8$`))]);
    const file = join(cache, 'code-cache', codeCache[0]!);
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('{"kinds":["attach"]}');
    expect(statSync(join(cache, 'code-cache')).mode & 0o777).toBe(0o700);
    const written = statSync(file).mtimeMs;
    const again = await runInTerminal(exe, ['attach', POD, '-v'], runEnv, cwd);
    expect(again.exitCode).toBe(0);
    expect(statSync(file).mtimeMs).toBe(written);
  }, 60_000);

  describe('the addon cache is trusted only when it holds the built pty.node in directories only this user writes', () => {
    const fakeKubectl = () => {
      const file = join(tempDir('kubectl'), 'kubectl');
      writeFileSync(file, '#!/bin/sh\nif [ -t 0 ]; then echo "stdin-is-a-tty"; else echo "stdin-is-not-a-tty"; fi\n');
      chmodSync(file, 0o755);
      return file;
    };
    const attach = (home: string, tmp: string) =>
      runInTerminal(exe, ['attach', POD, '-v'], env({ HOME: home, XDG_CACHE_HOME: join(home, 'cache'), TMPDIR: tmp, KUBECONFIG: kubeconfig, KUBECTL_EPHEMERAL_KUBECTL: fakeKubectl(), TERM: 'xterm' }), cwd);
    const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

    it('a same-sized pty.node planted in the cache is written again, never loaded', async () => {
      const home = tempDir('home');
      const tmp = tempDir('tmp');
      expect((await attach(home, tmp)).screen).toContain('stdin-is-a-tty');
      const cache = join(home, 'cache', 'kubectl-ephemeral');
      const addon = join(cache, readdirSync(cache).find((d) => d.startsWith('native-'))!, 'pty.node');
      const built = sha256(addon);
      // Same size, other bytes: a size check alone would dlopen it (and crash, or run its code).
      writeFileSync(addon, Buffer.alloc(statSync(addon).size, 0x90));
      const again = await attach(home, tmp);
      expect(again.screen).toContain('under a pty');
      expect(again.screen).not.toContain('node-pty could not be loaded');
      expect(again.exitCode).toBe(0);
      expect(sha256(addon)).toBe(built);
    }, 60_000);

    it('a cache directory other users can write to is refused: the addon goes to a private temp directory instead', async () => {
      const home = tempDir('home');
      const tmp = tempDir('tmp');
      const cache = join(home, 'cache', 'kubectl-ephemeral');
      mkdirSync(cache, { recursive: true });
      chmodSync(cache, 0o777);
      const r = await attach(home, tmp);
      expect(r.screen).toContain('under a pty');
      // Nothing is written there: neither the addon nor main's code cache.
      expect(readdirSync(cache)).toEqual([]);
      const uid = process.getuid!();
      const fallback = join(tmp, `kubectl-ephemeral-${uid}`);
      expect(readdirSync(fallback)).toEqual([expect.stringMatching(/^native-/)]);
      expect(statSync(fallback).mode & 0o777).toBe(0o700);
    }, 60_000);
  });

  describe('__complete (what kubectl_complete-ephemeral runs)', () => {
    // Asynchronous: the stand-in API server answers from this process.
    const complete = async (...words: string[]) => {
      const started = Date.now();
      const r = await runAsync(exe, ['__complete', ...words], { cwd, env: env({ KUBECONFIG: kubeconfig }) });
      return { lines: r.stdout.trim().split('\n'), ms: Date.now() - started, status: r.status };
    };

    it('offers the pods of the namespace from the API server', async () => {
      expect(await complete('net', '')).toMatchObject({ status: 0, lines: [POD, ':4'] });
    });

    it('offers the debug containers of a pod to attach, and kubeconfig contexts', async () => {
      expect((await complete('attach', POD, '')).lines).toEqual([CONTAINER, ':4']);
      expect((await complete('net', '--context', '')).lines).toEqual(['local', ':4']);
    });

    it('gives up on an API server that does not answer after about a second, offering nothing', async () => {
      const r = await complete('net', '-n', 'slow', '');
      expect(r.lines).toEqual([':4']);
      expect(r.ms).toBeGreaterThanOrEqual(900);
      expect(r.ms).toBeLessThan(3000);
    });
  });
});
