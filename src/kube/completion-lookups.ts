import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse } from 'yaml';
import type { V1PodStatus } from '@kubernetes/client-node';
import type { KubeFlags } from './kube-flags.js';
import { WORKLOAD_KINDS, type WorkloadKind } from './workload-kinds.js';

/** A pod as completion needs it: its name and the names of its containers. */
export interface CompletionPod {
  name: string;
  /** Regular containers (the targets of -c). */
  containers: string[];
  /** Init containers (sidecars included): crashloop's targets too. */
  initContainers?: string[];
  /** Running ephemeral containers (what `attach` can attach to; terminated ones it refuses). */
  ephemeralContainers?: string[];
  /** The pod's status as the server sent it, for what is failing (crashloop offers those first). */
  status?: V1PodStatus;
}

/** What completion may look up in the kubeconfig and the cluster. */
export interface CompletionLookups {
  /** Context names in the kubeconfig these flags select (no API call). */
  contexts(flags: KubeFlags): string[];
  /** Pods of a namespace (undefined: the context's); one API call with a short timeout. */
  listPods(namespace: string | undefined, flags: KubeFlags): Promise<CompletionPod[]>;
  /** Namespace names; one API call with a short timeout. */
  listNamespaces(flags: KubeFlags): Promise<string[]>;
  /** Node names (for node/NAME); one API call with a short timeout. */
  listNodes(flags: KubeFlags): Promise<string[]>;
  /** Names of one kind of workload (for deploy/NAME ...) in a namespace (undefined: the context's); one API call with a short timeout. */
  listWorkloads(kind: WorkloadKind, namespace: string | undefined, flags: KubeFlags): Promise<string[]>;
}

/** A shell waits on completion: past this, offering nothing beats hanging the prompt. */
export const COMPLETION_TIMEOUT_MS = 1000;

interface PodList {
  items: Array<{
    metadata: { name: string };
    spec?: { containers?: Array<{ name: string }>; initContainers?: Array<{ name: string }>; ephemeralContainers?: Array<{ name: string }> };
    status?: V1PodStatus;
  }>;
}

/** A pod as completion offers it: attach takes only running ephemeral containers, so only those are offered. */
export function completionPodOf(p: PodList['items'][number]): CompletionPod {
  const running = new Set((p.status?.ephemeralContainerStatuses ?? []).filter((s) => s.state?.running).map((s) => s.name));
  return {
    name: p.metadata.name,
    containers: (p.spec?.containers ?? []).map((c) => c.name),
    ...(p.spec?.initContainers?.length ? { initContainers: p.spec.initContainers.map((c) => c.name) } : {}),
    ephemeralContainers: (p.spec?.ephemeralContainers ?? []).map((c) => c.name).filter((n) => running.has(n)),
    ...(p.status ? { status: p.status } : {}),
  };
}

interface NamespaceList {
  items: Array<{ metadata: { name: string } }>;
}

/** The cluster-facing half of CompletionDeps: kubeconfig contexts, pods, namespaces and nodes. */
export function completionLookups(env: NodeJS.ProcessEnv, userAgent: string): CompletionLookups {
  return {
    contexts(flags) {
      return kubeconfigContexts(flags, env);
    },
    async listPods(namespace, flags) {
      const list = await getWithin<PodList>(env, userAgent, flags, (ns) => `/api/v1/namespaces/${encodeURIComponent(namespace ?? ns)}/pods`);
      return list.items.map(completionPodOf);
    },
    async listNamespaces(flags) {
      const list = await getWithin<NamespaceList>(env, userAgent, flags, () => '/api/v1/namespaces');
      return list.items.map((n) => n.metadata.name);
    },
    async listNodes(flags) {
      const list = await getWithin<NamespaceList>(env, userAgent, flags, () => '/api/v1/nodes');
      return list.items.map((n) => n.metadata.name);
    },
    async listWorkloads(kind, namespace, flags) {
      const { group, resource } = WORKLOAD_KINDS[kind];
      const list = await getWithin<NamespaceList>(env, userAgent, flags, (ns) => `/apis/${group}/v1/namespaces/${encodeURIComponent(namespace ?? ns)}/${resource}`);
      return list.items.map((n) => n.metadata.name);
    },
  };
}

// Every context of the kubeconfig files kubectl would read, read leniently: a file without a
// current context (exactly when one needs --context) is not an error here. Plain YAML, not
// client-node: most completions make no API call and should not pay for loading it.
function kubeconfigContexts(flags: KubeFlags, env: NodeJS.ProcessEnv): string[] {
  const files = flags.kubeconfig
    ? [flags.kubeconfig]
    : env.KUBECONFIG
      ? env.KUBECONFIG.split(delimiter).filter(Boolean)
      : [join(env.HOME ?? homedir(), '.kube', 'config')];
  const names = new Set<string>();
  for (const file of files) {
    try {
      const config = parse(readFileSync(file, 'utf8')) as { contexts?: Array<{ name?: unknown }> } | null;
      for (const c of config?.contexts ?? []) if (typeof c?.name === 'string') names.add(c.name);
    } catch {
      // A missing or broken file offers nothing, as kubectl's own completion does.
    }
  }
  return [...names];
}

// One GET, abandoned after COMPLETION_TIMEOUT_MS however far it got (an exec credential plugin included).
async function getWithin<T>(env: NodeJS.ProcessEnv, userAgent: string, flags: KubeFlags, path: (namespace: string) => string): Promise<T> {
  const { openConnection } = await import('./connection.js');
  // A completion must never prompt: an exec plugin gets no terminal and its stderr is dropped.
  const { target, http } = await openConnection(flags, env, { userAgent, stderrLine: () => undefined, stdinIsTerminal: false });
  const signal = AbortSignal.timeout(COMPLETION_TIMEOUT_MS);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      http.request<T>({ path: path(target.namespace), timeoutMs: COMPLETION_TIMEOUT_MS, signal }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${COMPLETION_TIMEOUT_MS}ms`)), COMPLETION_TIMEOUT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    http.close();
  }
}
