// Helpers for the suites that run against the local control plane (`scripts/cluster.sh up`).
// kubectl is driven with child_process (no client library), always with the cluster's own
// kubeconfig, so a user's ~/.kube/config is never touched.
//
// With no kubelet on the test node, the tests play the kubelet: writeContainerStatuses and the
// mark* helpers PATCH the pod's status subresource as admin.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { readClusterEnv } from '../../scripts/cluster/env.mjs';

export const KUBECTL = process.env.KUBECTL ?? '/usr/bin/kubectl';

export interface ClusterEnv {
  stateDir: string;
  apiserver: string;
  caCrt: string;
  caKey: string;
  adminKubeconfig: string;
  /** Three contexts: admin (current), debugger, reader. */
  kubeconfig: string;
  auditLog: string;
  /** The node the tests bind pods to (a real kubelet may run it: see scripts/node.sh). */
  nodeName: string;
  /** A registered Ready node that no kubelet ever runs: statuses written by the tests stay. */
  fakeNode: string;
  k8sVersion: string;
}

export type Context = 'admin' | 'debugger' | 'reader';

const REPO = resolve(__dirname, '..', '..');
let cached: ClusterEnv | undefined;

/** Reads $KE_STATE_DIR/env (default <repo>/.state/cluster/env). Does not start anything. */
export function clusterEnv(): ClusterEnv {
  if (cached) return cached;
  const vars = readClusterEnv(REPO, { required: ['KE_STATE_DIR', 'KE_APISERVER', 'KE_CA_CRT', 'KE_CA_KEY', 'KE_ADMIN_KUBECONFIG', 'KE_KUBECONFIG', 'KE_AUDIT_LOG'] });
  const need = (k: string): string => vars[k]!;
  cached = {
    stateDir: need('KE_STATE_DIR'),
    apiserver: need('KE_APISERVER'),
    caCrt: need('KE_CA_CRT'),
    caKey: need('KE_CA_KEY'),
    adminKubeconfig: need('KE_ADMIN_KUBECONFIG'),
    kubeconfig: need('KE_KUBECONFIG'),
    auditLog: need('KE_AUDIT_LOG'),
    nodeName: vars.KE_NODE_NAME ?? '127.0.0.1',
    fakeNode: vars.KE_FAKE_NODE ?? 'ke-fake-node',
    k8sVersion: vars.KE_K8S_VERSION ?? '',
  };
  return cached;
}

export interface KubectlOptions {
  context?: Context;
  namespace?: string;
  /** Written to kubectl's stdin (e.g. a manifest for `apply -f -`). */
  input?: string;
  timeoutMs?: number;
}

export class KubectlError extends Error {
  constructor(
    readonly args: string[],
    readonly status: number | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`kubectl ${args.join(' ')} exited ${status}: ${stderr.trim() || stdout.trim()}`);
  }
}

function fullArgs(args: string[], opts: KubectlOptions): string[] {
  const a = ['--kubeconfig', clusterEnv().kubeconfig, '--context', opts.context ?? 'admin'];
  if (opts.namespace) a.push('--namespace', opts.namespace);
  return [...a, ...args];
}

/** Runs kubectl with the combined kubeconfig; returns stdout; throws KubectlError on failure. */
export function kubectl(args: string[], opts: KubectlOptions = {}): string {
  const all = fullArgs(args, opts);
  try {
    return execFileSync(KUBECTL, all, {
      encoding: 'utf8',
      input: opts.input,
      timeout: opts.timeoutMs ?? 30_000,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as { status?: number | null; stdout?: string; stderr?: string };
    throw new KubectlError(args, err.status ?? null, String(err.stdout ?? ''), String(err.stderr ?? ''));
  }
}

/** Like kubectl() but adds `-o json` and parses the output. */
export function kubectlJson<T = any>(args: string[], opts: KubectlOptions = {}): T {
  return JSON.parse(kubectl([...args, '-o', 'json'], opts)) as T;
}

/** kubectl that never throws: for expected failures (forbidden, rejected by admission...). */
export function kubectlResult(
  args: string[],
  opts: KubectlOptions = {},
): { ok: boolean; status: number | null; stdout: string; stderr: string } {
  try {
    return { ok: true, status: 0, stdout: kubectl(args, opts), stderr: '' };
  } catch (e) {
    if (!(e instanceof KubectlError)) throw e;
    return { ok: false, status: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `kubectl auth can-i VERB RESOURCE` as a boolean (exit 0 = yes, 1 = no). */
export function canI(context: Context, verb: string, resource: string, namespace = 'default', subresource?: string): boolean {
  const args = ['auth', 'can-i', verb, resource, '--namespace', namespace];
  if (subresource) args.push('--subresource', subresource);
  const r = kubectlResult(args, { context });
  return r.ok && r.stdout.trim() === 'yes';
}

/** Applies a manifest (object or YAML/JSON text) as admin. */
export function applyManifest(manifest: object | string, opts: KubectlOptions = {}): void {
  const input = typeof manifest === 'string' ? manifest : JSON.stringify(manifest);
  kubectl(['apply', '-f', '-'], { ...opts, input });
}

/** Creates an object (as admin unless told) and returns it as the server stored it. */
export function createObject<T = any>(manifest: object, opts: KubectlOptions = {}): T {
  return kubectlJson<T>(['create', '-f', '-'], { ...opts, input: JSON.stringify(manifest) });
}

// ---------------------------------------------------------------------------------- namespaces

export const TEST_NAMESPACE_LABEL = 'kubectl-ephemeral/test';

/**
 * Creates a namespace named `<prefix>-<random>` labelled kubectl-ephemeral/test=true (plus
 * `labels`, e.g. { 'pod-security.kubernetes.io/enforce': 'restricted' }) and waits for its
 * default ServiceAccount, without which pods are refused.
 */
export function createTestNamespace(prefix: string, labels: Record<string, string> = {}): string {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`.toLowerCase().slice(0, 63);
  createObject({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { [TEST_NAMESPACE_LABEL]: 'true', ...labels } },
  });
  waitFor(() => kubectlResult(['get', 'serviceaccount', 'default'], { namespace: name }).ok, 30_000, `default ServiceAccount in ${name}`);
  return name;
}

/**
 * Deletes a namespace without waiting for it to be gone (the namespace controller finishes it).
 * Its pods are force-deleted first: pods bound to the fake node never confirm a graceful deletion
 * (no kubelet runs there), which would leave the namespace Terminating for ever.
 */
export function deleteTestNamespace(name: string, wait = false): void {
  kubectlResult(['delete', 'pods', '--all', '--force', '--grace-period=0', '--wait=false'], { namespace: name, timeoutMs: 60_000 });
  kubectl(['delete', 'namespace', name, '--ignore-not-found', `--wait=${wait}`], { timeoutMs: 120_000 });
}

/** Deletes every namespace created by createTestNamespace (a cleanup for aborted runs). */
export function deleteAllTestNamespaces(): void {
  kubectl(['delete', 'namespace', '-l', `${TEST_NAMESPACE_LABEL}=true`, '--wait=false']);
}

/** Polls `check` (synchronously, with a short sleep) until it returns true or `timeoutMs` passes. */
export function waitFor(check: () => boolean, timeoutMs: number, what: string): void {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (check()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  }
}

/**
 * Grants `user` the given rules in one namespace (a Role and its RoleBinding, both named `name`):
 * for the opt-in permissions a test needs (pod copies, workload references) whatever cluster-wide
 * role the local cluster binds.
 */
export function grantInNamespace(namespace: string, user: string, name: string, rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>): void {
  createObject({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name }, rules }, { namespace });
  createObject(
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    },
    { namespace },
  );
}

/** The rules `crashloop --copy` needs on top of the core role: create and delete pods. */
export const COPY_RULES = [{ apiGroups: [''], resources: ['pods'], verbs: ['create', 'delete'] }];

// ------------------------------------------------------------------- the kubelet's part: statuses

export interface ContainerStatus {
  name: string;
  image?: string;
  imageID?: string;
  containerID?: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
  [k: string]: unknown;
}

export interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: {
    exitCode: number;
    reason?: string;
    message?: string;
    startedAt?: string;
    finishedAt?: string;
    containerID?: string;
  };
}

export interface StatusPatch {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
  ephemeralContainerStatuses?: ContainerStatus[];
  podIP?: string;
  conditions?: object[];
  [k: string]: unknown;
}

const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * Merge-patches the pod's status subresource as admin. Lists (containerStatuses, ...) are replaced
 * whole by a merge patch, so pass every entry of a list you set. Returns the updated pod.
 */
export function writeContainerStatuses(namespace: string, pod: string, status: StatusPatch): any {
  return kubectlJson(
    ['patch', 'pod', pod, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })],
    { namespace },
  );
}

/**
 * The node to bind pods to whose statuses the test writes itself: `127.0.0.1` while no real
 * kubelet runs it (scripts/cluster.sh registers it with containerRuntimeVersion fake://0),
 * otherwise `ke-fake-node`, which no kubelet ever runs (a kubelet would overwrite the statuses).
 */
export function statusNode(): string {
  const env = clusterEnv();
  const r = kubectlResult(['get', 'node', env.nodeName, '-o', 'jsonpath={.status.nodeInfo.containerRuntimeVersion}']);
  return r.ok && r.stdout.trim() === 'fake://0' ? env.nodeName : env.fakeNode;
}

export function getPod(namespace: string, pod: string, context: Context = 'admin'): any {
  return kubectlJson(['get', 'pod', pod], { namespace, context });
}

function imageOf(spec: any, name: string): string {
  return spec?.image ?? `unknown-image-of-${name}`;
}

function running(c: any, name: string, started = now()): ContainerStatus {
  return {
    name,
    image: imageOf(c, name),
    imageID: '',
    containerID: `containerd://${randomBytes(8).toString('hex')}`,
    ready: true,
    started: true,
    restartCount: 0,
    state: { running: { startedAt: started } },
  };
}

/** Phase Running, a pod IP, every (init) container done/running and ready, Ready conditions. */
export function markPodRunning(namespace: string, pod: string, podIP = '10.244.0.10'): any {
  const p = getPod(namespace, pod);
  const ts = now();
  const containerStatuses = (p.spec.containers ?? []).map((c: any) => running(c, c.name, ts));
  const initContainerStatuses = (p.spec.initContainers ?? []).map((c: any) =>
    c.restartPolicy === 'Always'
      ? running(c, c.name, ts)
      : {
          name: c.name,
          image: imageOf(c, c.name),
          imageID: '',
          ready: true,
          restartCount: 0,
          state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: ts, finishedAt: ts } },
        },
  );
  const cond = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: ts });
  const status: StatusPatch = {
    phase: 'Running',
    podIP,
    podIPs: [{ ip: podIP }],
    hostIP: '127.0.0.1',
    hostIPs: [{ ip: '127.0.0.1' }],
    startTime: p.status?.startTime ?? ts,
    conditions: [cond('PodReadyToStartContainers'), cond('Initialized'), cond('Ready'), cond('ContainersReady'), cond('PodScheduled')],
    containerStatuses,
  };
  if (initContainerStatuses.length) status.initContainerStatuses = initContainerStatuses;
  return writeContainerStatuses(namespace, pod, status);
}

/** Replaces (or adds) one entry of status.ephemeralContainerStatuses, keeping the others. */
function setEphemeralStatus(namespace: string, pod: string, name: string, entry: (spec: any) => ContainerStatus): any {
  const p = getPod(namespace, pod);
  const spec = (p.spec.ephemeralContainers ?? []).find((c: any) => c.name === name);
  if (!spec) throw new Error(`pod ${namespace}/${pod} has no ephemeral container ${name}`);
  const others = (p.status?.ephemeralContainerStatuses ?? []).filter((s: any) => s.name !== name);
  return writeContainerStatuses(namespace, pod, { ephemeralContainerStatuses: [...others, entry(spec)] });
}

export function markEphemeralRunning(namespace: string, pod: string, name: string): any {
  return setEphemeralStatus(namespace, pod, name, (spec) => ({ ...running(spec, name), ready: false }));
}

/** E.g. markEphemeralWaiting(ns, pod, 'debugger-x', 'ErrImagePull', 'failed to pull image ...'). */
export function markEphemeralWaiting(namespace: string, pod: string, name: string, reason: string, message = ''): any {
  return setEphemeralStatus(namespace, pod, name, (spec) => ({
    name,
    image: imageOf(spec, name),
    imageID: '',
    ready: false,
    restartCount: 0,
    state: { waiting: { reason, ...(message ? { message } : {}) } },
  }));
}

export function markEphemeralTerminated(namespace: string, pod: string, name: string, exitCode = 0, reason = 'Completed'): any {
  const ts = now();
  return setEphemeralStatus(namespace, pod, name, (spec) => ({
    name,
    image: imageOf(spec, name),
    imageID: '',
    ready: false,
    restartCount: 0,
    state: { terminated: { exitCode, reason, startedAt: ts, finishedAt: ts } },
  }));
}

/**
 * One container in CrashLoopBackOff: waiting now, lastState.terminated with the exit code and
 * reason (e.g. 1, 'Error'), restartCount > 0, not ready. Other containers keep their statuses.
 */
export function markContainerCrashLooping(namespace: string, pod: string, container: string, exitCode = 1, reason = 'Error'): any {
  const p = getPod(namespace, pod);
  const spec = (p.spec.containers ?? []).find((c: any) => c.name === container);
  if (!spec) throw new Error(`pod ${namespace}/${pod} has no container ${container}`);
  const ts = now();
  const current: any[] = p.status?.containerStatuses ?? [];
  const containerStatuses = (p.spec.containers ?? []).map((c: any) => {
    if (c.name !== container) return current.find((s) => s.name === c.name) ?? running(c, c.name, ts);
    return {
      name: container,
      image: imageOf(c, container),
      imageID: '',
      containerID: `containerd://${randomBytes(8).toString('hex')}`,
      ready: false,
      started: false,
      restartCount: 5,
      state: {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off 5m0s restarting failed container=${container} pod=${pod}_${namespace}`,
        },
      },
      lastState: { terminated: { exitCode, reason, startedAt: ts, finishedAt: ts } },
    };
  });
  const cond = (type: string, s: string) => ({ type, status: s, lastProbeTime: null, lastTransitionTime: ts });
  return writeContainerStatuses(namespace, pod, {
    phase: 'Running',
    podIP: p.status?.podIP ?? '10.244.0.10',
    hostIP: '127.0.0.1',
    startTime: p.status?.startTime ?? ts,
    conditions: [cond('Initialized', 'True'), cond('Ready', 'False'), cond('ContainersReady', 'False'), cond('PodScheduled', 'True')],
    containerStatuses,
  });
}

/**
 * A pod in Init:CrashLoopBackOff: the init containers before `container` completed, `container` in
 * back-off after exiting with exitCode (restartCount 4), the later ones and every main container
 * waiting in PodInitializing, phase Pending, Initialized False.
 */
export function markInitContainerCrashLooping(namespace: string, pod: string, container: string, exitCode = 1, reason = 'Error'): any {
  const p = getPod(namespace, pod);
  const inits: any[] = p.spec.initContainers ?? [];
  const at = inits.findIndex((c) => c.name === container);
  if (at < 0) throw new Error(`pod ${namespace}/${pod} has no init container ${container}`);
  const ts = now();
  const base = (c: any) => ({ name: c.name, image: imageOf(c, c.name), imageID: '', ready: false, restartCount: 0 });
  const initializing = (c: any) => ({ ...base(c), state: { waiting: { reason: 'PodInitializing' } } });
  const initContainerStatuses = inits.map((c, i) => {
    if (i < at) return { ...base(c), ready: true, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: ts, finishedAt: ts } } };
    if (i > at) return initializing(c);
    return {
      ...base(c),
      containerID: `containerd://${randomBytes(8).toString('hex')}`,
      restartCount: 4,
      state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 1m20s restarting failed container=${container} pod=${pod}_${namespace}` } },
      lastState: { terminated: { exitCode, reason, startedAt: ts, finishedAt: ts } },
    };
  });
  const cond = (type: string, st: string) => ({ type, status: st, lastProbeTime: null, lastTransitionTime: ts });
  return writeContainerStatuses(namespace, pod, {
    phase: 'Pending',
    podIP: '10.244.0.11',
    hostIP: '127.0.0.1',
    startTime: p.status?.startTime ?? ts,
    conditions: [cond('Initialized', 'False'), cond('Ready', 'False'), cond('ContainersReady', 'False'), cond('PodScheduled', 'True')],
    initContainerStatuses,
    containerStatuses: (p.spec.containers ?? []).map(initializing),
  });
}

/** The API server's answer to one request: HTTP code, parsed body, and the Status message when it failed. */
export interface ApiAnswer {
  ok: boolean;
  code: number;
  body: any;
  message: string;
}

/**
 * PATCHes pods/ephemeralcontainers as kubectl debug does (a strategic merge patch), straight to the
 * API server with the context's client certificate (scripts/cluster.sh signs one per identity). Not
 * `kubectl patch --subresource`: the kubectl on PATH may be a version dispatcher that runs kubectl
 * 1.30 against a 1.30 server, and before 1.32 that flag knows only status and scale.
 */
export function patchEphemeralContainers(namespace: string, pod: string, patch: object, opts: { context?: Context; dryRun?: boolean } = {}): ApiAnswer {
  const env = clusterEnv();
  const pki = dirname(env.caCrt);
  const who = opts.context ?? 'admin';
  const url = `${env.apiserver}/api/v1/namespaces/${namespace}/pods/${pod}/ephemeralcontainers${opts.dryRun ? '?dryRun=All' : ''}`;
  const out = execFileSync(
    'curl',
    ['-sS', '--max-time', '30', '--cacert', env.caCrt, '--cert', join(pki, `${who}.crt`), '--key', join(pki, `${who}.key`), '-X', 'PATCH',
      '-H', 'Content-Type: application/strategic-merge-patch+json', '-H', 'Accept: application/json', '--data-binary', '@-', '-w', '\n%{http_code}', url],
    { encoding: 'utf8', input: JSON.stringify(patch) },
  );
  const cut = out.lastIndexOf('\n');
  const code = Number(out.slice(cut + 1));
  const body = JSON.parse(out.slice(0, cut));
  const ok = code >= 200 && code < 300;
  return { ok, code, body, message: ok ? '' : String(body?.message ?? '') };
}

/** Adds one ephemeral container as kubectl debug sends it; throws with the server's message when refused. */
export function addEphemeralContainer(namespace: string, pod: string, container: object, context: Context = 'admin'): any {
  const r = patchEphemeralContainers(namespace, pod, { spec: { ephemeralContainers: [container] } }, { context });
  if (!r.ok) throw new Error(`PATCH pods/ephemeralcontainers of ${namespace}/${pod} as ${context}: HTTP ${r.code}: ${r.message}`);
  return r.body;
}

/** Audit events (JSON lines) written since `fromByte`; pair with auditLogSize() to count requests. */
export function auditLogSize(): number {
  const f = clusterEnv().auditLog;
  return existsSync(f) ? readFileSync(f).length : 0;
}

export function auditEventsSince(fromByte: number, username?: string): any[] {
  const f = clusterEnv().auditLog;
  if (!existsSync(f)) return [];
  const text = readFileSync(f).subarray(fromByte).toString('utf8');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l))
    .filter((e) => !username || e.user?.username === username);
}
