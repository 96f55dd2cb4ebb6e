import type { V1Pod } from '@kubernetes/client-node';
import type { CommandContext, Connection } from '../context.js';
import { PluginError } from '../errors/plugin-error.js';

/** How a pod made for one session is named in messages, and whether it stays. */
export interface TemporaryPodOptions {
  /** e.g. "pod copy", "node debug pod": printed as `deleted <what> "<name>"`. */
  what: string;
  /** Leave the pod when the session ends (crashloop --copy --keep). */
  keep?: boolean;
}

/** The session's handle on its pod. */
export interface TemporaryPod {
  /** From now on the pod stays when the session ends (e.g. --no-attach once its debug container runs). */
  keep(): void;
}

/**
 * Creates a pod for the length of `session` and deletes it however the session ends: a return,
 * an error, Ctrl-C, SIGTERM or SIGHUP (through ctx.onInterrupt), a lost attach connection.
 */
export async function withTemporaryPod<T>(ctx: CommandContext, conn: Connection, pod: V1Pod, opts: TemporaryPodOptions, session: (created: V1Pod, temporary: TemporaryPod) => Promise<T>): Promise<T> {
  const ns = conn.target.namespace;
  const name = pod.metadata!.name!;
  let keep = opts.keep === true;
  // One deletion, shared by the interrupt handler and the finally below: the finally must wait for
  // a deletion the handler started, or closing the connection would cut its request off.
  let removal: Promise<void> | undefined;
  // A signal can arrive while the create is in flight: the deletion waits for the create to land,
  // or it would find nothing to delete and the pod would appear right after.
  let creating: Promise<unknown> = Promise.resolve();
  const remove = (): Promise<void> => {
    if (keep) return Promise.resolve();
    removal ??= creating.then(
      () =>
        conn.api.deletePod(ns, name).then(
          () => ctx.printer.info(`deleted ${opts.what} "${name}"`),
          (err: unknown) => {
            // The user must learn that the pod outlived the session, and how to remove it.
            const kind = err instanceof PluginError ? err.kind : 'internal';
            const why = err instanceof Error ? err.message : String(err);
            throw new PluginError(kind, `${opts.what} "${name}" in namespace "${ns}" was not deleted (${why}); delete it with kubectl delete pod ${name} -n ${ns}`, { cause: err });
          },
        ),
      () => undefined, // the API server refused the pod: there is nothing to delete
    );
    return removal;
  };
  const unregister = ctx.onInterrupt(remove);
  try {
    const create = conn.api.createPod(ns, pod);
    creating = create;
    return await session(await create, { keep: () => void (keep = true) });
  } finally {
    unregister();
    // After a signal the interrupt handler reports a failed deletion; otherwise it is this run's error.
    if (ctx.signal.aborted) await remove().catch(() => undefined);
    else await remove();
  }
}
