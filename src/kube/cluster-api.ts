import type { CoreV1Event, V1EphemeralContainer, V1LabelSelector, V1Namespace, V1NamespaceList, V1Node, V1Pod, V1PodList } from '@kubernetes/client-node';
import { PluginError } from '../errors/plugin-error.js';
import { ApiError } from './api-error.js';
import { askForPermission, type ResourceRule } from './access-rules.js';
import { ephemeralContainerPatch } from './ephemeral-patch.js';
import { WORKLOAD_KINDS, type WorkloadKind } from './workload-kinds.js';
import type { KubeHttpClient } from './http-client.js';
import { translateApiError } from './translate-error.js';
import { localIdentity, versionCache } from './identity-cache.js';
import type { KubeTarget } from './kubeconfig.js';

const podPath = (ns: string, name: string) => `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}`;
const podObject = (ns: string, name: string) => `pod "${name}" in namespace "${ns}"`;

/** What the API server says about itself before anything is sent: its version and what it serves. */
export interface ServerFacts {
  /** As /version reports it; for messages only (capabilities come from discovery, not from this). */
  gitVersion: string;
  /**
   * The kind discovery names for pods/ephemeralcontainers: "Pod" from 1.22 on, "EphemeralContainers"
   * on 1.16-1.21 (a legacy body the plugin does not speak), undefined when the server has none
   * (before 1.16, or the feature gate off).
   */
  ephemeralContainersKind: string | undefined;
}

/**
 * When a pod watch gives up, and the clock it reads (tests drive a fake one): at the deadline it
 * resolves undefined (the wait timed out), at the signal's abort it rejects with "cancelled".
 */
export interface WatchLimits {
  /** In the clock's ms. */
  deadline: number;
  /** The user's Ctrl-C (or a signal): a cancel, never a timeout. */
  signal?: AbortSignal;
  now?: () => number;
  /** Resolves after ms, or at once when the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** setTimeout as a promise that an abort ends early. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The cluster operations the commands use, each translating API errors into the plugin's. */
/** A followed log: the response body, read as it comes. */
export type LogStream = NodeJS.ReadableStream & { destroy(): void };

export class ClusterApi {
  constructor(
    readonly http: KubeHttpClient,
    private readonly cache: { env: NodeJS.ProcessEnv; target: KubeTarget; as?: string; now: () => number } | undefined = undefined,
  ) {}

  /** GET a pod; not-found names the pod, namespace and how to list them. */
  async getPod(ns: string, name: string, signal?: AbortSignal): Promise<V1Pod> {
    try {
      return await this.http.request<V1Pod>({ path: podPath(ns, name), signal });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404)
        throw new PluginError('not-found', `pod "${name}" not found in namespace "${ns}"; list pods with kubectl get pods -n ${ns}`);
      throw translateApiError(err, { target: this.cache?.target, verb: 'get', resource: 'pods', object: podObject(ns, name) });
    }
  }

  /** Version and ephemeral container support (discovery of /api/v1); a usable answer is cached per server for a day. */
  async serverFacts(): Promise<ServerFacts> {
    const c = this.cache;
    const cached = c && versionCache.get(c.env, c.target.server, c.now());
    if (cached) return { gitVersion: cached.gitVersion, ephemeralContainersKind: cached.ephemeralContainersKind };
    const [v, core] = await Promise.all([
      this.http.request<{ gitVersion: string }>({ path: '/version' }),
      this.http.request<{ resources?: Array<{ name: string; kind: string }> }>({ path: '/api/v1' }),
    ]);
    const facts = { gitVersion: v.gitVersion, ephemeralContainersKind: core.resources?.find((r) => r.name === 'pods/ephemeralcontainers')?.kind };
    // Only a usable answer is kept: a cluster upgraded past the refusal is asked again at once.
    if (c && facts.ephemeralContainersKind === 'Pod') versionCache.put(c.env, c.target.server, facts, c.now());
    return facts;
  }

  /** Whether the current identity may do verb on resource[/subresource] in ns (a SelfSubjectAccessReview). */
  async canI(ns: string, verb: string, resource: string, subresource?: string): Promise<{ allowed: boolean; reason?: string }> {
    const review = await this.http.request<{ status?: { allowed?: boolean; reason?: string } }>({
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { namespace: ns, verb, resource, ...(subresource ? { subresource } : {}) } },
      },
    });
    return { allowed: review.status?.allowed === true, reason: review.status?.reason };
  }

  /** The identity's resource rules in a namespace (one SelfSubjectRulesReview); incomplete when an authorizer cannot list them. */
  async rules(ns: string): Promise<{ rules: ResourceRule[]; incomplete: boolean }> {
    let review: { status?: { resourceRules?: ResourceRule[]; incomplete?: boolean } };
    try {
      review = await this.http.request({
        method: 'POST',
        path: '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
        body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: ns } },
      });
    } catch (err) {
      throw translateApiError(err, { target: this.cache?.target, verb: 'create', resource: 'selfsubjectrulesreviews', object: `namespace "${ns}"` });
    }
    return { rules: review.status?.resourceRules ?? [], incomplete: review.status?.incomplete === true };
  }

  /** The authenticated user name: from the credentials when they say it, else a SelfSubjectReview (GA in 1.28); undefined when unavailable. */
  async whoAmI(): Promise<string | undefined> {
    return (await this.identity()).user;
  }

  /** Like whoAmI, and says when the server has no SelfSubjectReview to ask (before 1.28: a 404). */
  async identity(): Promise<{ user: string | undefined; noSelfSubjectReview: boolean }> {
    const known = this.cache && localIdentity(this.cache.target, this.cache.as);
    if (known) return { user: known, noSelfSubjectReview: false };
    try {
      const r = await this.http.request<{ status?: { userInfo?: { username?: string } } }>({
        method: 'POST',
        path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      });
      return { user: r.status?.userInfo?.username, noSelfSubjectReview: false };
    } catch (err) {
      return { user: undefined, noSelfSubjectReview: err instanceof ApiError && err.status === 404 };
    }
  }

  /** The namespace object, or undefined when the identity may not read it. */
  async getNamespace(ns: string): Promise<V1Namespace | undefined> {
    try {
      return await this.http.request<V1Namespace>({ path: `/api/v1/namespaces/${encodeURIComponent(ns)}` });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404)
        throw new PluginError('not-found', `namespace "${ns}" not found; list them with kubectl get namespaces`);
      if (err instanceof ApiError && err.status === 403) return undefined;
      throw err;
    }
  }

  /** Adds one ephemeral container with a strategic merge patch (merged by name, so concurrent adds never clobber). */
  async addEphemeralContainer(ns: string, pod: string, container: V1EphemeralContainer, dryRun = false): Promise<V1Pod> {
    let answer: V1Pod;
    try {
      answer = await this.http.request<V1Pod>({
        method: 'PATCH',
        path: `${podPath(ns, pod)}/ephemeralcontainers`,
        query: dryRun ? { dryRun: 'All' } : undefined,
        contentType: 'application/strategic-merge-patch+json',
        body: ephemeralContainerPatch(container),
      });
    } catch (err) {
      throw translateApiError(err, { target: this.cache?.target, verb: 'patch', resource: 'pods/ephemeralcontainers', object: podObject(ns, pod), adding: container.name });
    }
    // A server that does not keep ephemeral containers (the feature gate off) answers 200 without
    // the new one: waiting for it would never end.
    if (!answer.spec?.ephemeralContainers?.some((c) => c.name === container.name))
      throw new PluginError('cluster-too-old', `the API server accepted ephemeral container "${container.name}" for ${podObject(ns, pod)} but dropped it: ephemeral containers are turned off there (the EphemeralContainers feature gate, before 1.23); ask for 1.23 or later, or use kubectl debug --copy-to`);
    return answer;
  }

  /**
   * Watches one pod from resourceVersion until `check` returns a value (done), the deadline passes
   * (resolves undefined) or the user's signal aborts (rejects with "cancelled"). Like client-go's
   * RetryWatcher it survives the stream ending, being cut or refused (an API server restart: it
   * watches again from the last version seen, with a backoff) and 410 Gone (it reads the pod again
   * and goes on from there). Whatever an attempt fails with once the deadline or the signal ended
   * it says nothing: the deadline is a timeout, the signal a cancel, never the other way round.
   */
  async watchPod<T>(ns: string, name: string, resourceVersion: string | undefined, limits: WatchLimits, check: (pod: V1Pod) => T | undefined): Promise<T | undefined> {
    const now = limits.now ?? Date.now;
    const sleep = limits.sleep ?? abortableSleep;
    const { deadline, signal } = limits;
    let rv = resourceVersion;
    let failures = 0;
    for (;;) {
      if (signal?.aborted) throw new PluginError('cancelled', `cancelled while watching ${podObject(ns, name)}`);
      const left = deadline - now();
      if (left <= 0) return undefined;
      // This attempt ends at the deadline or at the user's abort, whichever comes first.
      const attempt = new AbortController();
      const done = new AbortController();
      void sleep(left, done.signal).then(() => done.signal.aborted || attempt.abort());
      const onAbort = () => attempt.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      let result: T | undefined;
      try {
        if (rv === undefined) {
          const pod = await this.getPod(ns, name, attempt.signal);
          rv = pod.metadata?.resourceVersion;
          result = check(pod);
          if (result !== undefined) return result;
        }
        await this.http.watch<V1Pod>(
          {
            path: `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`,
            query: { fieldSelector: `metadata.name=${name}`, resourceVersion: rv, timeoutSeconds: Math.max(1, Math.ceil(left / 1000)) },
            signal: attempt.signal,
          },
          (event) => {
            failures = 0;
            if (event.type === 'ERROR') {
              rv = undefined; // 410 Gone (too old a version): read the pod again
              return true;
            }
            if (event.type === 'DELETED') throw new PluginError('not-found', `pod "${name}" was deleted in namespace "${ns}" while waiting`);
            rv = event.object.metadata?.resourceVersion ?? rv;
            if (event.type === 'BOOKMARK') return false;
            result = check(event.object);
            return result !== undefined;
          },
        );
      } catch (err) {
        // Ended by the deadline or the user: the loop's first lines say which.
        if (attempt.signal.aborted) continue;
        const gone = err instanceof ApiError && err.status === 410;
        const transient = gone || (err instanceof PluginError && err.kind === 'unreachable') || (err instanceof ApiError && (err.status === 429 || err.status >= 500));
        if (!transient) throw translateApiError(err, { target: this.cache?.target, verb: 'watch', resource: 'pods', object: podObject(ns, name) });
        if (gone) rv = undefined;
        failures++;
        // Back off while the API server is away (1/4 s doubling to 2 s), never past the deadline.
        await sleep(Math.min(250 * 2 ** Math.min(failures - 1, 3), 2_000, Math.max(0, deadline - now())), signal);
      } finally {
        done.abort();
        signal?.removeEventListener('abort', onAbort);
      }
      if (result !== undefined) return result;
    }
  }

  /** The last lines of a container's log (previous=true: the crashed instance). Empty when none. */
  async logs(ns: string, pod: string, container: string, opts: { previous?: boolean; tailLines?: number } = {}): Promise<string> {
    try {
      return await this.http.text({ path: `${podPath(ns, pod)}/log`, query: { container, previous: opts.previous, tailLines: opts.tailLines } });
    } catch (err) {
      if (err instanceof ApiError && (err.status === 400 || err.status === 404)) return '';
      throw translateApiError(err, { target: this.cache?.target, verb: 'get', resource: 'pods/log', object: podObject(ns, pod) });
    }
  }

  /**
   * A started container's log from its first byte, followed as it grows until the container ends
   * (the kubelet checks every second whether it still runs), as the runtime logged it. Without
   * `stream`, stdout and stderr merged (each in its order, interleaved as the runtime logged them); with it, that one alone,
   * where the API server serves the choice (the PodLogsQuerySplitStreams feature gate, off by
   * default through 1.35): undefined when it refuses it ("stream: Forbidden: may not be specified").
   * The caller reads and ends the stream.
   */
  async followLogs(ns: string, pod: string, container: string, signal?: AbortSignal, stream?: 'Stdout' | 'Stderr'): Promise<LogStream | undefined> {
    try {
      return await this.http.stream({ path: `${podPath(ns, pod)}/log`, query: { container, follow: true, stream }, signal });
    } catch (err) {
      if (stream && err instanceof ApiError && (err.status === 400 || err.status === 422)) return undefined;
      throw translateApiError(err, { target: this.cache?.target, verb: 'get', resource: 'pods/log', object: podObject(ns, pod) });
    }
  }

  /** The pod's events, oldest first; a denial is a forbidden error (the crash summary names the missing permission). */
  async podEvents(ns: string, pod: string): Promise<CoreV1Event[]> {
    try {
      const list = await this.http.request<{ items: CoreV1Event[] }>({
        path: `/api/v1/namespaces/${encodeURIComponent(ns)}/events`,
        query: { fieldSelector: `involvedObject.name=${pod},involvedObject.namespace=${ns}` },
      });
      const time = (e: CoreV1Event) => String(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '');
      return list.items.sort((a, b) => time(a).localeCompare(time(b)));
    } catch (err) {
      throw translateApiError(err, { verb: 'list', resource: 'events', object: `namespace "${ns}"` });
    }
  }

  /**
   * The pod's events as they happen: one list (passed on first), then a watch from the list's
   * version, watched again when the server ends the stream, until the signal aborts. The kubelet's
   * Started event arrives here within milliseconds, where a list polled every 250 ms would add
   * 125 ms on average and a request each time. Rejects with the API error when the list or watch is
   * refused (a role from before watch was asked for: the caller falls back to polling).
   */
  async followPodEvents(ns: string, pod: string, onEvents: (events: CoreV1Event[]) => void, signal: AbortSignal): Promise<void> {
    const path = `/api/v1/namespaces/${encodeURIComponent(ns)}/events`;
    const fieldSelector = `involvedObject.name=${pod},involvedObject.namespace=${ns}`;
    let rv: string | undefined;
    while (!signal.aborted) {
      try {
        if (rv === undefined) {
          const list = await this.http.request<{ items: CoreV1Event[]; metadata?: { resourceVersion?: string } }>({ path, query: { fieldSelector }, signal });
          rv = list.metadata?.resourceVersion ?? '0';
          onEvents(list.items);
        }
        await this.http.watch<CoreV1Event>({ path, query: { fieldSelector, resourceVersion: rv, timeoutSeconds: 300 }, signal }, (event) => {
          if (event.type === 'ERROR') {
            rv = undefined; // 410 Gone: list again
            return true;
          }
          rv = event.object.metadata?.resourceVersion ?? rv;
          if (event.type === 'ADDED' || event.type === 'MODIFIED') onEvents([event.object]);
          return false;
        });
      } catch (err) {
        if (signal.aborted) return;
        if (!(err instanceof ApiError && err.status === 410)) throw err;
        rv = undefined;
      }
    }
  }

  /**
   * Whether the kubelet has the container in its runtime yet: a WebSocket attach to its output,
   * closed the moment it opens. The API server does not look at the pod status for an attach, and
   * the kubelet answers "container not found" until the runtime runs it: this is true ahead of the
   * status, which says running only at the kubelet's next relist (up to a second later). No stdin
   * is asked for; still, never for a stdinOnce container: the runtime closes its stdin when the
   * first attach ends, whatever that attach asked for. Asks for the v4 protocol, which the API
   * server passes to the kubelet as it is: the v5 one it upgrades itself before asking the kubelet,
   * so a 101 there proves nothing.
   */
  async attachable(ns: string, pod: string, container: string, tty: boolean): Promise<boolean> {
    const { status } = await this.http.probe({ path: `${podPath(ns, pod)}/attach`, query: { container, stdout: true, tty }, upgrade: ['v4.channel.k8s.io'] });
    if (status === 101) return true;
    // The kubelet's "container not found" comes back as a 500 (or 400 from older servers).
    if (status === 500 || status === 400) return false;
    // Refused (no pods/attach), or a proxy that does not pass upgrades: asking again will not help.
    throw new ApiError(status, undefined, 'GET', `${podPath(ns, pod)}/attach`);
  }

  /** Lists pods one page at a time (limit/continue), calling onPage for each page. */
  async listPods(ns: string | undefined, opts: { labelSelector?: string; limit?: number }, onPage: (pods: V1Pod[]) => void): Promise<void> {
    let cont: string | undefined;
    const path = ns ? `/api/v1/namespaces/${encodeURIComponent(ns)}/pods` : '/api/v1/pods';
    do {
      let page: V1PodList;
      try {
        page = await this.http.request<V1PodList>({ path, query: { limit: opts.limit ?? 500, continue: cont, labelSelector: opts.labelSelector } });
      } catch (err) {
        throw translateApiError(err, { target: this.cache?.target, verb: 'list', resource: 'pods', object: ns ? `namespace "${ns}"` : 'all namespaces' });
      }
      onPage(page.items);
      cont = (page.metadata as { continue?: string } | undefined)?.continue || undefined;
    } while (cont);
  }

  /** Creates a pod (a debug copy). */
  async createPod(ns: string, pod: V1Pod): Promise<V1Pod> {
    try {
      return await this.http.request<V1Pod>({ method: 'POST', path: `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`, body: pod });
    } catch (err) {
      throw translateApiError(err, { target: this.cache?.target, verb: 'create', resource: 'pods', object: podObject(ns, pod.metadata?.name ?? '') });
    }
  }

  /** Deletes a pod at once; a pod already gone is fine. */
  async deletePod(ns: string, name: string): Promise<void> {
    try {
      await this.http.request({ method: 'DELETE', path: podPath(ns, name), body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 } });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return;
      throw translateApiError(err, { target: this.cache?.target, verb: 'delete', resource: 'pods', object: podObject(ns, name) });
    }
  }

  /**
   * Rewrites one annotation from its current value, with optimistic concurrency: the merge patch
   * carries the resourceVersion it read, so a concurrent writer makes it fail with 409 and it
   * reads again (jittered), never overwriting the other writer's entry. `update` sees the pod's
   * annotations too (to bound their total) and returns undefined to leave the value alone; the
   * result says whether it wrote.
   */
  async updateAnnotation(
    ns: string,
    name: string,
    key: string,
    update: (current: string | undefined, annotations: Record<string, string>) => string | undefined,
    known?: V1Pod,
    attempts = 30,
  ): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      // The first try starts from a pod the caller already holds, saving a GET.
      const pod = attempt === 1 && known ? known : await this.getPod(ns, name);
      const annotations = pod.metadata?.annotations ?? {};
      const value = update(annotations[key], annotations);
      if (value === undefined) return false;
      const metadata = { resourceVersion: pod.metadata?.resourceVersion, annotations: { [key]: value } };
      try {
        await this.http.request<V1Pod>({ method: 'PATCH', path: podPath(ns, name), contentType: 'application/merge-patch+json', body: { metadata } });
        return true;
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 409) || attempt >= attempts)
          throw translateApiError(err, { target: this.cache?.target, verb: 'patch', resource: 'pods', object: podObject(ns, name) });
        await new Promise((r) => setTimeout(r, 10 + Math.random() * 40 * Math.min(attempt, 5)));
      }
    }
  }

  /** A workload (deployment, statefulset, daemonset, replicaset, job): its pod selector; not-found names it and how to list them. */
  async getWorkload(ns: string, kind: WorkloadKind, name: string): Promise<{ selector?: V1LabelSelector }> {
    const { group, resource } = WORKLOAD_KINDS[kind];
    try {
      const w = await this.http.request<{ spec?: { selector?: V1LabelSelector } }>({
        path: `/apis/${group}/v1/namespaces/${encodeURIComponent(ns)}/${resource}/${encodeURIComponent(name)}`,
      });
      return { selector: w.spec?.selector };
    } catch (err) {
      if (err instanceof ApiError && err.status === 404)
        throw new PluginError('not-found', `${kind} "${name}" not found in namespace "${ns}"; list them with kubectl get ${resource} -n ${ns}`);
      throw translateApiError(err, { verb: 'get', resource: `${resource}.${group}`, object: `${kind} "${name}" in namespace "${ns}"` });
    }
  }

  /** GET a node; not-found and forbidden name the node and the fix. */
  async getNode(name: string): Promise<V1Node> {
    try {
      return await this.http.request<V1Node>({ path: `/api/v1/nodes/${encodeURIComponent(name)}` });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw new PluginError('not-found', `node "${name}" not found; list nodes with kubectl get nodes`);
      if (err instanceof ApiError && err.status === 403)
        throw new PluginError('forbidden', `cannot get node "${name}": ${err.body?.message ?? err.message}; a node session needs "get nodes"`, { reason: 'rbac', fix: askForPermission('get', 'nodes') });
      throw translateApiError(err, { verb: 'get', resource: 'nodes', object: `node "${name}"` });
    }
  }

  /** Creates a pod with dryRun=All: the API server validates and admits it, and stores nothing. */
  async dryRunCreatePod(ns: string, pod: V1Pod): Promise<V1Pod> {
    try {
      return await this.http.request<V1Pod>({ method: 'POST', path: `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`, query: { dryRun: 'All' }, body: pod });
    } catch (err) {
      throw translateApiError(err, { verb: 'create', resource: 'pods', object: podObject(ns, pod.metadata?.name ?? '') });
    }
  }

  /** Creates an Event in its own namespace. */
  async createEvent(event: CoreV1Event): Promise<CoreV1Event> {
    const ns = event.metadata?.namespace ?? 'default';
    try {
      return await this.http.request<CoreV1Event>({ method: 'POST', path: `/api/v1/namespaces/${encodeURIComponent(ns)}/events`, body: event });
    } catch (err) {
      throw translateApiError(err, { verb: 'create', resource: 'events', object: `namespace "${ns}"` });
    }
  }

  /** Names of the namespaces matching a label selector, or undefined when the identity may not list namespaces. */
  async namespaceNames(labelSelector: string): Promise<string[] | undefined> {
    try {
      const list = await this.http.request<V1NamespaceList>({ path: '/api/v1/namespaces', query: { labelSelector } });
      return list.items.map((n) => n.metadata?.name ?? '').filter(Boolean);
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) return undefined;
      throw translateApiError(err, { verb: 'list', resource: 'namespaces', object: 'the cluster' });
    }
  }
}
