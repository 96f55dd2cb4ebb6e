import type { Connection } from '../context.js';
import type { ServerFacts } from '../kube/cluster-api.js';
import { PluginError } from '../errors/plugin-error.js';
import { askForRoles, PERMISSIONS, ROLES, rulesAllow, type Permission } from '../kube/access-rules.js';
import { enforcedLevel, type PodSecurityLevel } from '../plan/pod-security.js';

/** What the cluster says before anything is created: what it serves, permissions, Pod Security level, identity. */
export interface Preflight {
  server: ServerFacts;
  /** "verb resource" → allowed, for every permission this run needs. */
  allowed: Map<string, boolean>;
  level: PodSecurityLevel;
  user?: string;
  /** One line each about a feature this server lacks and what the run does without it. */
  notices: string[];
}

/** What a run is about to do, which decides the permissions it needs. */
export interface PreflightNeeds {
  attach: boolean;
  copy: boolean;
  /** A node session: a pod of its own on the node instead of an ephemeral container. */
  node?: boolean;
}

/**
 * The permissions a run checks up front; `patch pods` (the audit annotation) is optional. A node
 * session needs its own (its node roles): a pod of its own, created, attached to and deleted.
 */
export function neededPermissions(needs: PreflightNeeds): Permission[] {
  // `get nodes` is not here: it is cluster-scoped, and the node session's GET of the node answers it.
  if (needs.node) return PERMISSIONS.filter((p) => p.preflight === 'node' || (p.preflight === 'node-attach' && needs.attach));
  return PERMISSIONS.filter(
    (p) => p.preflight === 'always' || p.preflight === 'optional' || (p.preflight === 'attach' && needs.attach) || (p.preflight === 'copy' && needs.copy),
  );
}

/** Server facts, permissions (one SelfSubjectRulesReview), Pod Security level and identity, all at once. */
export async function runPreflight(conn: Connection, needs: PreflightNeeds): Promise<Preflight> {
  const { api } = conn;
  const ns = conn.target.namespace;
  const [server, rules, namespace, identity] = await Promise.all([api.serverFacts(), api.rules(ns), api.getNamespace(ns), api.identity()]);
  const allowed = new Map<string, boolean>();
  for (const { verb, resource } of neededPermissions(needs)) {
    let ok = rulesAllow(rules.rules, verb, resource);
    // Some authorizers (webhooks) cannot list rules: ask about that one permission directly.
    if (!ok && rules.incomplete) {
      const [res, sub] = resource.split('/');
      ok = (await api.canI(ns, verb, res!, sub)).allowed;
    }
    allowed.set(`${verb} ${resource}`, ok);
  }
  const notices = identity.noSelfSubjectReview
    ? [`the API server (${server.gitVersion}) has no SelfSubjectReview (Kubernetes 1.28+): the debug container carries no creator and errors say "this identity"`]
    : [];
  return { server, allowed, level: enforcedLevel(namespace?.metadata?.labels), user: identity.user, notices };
}

/** Refuses a run the cluster would refuse: too old, or a needed permission missing. */
export function checkPreflight(p: Preflight, ns: string): void {
  // What discovery says, not the version number: a server that serves the subresource as a Pod works.
  const { gitVersion, ephemeralContainersKind: kind } = p.server;
  if (kind !== 'Pod')
    throw new PluginError(
      'cluster-too-old',
      kind
        ? `the API server (${gitVersion}) serves pods/ephemeralcontainers as the legacy ${kind} kind (Kubernetes 1.16-1.21); ephemeral containers need 1.23 or later: upgrade, or use kubectl debug --copy-to`
        : `the API server (${gitVersion}) has no pods/ephemeralcontainers subresource; ephemeral containers need Kubernetes 1.23 or later: upgrade, or use kubectl debug --copy-to`,
    );
  const who = p.user ? `user "${p.user}"` : 'this identity';
  const denied = (perm: string) => p.allowed.get(perm) === false;
  if (denied('create pods') || denied('delete pods'))
    throw new PluginError('forbidden', `${who} cannot create and delete pods in namespace "${ns}" (needed by --copy)`, { reason: 'rbac', fix: `${askForRoles(`the ClusterRole ${ROLES.copy}`)}, or debug without --copy` });
  if (denied('patch pods/ephemeralcontainers'))
    throw new PluginError('forbidden', `${who} cannot patch pods/ephemeralcontainers in namespace "${ns}"`, { reason: 'rbac', fix: askForRoles(`the ClusterRole ${ROLES.core}`) });
  if (denied('create pods/attach'))
    throw new PluginError('forbidden', `${who} cannot create pods/attach in namespace "${ns}"`, { reason: 'rbac', fix: `${askForRoles(`the ClusterRole ${ROLES.core}`)}, or pass --no-attach` });
}

/** Refuses a node session the cluster would refuse: a pod it may not create, delete or attach to. */
export function checkNodePreflight(p: Preflight, ns: string): void {
  const who = p.user ? `user "${p.user}"` : 'this identity';
  const denied = (perm: string) => p.allowed.get(perm) === false;
  if (denied('create pods') || denied('delete pods'))
    throw new PluginError('forbidden', `${who} cannot create and delete pods in namespace "${ns}" (a node session runs a pod on the node and deletes it at the end); ask for "create, delete pods" there, or pass --namespace with a namespace where you have them`);
  if (denied('create pods/attach'))
    throw new PluginError('forbidden', `${who} cannot create pods/attach in namespace "${ns}" (a node session attaches to its pod); ask for it, or pass --namespace with a namespace where you have it`);
}
