import { recordAudit } from '../../../src/debug/audit';
import type { CommandContext, Connection } from '../../../src/context';
import { PluginError } from '../../../src/errors/plugin-error';

const entry = { container: 'debugger-shell-x7k2p', preset: 'shell', image: 'busybox:1.36', user: 'alice', time: '2026-11-30T10:00:00Z' };

function fakes(updateAnnotation: (...args: any[]) => Promise<boolean>) {
  const info: string[] = [];
  const ctx = { printer: { info: (t: string) => info.push(t), out: () => undefined, debug: () => undefined, warn: () => undefined, status: () => undefined, verbose: false, live: false, color: false } } as unknown as CommandContext;
  const conn = { api: { updateAnnotation }, target: { namespace: 'shop' } } as unknown as Connection;
  return { ctx, conn, info };
}

describe('recordAudit: the container exists already, so the session goes on whatever happens here', () => {
  it('a write the API server refuses is a warning, not a failure', async () => {
    const { ctx, conn, info } = fakes(async () => {
      throw new PluginError('forbidden', 'cannot patch pods for pod "web" in namespace "shop": denied by a webhook');
    });
    await expect(recordAudit(ctx, conn, 'web', entry, undefined)).resolves.toBeUndefined();
    expect(info).toEqual([
      'warning: audit annotation kubectl-ephemeral.dev/audit not written: cannot patch pods for pod "web" in namespace "shop": denied by a webhook; the container env still records preset, user and reason',
    ]);
  });

  it('without patch pods: a note naming the audit role, and no write is tried', async () => {
    let tried = false;
    const { ctx, conn, info } = fakes(async () => (tried = true));
    await recordAudit(ctx, conn, 'web', entry, { allowed: new Map([['patch pods', false]]) } as never);
    expect(tried).toBe(false);
    expect(info).toEqual([
      'note: audit annotation kubectl-ephemeral.dev/audit not written (no "patch pods": the ClusterRole kubectl-ephemeral-audit); the container env still records preset, user and reason',
    ]);
  });

  it('a successful write says nothing', async () => {
    const { ctx, conn, info } = fakes(async (_ns, _pod, _key, update: (v: string | undefined, a: Record<string, string>) => string | undefined) => update(undefined, {}) !== undefined);
    await recordAudit(ctx, conn, 'web', entry, undefined);
    expect(info).toEqual([]);
  });
});
