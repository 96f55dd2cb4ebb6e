import { ApiError, type KubeStatus } from '../../../src/kube/api-error';
import { translateApiError } from '../../../src/kube/translate-error';
import { PluginError } from '../../../src/errors/plugin-error';

const ctx = { verb: 'patch', resource: 'pods/ephemeralcontainers', object: 'pod "web" in namespace "shop"', adding: 'dbg' };
const answer = (status: number, body: KubeStatus) => new ApiError(status, body, 'PATCH', '/api/v1/namespaces/shop/pods/web/ephemeralcontainers');

describe('translateApiError: the reason as data, the fix apart', () => {
  it.each<[string, ApiError, object]>([
    [
      'a duplicate container name',
      answer(422, { message: 'Pod "web" is invalid: spec.ephemeralContainers[1].name: Duplicate value: "dbg"', details: { causes: [{ reason: 'FieldValueDuplicate', field: 'spec.ephemeralContainers[1].name' }] } }),
      { kind: 'usage', reason: 'name-taken' },
    ],
    ['another invalid field', answer(422, { message: 'Pod "web" is invalid: spec.ephemeralContainers[1].image: Required value', details: { causes: [{ reason: 'FieldValueRequired', field: 'spec.ephemeralContainers[1].image' }] } }), { kind: 'usage', reason: 'invalid' }],
    [
      'Pod Security refusing the container',
      answer(403, { message: 'pods "web" is forbidden: violates PodSecurity "baseline:latest": privileged (container "dbg" must not set securityContext.privileged=true)' }),
      { kind: 'policy-rejected', reason: 'pod-security', fix: 'use a preset the namespace level allows, or ask for an exemption' },
    ],
    [
      'RBAC: the shipped role to ask for, and the command that lists it (a krew user has no checkout)',
      answer(403, { message: 'pods "web" is forbidden: User "bob" cannot patch resource "pods/ephemeralcontainers"' }),
      { kind: 'forbidden', reason: 'rbac', fix: 'ask for the ClusterRole kubectl-ephemeral-debugger (listed by kubectl ephemeral permissions)' },
    ],
    ['a missing pod', answer(404, { message: 'pods "web" not found', details: { name: 'web' } }), { kind: 'not-found', reason: 'missing' }],
    ['no subresource', answer(404, { message: 'the server could not find the requested resource' }), { kind: 'cluster-too-old', reason: 'no-ephemeral-containers' }],
  ])('%s', (_what, err, want) => {
    expect(translateApiError(err, ctx)).toMatchObject(want);
  });

  it('RBAC on a verb no shipped role grants: the verb itself, and the command that lists the roles', () => {
    const err = translateApiError(answer(403, { message: 'pods "web" is forbidden: User "bob" cannot escalate resource "roles"' }), { ...ctx, verb: 'escalate', resource: 'roles' });
    expect(err).toMatchObject({ kind: 'forbidden', reason: 'rbac', fix: 'ask for "escalate roles" (the plugin\'s roles are listed by kubectl ephemeral permissions)' });
  });

  it('a caller offers its own fix without reading the message: the problem stays, the fix is replaced', () => {
    const err = translateApiError(answer(403, { message: 'pods "web" is forbidden: violates PodSecurity "baseline:latest": host namespaces' }), { ...ctx, adding: undefined }) as PluginError;
    expect(err.message).toBe('pod "web" in namespace "shop": rejected by Pod Security admission: violates PodSecurity "baseline:latest": host namespaces; use a preset the namespace level allows, or ask for an exemption');
    const moved = err.withFix('pass --namespace ops');
    expect({ kind: moved.kind, reason: moved.reason, message: moved.message }).toEqual({
      kind: 'policy-rejected',
      reason: 'pod-security',
      message: 'pod "web" in namespace "shop": rejected by Pod Security admission: violates PodSecurity "baseline:latest": host namespaces; pass --namespace ops',
    });
  });
});
