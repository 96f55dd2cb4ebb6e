import { PluginError } from '../errors/plugin-error.js';
import { askForPermission } from './access-rules.js';
import { ApiError } from './api-error.js';
import type { KubeTarget } from './kubeconfig.js';

/** What was being done when an API call failed, so the message can name it. */
export interface ErrorContext {
  verb: string;
  /** e.g. "pods/ephemeralcontainers". */
  resource: string;
  /** e.g. `pod "web" in namespace "shop"`. */
  object: string;
  /** The connection, to name the context when the server took the request as anonymous. */
  target?: KubeTarget;
  /** The container being added, to tell a refusal of it from one of the pod it joins. */
  adding?: string;
}

/** Turns an API answer into one of the plugin's error kinds with a one-line message and fix. */
export function translateApiError(err: unknown, ctx: ErrorContext): Error {
  if (!(err instanceof ApiError)) return err as Error;
  const msg = err.body?.message ?? err.message;
  switch (err.status) {
    case 401:
      return new PluginError('forbidden', `unauthorized: the API server refused the credentials of this context`, { reason: 'unauthenticated', fix: 'log in again or check --context' });
    case 403:
      if (/User "system:anonymous"/.test(msg) && ctx.target)
        return new PluginError('forbidden', `the API server took the request as anonymous (system:anonymous): it accepted none of the credentials ${ctx.target.contextName ? `of context "${ctx.target.contextName}" (user "${ctx.target.user.name}")` : 'given by the flags'}`, {
          reason: 'unauthenticated',
          fix: 'check them with kubectl auth whoami',
        });
      // A check the plugin's own gate does not know (newer servers add some, e.g. probe hosts in
      // 1.34) may fault the pod rather than the new container: say so, the preset is not the cause.
      if (/violates PodSecurity/.test(msg) && ctx.adding && !msg.includes(`container "${ctx.adding}"`))
        return new PluginError('policy-rejected', `${ctx.object} is refused as a whole by this API server's Pod Security admission (${stripPrefix(msg)})`, {
          reason: 'pod-security-pod',
          fix: 'it checks the whole pod, so every debug container is rejected until the pod is fixed or exempted',
        });
      if (/violates PodSecurity/.test(msg))
        return new PluginError('policy-rejected', `${ctx.object}: rejected by Pod Security admission: ${stripPrefix(msg)}`, { reason: 'pod-security', fix: 'use a preset the namespace level allows, or ask for an exemption' });
      return new PluginError('forbidden', `cannot ${ctx.verb} ${ctx.resource} for ${ctx.object}: ${stripPrefix(msg)}`, {
        reason: 'rbac',
        fix: askForPermission(ctx.verb, ctx.resource),
      });
    case 404:
      if (ctx.resource === 'pods/ephemeralcontainers' && !err.body?.details?.name)
        return new PluginError('cluster-too-old', `the API server has no pods/ephemeralcontainers subresource (ephemeral containers need Kubernetes 1.23 or later)`, {
          reason: 'no-ephemeral-containers',
          fix: 'upgrade the cluster or use kubectl debug --copy-to',
        });
      return new PluginError('not-found', `${ctx.object} not found`, { reason: 'missing', fix: `check the name and namespace (kubectl get ${ctx.resource.split('/')[0]} -n ...)` });
    case 409:
      return new PluginError('internal', `conflict while trying to ${ctx.verb} ${ctx.object}: ${msg}`, { reason: 'conflict', fix: 'retry' });
    case 422:
      return new PluginError('usage', `the API server rejected the ${ctx.resource} for ${ctx.object}: ${stripPrefix(msg)}`, { reason: nameTaken(err) ? 'name-taken' : 'invalid' });
    default:
      return new PluginError('internal', `${ctx.verb} ${ctx.resource} for ${ctx.object} failed with HTTP ${err.status}: ${msg}`);
  }
}

/** The server's own cause says a container name is already used (FieldValueDuplicate on a name field). */
function nameTaken(err: ApiError): boolean {
  return (err.body?.details?.causes ?? []).some((c) => c.reason === 'FieldValueDuplicate' && /(^|\.)name$/.test(c.field ?? ''));
}

/** Drops the redundant `pods "x" is forbidden: ` lead-in the server puts before the reason. */
function stripPrefix(msg: string): string {
  return msg.replace(/^[a-z./]+ "[^"]*" is (forbidden|invalid): /, '').replace(/\.$/, '');
}
