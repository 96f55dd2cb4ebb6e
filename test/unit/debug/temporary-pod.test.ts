import type { V1Pod } from '@kubernetes/client-node';
import type { CommandContext, Connection } from '../../../src/context';
import { withTemporaryPod } from '../../../src/debug/temporary-pod';
import { PluginError } from '../../../src/errors/plugin-error';
import { aPod } from '../../support/builders';

/** A fake API that logs each call and lets the test decide when the create answers. */
function world() {
  const log: string[] = [];
  let failDelete = false;
  let answerCreate: (ok: boolean) => void = () => undefined;
  const interrupts = new Set<() => Promise<void | number>>();
  const controller = new AbortController();
  const conn = {
    target: { namespace: 'ops' },
    api: {
      createPod: (_ns: string, pod: V1Pod) => {
        log.push(`create ${pod.metadata?.name}`);
        return new Promise<V1Pod>((resolve, reject) => {
          answerCreate = (ok) => {
            log.push(ok ? 'created' : 'create refused');
            if (ok) resolve({ ...pod, metadata: { ...pod.metadata, resourceVersion: '7' } });
            else reject(new PluginError('policy-rejected', 'refused'));
          };
        });
      },
      deletePod: async (ns: string, name: string) => {
        log.push(`delete ${ns}/${name}`);
        if (failDelete) throw new PluginError('unreachable', 'cannot reach the API server');
      },
    },
  } as unknown as Connection;
  const ctx = {
    printer: { info: (line: string) => log.push(`info: ${line}`) },
    signal: controller.signal,
    onInterrupt: (f: () => Promise<void | number>) => (interrupts.add(f), () => interrupts.delete(f)),
  } as unknown as CommandContext;
  /** What main.ts does on a signal: abort, then run every registered cleanup. */
  const interrupt = () => {
    controller.abort();
    return Promise.all([...interrupts].map((f) => f()));
  };
  return { log, ctx, conn, answer: (ok: boolean) => answerCreate(ok), interrupt, interrupts, failDeletes: () => (failDelete = true) };
}

const pod = aPod('node-debugger-n1-abcde').build() as V1Pod;
const flush = () => new Promise((r) => setImmediate(r));

describe('withTemporaryPod', () => {
  it('deletes the pod after the session, and unregisters its interrupt handler', async () => {
    const w = world();
    const done = withTemporaryPod(w.ctx, w.conn, pod, { what: 'node debug pod' }, async (created) => (w.log.push(`session rv ${created.metadata?.resourceVersion}`), 3));
    w.answer(true);
    await expect(done).resolves.toBe(3);
    expect(w.log).toEqual(['create node-debugger-n1-abcde', 'created', 'session rv 7', 'delete ops/node-debugger-n1-abcde', 'info: deleted node debug pod "node-debugger-n1-abcde"']);
    expect(w.interrupts.size).toBe(0);
  });

  it('deletes the pod when the session fails, and the session error is what the caller gets', async () => {
    const w = world();
    const done = withTemporaryPod(w.ctx, w.conn, pod, { what: 'node debug pod' }, async () => {
      throw new PluginError('timeout', 'did not start');
    });
    w.answer(true);
    await expect(done).rejects.toThrow('did not start');
    expect(w.log.slice(-2)).toEqual(['delete ops/node-debugger-n1-abcde', 'info: deleted node debug pod "node-debugger-n1-abcde"']);
  });

  it('a refused create deletes nothing and says nothing was deleted', async () => {
    const w = world();
    const done = withTemporaryPod(w.ctx, w.conn, pod, { what: 'pod copy' }, async () => 0);
    w.answer(false);
    await expect(done).rejects.toThrow('refused');
    expect(w.log).toEqual(['create node-debugger-n1-abcde', 'create refused']);
  });

  it('a signal while the create is in flight deletes the pod once the create has landed, once', async () => {
    const w = world();
    const done = withTemporaryPod(w.ctx, w.conn, pod, { what: 'node debug pod' }, async () => 0);
    await flush();
    const cleanup = w.interrupt();
    await flush();
    expect(w.log).toEqual(['create node-debugger-n1-abcde']); // no delete before the pod exists
    w.answer(true);
    await cleanup;
    await done;
    expect(w.log).toEqual(['create node-debugger-n1-abcde', 'created', 'delete ops/node-debugger-n1-abcde', 'info: deleted node debug pod "node-debugger-n1-abcde"']);
  });

  it('a failed deletion names the pod left behind and how to delete it', async () => {
    const w = world();
    w.failDeletes();
    const done = withTemporaryPod(w.ctx, w.conn, pod, { what: 'node debug pod' }, async () => 0);
    w.answer(true);
    await expect(done).rejects.toEqual(
      new PluginError('unreachable', 'node debug pod "node-debugger-n1-abcde" in namespace "ops" was not deleted (cannot reach the API server); delete it with kubectl delete pod node-debugger-n1-abcde -n ops'),
    );
    await expect(done).rejects.toMatchObject({ kind: 'unreachable' });
  });

  it('--keep leaves the pod', async () => {
    const w = world();
    const done = withTemporaryPod(w.ctx, w.conn, pod, { what: 'pod copy', keep: true }, async () => 0);
    w.answer(true);
    await done;
    expect(w.log).toEqual(['create node-debugger-n1-abcde', 'created']);
  });
});
