// How the plugin tells what a server supports: discovery and the answers it gets, never the
// version number. Servers older than the matrix (scripts/test-versions.sh: 1.30 and later) cannot be
// built here, so their answers are played by a fake transport shaped like theirs.
import { ClusterApi } from '../../../src/kube/cluster-api';
import type { KubeHttpClient, KubeRequest } from '../../../src/kube/http-client';
import { ApiError } from '../../../src/kube/api-error';
import { PluginError } from '../../../src/errors/plugin-error';
import { checkPreflight, runPreflight } from '../../../src/debug/preflight';
import type { Connection } from '../../../src/context';
import type { KubeTarget } from '../../../src/kube/kubeconfig';

type Answer = unknown | ((req: KubeRequest) => unknown);

/** A transport that answers by "METHOD path"; a 404 Status for anything else, as a server would. */
function fakeServer(answers: Record<string, Answer>): { api: ClusterApi; sent: string[] } {
  const sent: string[] = [];
  const http = {
    async request(req: KubeRequest) {
      const key = `${req.method ?? 'GET'} ${req.path}`;
      sent.push(key);
      if (!(key in answers)) throw new ApiError(404, { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: 'the server could not find the requested resource', details: {} }, req.method ?? 'GET', req.path);
      const a = answers[key];
      return typeof a === 'function' ? (a as (r: KubeRequest) => unknown)(req) : a;
    },
  };
  return { api: new ClusterApi(http as unknown as KubeHttpClient), sent };
}

const core = (ephemeral?: string) => ({
  kind: 'APIResourceList',
  groupVersion: 'v1',
  resources: [
    { name: 'pods', namespaced: true, kind: 'Pod', verbs: ['create', 'delete', 'get', 'list', 'patch', 'watch'] },
    ...(ephemeral ? [{ name: 'pods/ephemeralcontainers', namespaced: true, kind: ephemeral, verbs: ['get', 'patch', 'update'] }] : []),
  ],
});

const everythingAllowed = { status: { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], incomplete: false } };
const server = (gitVersion: string, ephemeral: string | undefined, extra: Record<string, Answer> = {}) =>
  fakeServer({
    'GET /version': { major: '1', minor: gitVersion.split('.')[1], gitVersion },
    'GET /api/v1': core(ephemeral),
    'POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews': everythingAllowed,
    'GET /api/v1/namespaces/shop': { metadata: { name: 'shop', labels: {} } },
    ...extra,
  });
const connection = (api: ClusterApi): Connection => ({ api, target: { namespace: 'shop' } as KubeTarget, close: () => undefined });

const refusal = (f: () => void): PluginError => {
  try {
    f();
  } catch (e) {
    return e as PluginError;
  }
  throw new Error('expected a refusal');
};

describe('ephemeral container support comes from discovery', () => {
  it.each([
    ['v1.30.14', 'Pod'],
    ['v1.22.0', 'Pod'],
  ])('%s serves pods/ephemeralcontainers as a Pod: the preflight lets the run go on', async (version, kind) => {
    const { api } = server(version, kind);
    expect(await api.serverFacts()).toEqual({ gitVersion: version, ephemeralContainersKind: 'Pod' });
    const p = await runPreflight(connection(api), { attach: true, copy: false });
    expect(() => checkPreflight(p, 'shop')).not.toThrow();
  });

  it.each([
    ['the legacy EphemeralContainers kind (1.16-1.21)', 'v1.21.14', 'EphemeralContainers', 'error: the API server (v1.21.14) serves pods/ephemeralcontainers as the legacy EphemeralContainers kind (Kubernetes 1.16-1.21); ephemeral containers need 1.23 or later: upgrade, or use kubectl debug --copy-to'],
    ['no subresource (before 1.16, or the gate off)', 'v1.15.12', undefined, 'error: the API server (v1.15.12) has no pods/ephemeralcontainers subresource; ephemeral containers need Kubernetes 1.23 or later: upgrade, or use kubectl debug --copy-to'],
    // The number alone would pass this one: a vendor build whose discovery lacks the subresource.
    ['a 1.25 server whose discovery lacks it', 'v1.25.0-vendor.1', undefined, 'error: the API server (v1.25.0-vendor.1) has no pods/ephemeralcontainers subresource; ephemeral containers need Kubernetes 1.23 or later: upgrade, or use kubectl debug --copy-to'],
  ])('%s: exit 72 before anything is sent, one line naming the server', async (_what, version, kind, line) => {
    const { api, sent } = server(version, kind);
    const p = await runPreflight(connection(api), { attach: true, copy: false });
    const e = refusal(() => checkPreflight(p, 'shop'));
    expect([e.kind, e.exitCode, `error: ${e.message}`]).toEqual(['cluster-too-old', 72, line]);
    expect(sent.filter((s) => s.startsWith('PATCH'))).toEqual([]);
  });

  it('a 200 without the container (the field dropped, as with the feature gate off) is exit 72, not a wait for ever', async () => {
    const pod = { metadata: { name: 'web', namespace: 'shop' }, spec: { containers: [{ name: 'app', image: 'nginx' }] } };
    const { api } = server('v1.22.17', 'Pod', { 'PATCH /api/v1/namespaces/shop/pods/web/ephemeralcontainers': pod });
    const e = await api.addEphemeralContainer('shop', 'web', { name: 'dbg', image: 'busybox' }).then(
      () => undefined,
      (err: PluginError) => err,
    );
    expect([e?.kind, e?.message]).toEqual([
      'cluster-too-old',
      'the API server accepted ephemeral container "dbg" for pod "web" in namespace "shop" but dropped it: ephemeral containers are turned off there (the EphemeralContainers feature gate, before 1.23); ask for 1.23 or later, or use kubectl debug --copy-to',
    ]);
  });
});

describe('SelfSubjectReview (GA in 1.28)', () => {
  it('present: the user comes from it, and nothing is said', async () => {
    const { api } = server('v1.30.14', 'Pod', { 'POST /apis/authentication.k8s.io/v1/selfsubjectreviews': { status: { userInfo: { username: 'system:serviceaccount:shop:oncall' } } } });
    const p = await runPreflight(connection(api), { attach: true, copy: false });
    expect([p.user, p.notices]).toEqual(['system:serviceaccount:shop:oncall', []]);
  });

  it('missing (a 404 from a 1.27 server): one note line, and the run goes on without a creator', async () => {
    const { api } = server('v1.27.16', 'Pod');
    const p = await runPreflight(connection(api), { attach: true, copy: false });
    expect(p.user).toBeUndefined();
    expect(p.notices).toEqual(['the API server (v1.27.16) has no SelfSubjectReview (Kubernetes 1.28+): the debug container carries no creator and errors say "this identity"']);
    expect(() => checkPreflight(p, 'shop')).not.toThrow();
  });

  it('refused (403) is not "missing": no note', async () => {
    const { api } = server('v1.35.4', 'Pod', {
      'POST /apis/authentication.k8s.io/v1/selfsubjectreviews': () => {
        throw new ApiError(403, { reason: 'Forbidden', code: 403, message: 'forbidden' }, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews');
      },
    });
    const p = await runPreflight(connection(api), { attach: true, copy: false });
    expect([p.user, p.notices]).toEqual([undefined, []]);
  });
});

describe('a Pod Security refusal from the server', () => {
  const refused = (message: string) => {
    const { api } = server('v1.35.4', 'Pod', {
      'PATCH /api/v1/namespaces/shop/pods/web/ephemeralcontainers': () => {
        throw new ApiError(403, { kind: 'Status', reason: 'Forbidden', code: 403, message }, 'PATCH', '/api/v1/namespaces/shop/pods/web/ephemeralcontainers');
      },
    });
    return api.addEphemeralContainer('shop', 'web', { name: 'dbg', image: 'busybox' }).then(
      () => undefined,
      (err: PluginError) => [err.kind, err.message],
    );
  };

  it('of the new container: the preset is the cause', async () => {
    expect(await refused('pods "web" is forbidden: violates PodSecurity "baseline:latest": privileged (container "dbg" must not set securityContext.privileged=true)')).toEqual([
      'policy-rejected',
      'pod "web" in namespace "shop": rejected by Pod Security admission: violates PodSecurity "baseline:latest": privileged (container "dbg" must not set securityContext.privileged=true); use a preset the namespace level allows, or ask for an exemption',
    ]);
  });

  it('of the pod alone (a check newer servers added, unknown to the plugin\'s gate): the pod is the cause', async () => {
    expect(await refused('pods "web" is forbidden: violates PodSecurity "baseline:latest": probe or lifecycle host (container "app" uses probe or lifecycle host "10.0.0.5")')).toEqual([
      'policy-rejected',
      'pod "web" in namespace "shop" is refused as a whole by this API server\'s Pod Security admission (violates PodSecurity "baseline:latest": probe or lifecycle host (container "app" uses probe or lifecycle host "10.0.0.5")); it checks the whole pod, so every debug container is rejected until the pod is fixed or exempted',
    ]);
  });
});
