// Helpers for the suites that run against the local control plane (`scripts/cluster.sh up`).
// kubectl is driven with child_process (no client library), always with the cluster's own
// kubeconfig, so a user's ~/.kube/config is never touched. Where no kubelet runs, the tests play
// it: see kubelet.ts.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { readClusterEnv } from '../../scripts/cluster/env.mjs';
import { eventually } from './wait';

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
  /** The node the scheduler places pods on (a real kubelet may run it: see scripts/node.sh). */
  nodeName: string;
  /** A registered Ready node that no kubelet ever runs: statuses written by the tests stay. */
  fakeNode: string;
  k8sVersion: string;
  /** Where the cluster's DNS (CoreDNS) answers on the host, "127.0.0.1:PORT"; '' for a cluster from before it. */
  dnsServer: string;
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
    dnsServer: vars.KE_DNS_SERVER ?? '',
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

/** kubectl without blocking the event loop, so a running plugin's output keeps flowing; rejects on failure. */
export function kubectlAsync(args: string[], opts: KubectlOptions = {}): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(KUBECTL, fullArgs(args, opts), { encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolvePromise(stdout),
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** Like kubectlAsync() but adds `-o json` and parses the output. */
export async function kubectlJsonAsync<T = any>(args: string[], opts: KubectlOptions = {}): Promise<T> {
  return JSON.parse(await kubectlAsync([...args, '-o', 'json'], opts)) as T;
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
export async function createTestNamespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`.toLowerCase().slice(0, 63);
  createObject({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { [TEST_NAMESPACE_LABEL]: 'true', ...labels } },
  });
  await eventually(async () => kubectlResult(['get', 'serviceaccount', 'default'], { namespace: name }).ok, 30_000, `default ServiceAccount in ${name}`);
  return name;
}

/**
 * Deletes a test namespace (none when `name` is empty: a beforeAll that failed early) without
 * waiting for it to be gone unless told; never throws, as it runs in afterAll. Its pods are
 * force-deleted first: pods bound to the fake node never confirm a graceful deletion (no kubelet
 * runs there), which would leave the namespace Terminating for ever.
 */
export function deleteTestNamespace(name: string, wait = false): void {
  if (!name) return;
  kubectlResult(['delete', 'pods', '--all', '--force', '--grace-period=0', '--wait=false'], { namespace: name, timeoutMs: 60_000 });
  kubectlResult(['delete', 'namespace', name, '--ignore-not-found', `--wait=${wait}`], { timeoutMs: 120_000 });
}

/** Deletes every namespace created by createTestNamespace (a cleanup for aborted runs). */
export function deleteAllTestNamespaces(): void {
  kubectl(['delete', 'namespace', '-l', `${TEST_NAMESPACE_LABEL}=true`, '--wait=false']);
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

/** The pod as `context` sees it. */
export function getPod(namespace: string, pod: string, context: Context = 'admin'): any {
  return kubectlJson(['get', 'pod', pod], { namespace, context });
}

/** Waits until a (real) kubelet reports the pod Running. */
export async function waitForPodRunning(namespace: string, pod: string, timeoutMs = 60_000): Promise<void> {
  await eventually(async () => getPod(namespace, pod).status?.phase === 'Running', timeoutMs, `pod ${namespace}/${pod} Running`);
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
