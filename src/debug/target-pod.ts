import type { V1Pod } from '@kubernetes/client-node';
import type { CommandContext, Connection } from '../context.js';
import { PluginError, notFound, usageError } from '../errors/plugin-error.js';
import { formatTable } from '../output/printer.js';
import { describeFailing, failingContainers, podsWithFailingContainers, type FailingContainer } from '../plan/failing-container.js';
import { choosePod, isReady, parsePodRef, selectorQuery } from '../plan/workload-ref.js';

/**
 * The pod a POD argument names: a pod, or a running pod of a workload (deploy/NAME, sts/NAME, ...)
 * chosen as kubectl exec chooses, said in one line on stderr. Without an argument (crashloop only),
 * the namespace's crash-looping pod the user picks on the terminal.
 */
export async function resolveTargetPod(ctx: CommandContext, conn: Connection, arg: string | undefined, opts: { preferFailing: boolean; command: string }): Promise<V1Pod> {
  const ns = conn.target.namespace;
  if (arg === undefined) return pickFailingPod(ctx, conn, opts.command);
  const ref = parsePodRef(arg);
  if (ref.kind === 'pod') return conn.api.getPod(ns, ref.name);
  const { selector } = await conn.api.getWorkload(ns, ref.kind, ref.name);
  const query = selectorQuery(selector);
  if (!query) throw notFound(`${ref.kind} "${ref.name}" in namespace "${ns}" has no pod selector; name a pod instead`);
  const pods: V1Pod[] = [];
  await conn.api.listPods(ns, { labelSelector: query }, (page) => pods.push(...page));
  const pod = choosePod(pods, { preferFailing: opts.preferFailing });
  if (!pod) throw notFound(`${ref.kind} "${ref.name}" in namespace "${ns}" has no live pod (selector ${query}); check kubectl get pods -l '${query}' -n ${ns}`);
  const [failing] = opts.preferFailing ? failingContainers(pod) : [];
  const why = failing ? describeFailing(failing) : pod.status?.phase === 'Running' ? (isReady(pod) ? 'running and ready' : 'running, not ready') : (pod.status?.phase ?? 'pending').toLowerCase();
  ctx.printer.info(`${ref.kind}/${ref.name}: using pod "${pod.metadata!.name}" (${why}; ${pods.length} pod(s) match ${query})`);
  return pod;
}

/** crashloop without a pod: list the namespace's pods with a failing container and let the user pick one. */
async function pickFailingPod(ctx: CommandContext, conn: Connection, command: string): Promise<V1Pod> {
  const ns = conn.target.namespace;
  const all: V1Pod[] = [];
  await conn.api.listPods(ns, {}, (page) => all.push(...page));
  const rows = podsWithFailingContainers(all);
  if (rows.length === 0) throw notFound(`no pod in namespace "${ns}" has a failing container; name the pod to debug: kubectl ephemeral ${command} POD -n ${ns}`);
  const brief = (r: { pod: V1Pod; failing: FailingContainer }) => `${r.pod.metadata!.name} (${describeFailing(r.failing)})`;
  const table = formatTable(
    ['#', 'POD', 'CONTAINER', 'KIND', 'STATUS', 'RESTARTS', 'LAST EXIT'],
    rows.map((r, i) => {
      const f = r.failing;
      return [String(i + 1), r.pod.metadata!.name!, f.name, f.kind, f.status, String(f.restarts), f.lastExit ? `${f.lastExit.exitCode} ${f.lastExit.reason}`.trim() : '-'];
    }),
  );
  // Only a terminal gets the question: without one the line names the pods so a script can pick.
  const question = `${table}\npick a pod [1-${rows.length}]${rows.length === 1 ? ' (Enter: 1)' : ''}: `;
  let answer: string | undefined;
  try {
    answer = await ctx.ask(`crash-looping pods in namespace "${ns}":\n${question}`);
  } catch (err) {
    if (ctx.signal.aborted) throw new PluginError('cancelled', 'cancelled while picking a pod');
    throw err;
  }
  if (answer === undefined)
    throw usageError(`name the pod to debug (no terminal to pick on): ${rows.length} pod(s) with a failing container in namespace "${ns}": ${rows.map(brief).join('; ')}; run kubectl ephemeral ${command} POD -n ${ns}`);
  const text = answer.trim() || (rows.length === 1 ? '1' : '');
  const index = /^\d+$/.test(text) ? Number(text) - 1 : rows.findIndex((r) => r.pod.metadata?.name === text);
  const chosen = rows[index];
  if (!chosen) throw usageError(`"${text}" is not one of the listed pods; run again and answer 1 to ${rows.length}, or name the pod: kubectl ephemeral ${command} POD -n ${ns}`);
  ctx.printer.info(`using pod "${chosen.pod.metadata!.name}" (${describeFailing(chosen.failing)})`);
  return chosen.pod;
}
