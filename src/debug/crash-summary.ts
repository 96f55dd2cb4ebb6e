import type { V1Pod } from '@kubernetes/client-node';
import type { CommandContext, Connection } from '../context.js';
import { PluginError } from '../errors/plugin-error.js';
import { containerState, describeState, lastTermination } from '../plan/container-state.js';

/** Prints the crash summary a user would otherwise chase by hand: last state, previous logs, events. */
export async function printCrashSummary(ctx: CommandContext, conn: Connection, pod: V1Pod, container: string): Promise<void> {
  const ns = conn.target.namespace;
  const name = pod.metadata!.name!;
  const { printer } = ctx;
  // The summary is a courtesy: logs the API server cannot fetch (kubelet unreachable, previous
  // instance gone) or events it will not list must not end the session. A denial is named, though:
  // "(none)" would tell a user without pods/log that the container printed nothing.
  const unavailable = (what: string, verb: string, resource: string) => (err: unknown) => {
    printer.debug(`${what} unavailable: ${(err as Error).message}`);
    if (err instanceof PluginError && err.kind === 'forbidden')
      return { denied: `(not shown: you may not ${verb} ${resource} in namespace "${ns}"; ask for "${verb}" on "${resource}", -v shows the denial)` };
    return undefined;
  };
  // A container that is terminated now (the kubelet has not restarted it yet) crashed in its current
  // instance; --previous would name the one before, which the kubelet has already removed.
  const previous = containerState(pod, container).phase !== 'terminated';
  const [logs, events] = await Promise.all([
    conn.api.logs(ns, name, container, { previous, tailLines: 20 }).catch(unavailable('previous logs', 'get', 'pods/log')),
    conn.api.podEvents(ns, name).catch(unavailable('events', 'list', 'events')),
  ]);
  const last = lastTermination(pod, container);
  const init = pod.spec?.initContainers?.find((c) => c.name === container);
  const kind = init ? (init.restartPolicy === 'Always' ? 'sidecar container' : 'init container') : 'container';
  printer.info(`== ${kind} "${container}" of pod "${name}"`);
  printer.info(
    last
      ? `last exit: code ${last.exitCode}, reason ${last.reason || 'unknown'}${last.finishedAt ? `, at ${last.finishedAt}` : ''}, ${last.restarts} restart(s); now ${describeState(containerState(pod, container))}`
      : `no termination recorded; now ${describeState(containerState(pod, container))}`,
  );
  printer.info(`== previous logs (last 20 lines)`);
  if (typeof logs === 'object') printer.info(logs.denied);
  else printer.info(logs?.trimEnd() || (logs === undefined ? '(none: the API server could not fetch them; -v shows why)' : '(none)'));
  printer.info(`== recent events`);
  if (events && !Array.isArray(events)) printer.info(events.denied);
  else {
    const recent = (events ?? []).slice(-10);
    printer.info(recent.length ? recent.map((e) => `${e.type ?? ''} ${e.reason ?? ''}: ${e.message ?? ''}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ''}`).join('\n') : '(none)');
  }
}
