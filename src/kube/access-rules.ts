/** A resource rule as a SelfSubjectRulesReview reports it. */
export interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

/**
 * Whether the rules grant verb on a core-group resource ("pods/ephemeralcontainers"). Rules limited
 * to resourceNames do not count: the plugin needs the verb on any pod of the namespace.
 */
export function rulesAllow(rules: ResourceRule[], verb: string, resource: string): boolean {
  const [base] = resource.split('/');
  return rules.some(
    (r) =>
      (r.verbs.includes(verb) || r.verbs.includes('*')) &&
      (r.apiGroups ?? []).some((g) => g === '' || g === '*') &&
      (r.resources ?? []).some((x) => x === resource || x === '*' || (resource.includes('/') && x === `${base}/*`)) &&
      !(r.resourceNames ?? []).length,
  );
}

/** The ClusterRoles shipped in scripts/cluster/rbac.yaml: one for the core job, opt-in ones for the rest. */
export const ROLES = {
  core: 'kubectl-ephemeral-debugger',
  copy: 'kubectl-ephemeral-copy',
  cleanup: 'kubectl-ephemeral-cleanup',
  audit: 'kubectl-ephemeral-audit',
  /** Node sessions: the pod on the node, bound with a RoleBinding in the privileged namespace. */
  nodeSession: 'kubectl-ephemeral-node-session',
  /** Node sessions: the node itself and its event, bound with a ClusterRoleBinding. */
  nodeDebugger: 'kubectl-ephemeral-node-debugger',
} as const;

/** A shipped role's name. */
export type RoleName = (typeof ROLES)[keyof typeof ROLES];

/** One permission the plugin uses: what it allows the plugin to do and which shipped role grants it. */
export interface Permission {
  verb: string;
  /** resource[/subresource]; `group` set for non-core API groups. */
  resource: string;
  group?: string;
  role: RoleName;
  /** What the plugin does with it (help, README and the RBAC file say the same). */
  purpose: string;
  /** Checked by the preflight of a debug run (the rest are asked for where they are used). */
  preflight?: 'always' | 'attach' | 'copy' | 'optional' | 'node' | 'node-attach';
}

/**
 * Every permission the plugin uses, the one list that the preflight checks, `--help` prints and a
 * test compares with the roles in scripts/cluster/rbac.yaml.
 */
export const PERMISSIONS: readonly Permission[] = [
  { verb: 'get', resource: 'pods', role: ROLES.core, purpose: 'read the pod to debug' },
  { verb: 'list', resource: 'pods', role: ROLES.core, purpose: 'list debug containers and leftover copies' },
  { verb: 'watch', resource: 'pods', role: ROLES.core, purpose: 'wait until the debug container runs' },
  { verb: 'patch', resource: 'pods/ephemeralcontainers', role: ROLES.core, purpose: 'add the debug container', preflight: 'always' },
  { verb: 'get', resource: 'pods/ephemeralcontainers', role: ROLES.core, purpose: 'none itself: kubectl debug and kubectl patch --subresource read it before they write' },
  { verb: 'create', resource: 'pods/attach', role: ROLES.core, purpose: 'attach to it', preflight: 'attach' },
  { verb: 'get', resource: 'pods/attach', role: ROLES.core, purpose: 'attach over WebSocket (API servers before 1.35 check get)' },
  { verb: 'get', resource: 'pods/log', role: ROLES.core, purpose: 'previous logs in the crash summary, output of a container that already exited' },
  { verb: 'list', resource: 'events', role: ROLES.core, purpose: 'recent events in the crash summary; progress while a container starts' },
  { verb: 'watch', resource: 'events', role: ROLES.core, purpose: "the kubelet's Started event: attach without waiting for the status (else a list a second)" },
  { verb: 'get', resource: 'namespaces', role: ROLES.core, purpose: "read the namespace's Pod Security labels (cluster-wide: a RoleBinding cannot grant it)" },
  { verb: 'create', resource: 'selfsubjectrulesreviews', group: 'authorization.k8s.io', role: ROLES.core, purpose: 'check these permissions before anything is created' },
  ...(['deployments', 'statefulsets', 'daemonsets', 'replicasets'] as const).map(
    (resource): Permission => ({ verb: 'get', resource, group: 'apps', role: ROLES.core, purpose: 'resolve a workload reference (deploy/NAME, sts/, ds/, rs/) to its pods' }),
  ),
  { verb: 'get', resource: 'jobs', group: 'batch', role: ROLES.core, purpose: 'resolve job/NAME to its pods' },
  { verb: 'create', resource: 'pods', role: ROLES.copy, purpose: 'crashloop --copy: create the pod copy', preflight: 'copy' },
  { verb: 'delete', resource: 'pods', role: ROLES.copy, purpose: 'crashloop --copy: delete the copy after the session', preflight: 'copy' },
  { verb: 'create', resource: 'pods/exec', role: ROLES.cleanup, purpose: 'cleanup: signal a debug shell that ignores Ctrl-C and exit' },
  { verb: 'delete', resource: 'pods', role: ROLES.cleanup, purpose: 'cleanup: delete pod copies left by --copy --keep' },
  { verb: 'patch', resource: 'pods', role: ROLES.audit, purpose: 'write the audit annotation on the debugged pod (optional: the env stamp records anyway)', preflight: 'optional' },
  ...(['get', 'list', 'watch'] as const).map((verb): Permission => ({ verb, resource: 'pods', role: ROLES.nodeSession, purpose: 'node sessions: find and watch the node debug pod' })),
  { verb: 'create', resource: 'pods', role: ROLES.nodeSession, purpose: 'node sessions: run the node debug pod', preflight: 'node' },
  { verb: 'delete', resource: 'pods', role: ROLES.nodeSession, purpose: 'node sessions: delete it when the session ends', preflight: 'node' },
  { verb: 'create', resource: 'pods/attach', role: ROLES.nodeSession, purpose: 'node sessions: attach to it', preflight: 'node-attach' },
  { verb: 'get', resource: 'pods/attach', role: ROLES.nodeSession, purpose: 'node sessions: attach over WebSocket (before 1.35)' },
  { verb: 'get', resource: 'pods/log', role: ROLES.nodeSession, purpose: 'node sessions: the output of a command that ended before the attach' },
  { verb: 'get', resource: 'namespaces', role: ROLES.nodeSession, purpose: "node sessions: the namespace's Pod Security level" },
  { verb: 'get', resource: 'nodes', role: ROLES.nodeDebugger, purpose: 'node sessions: check the node exists and is Ready' },
  { verb: 'create', resource: 'events', role: ROLES.nodeDebugger, purpose: 'node sessions: the DebugSession event on the node (optional)' },
];

/** The permissions each shipped role grants, as `--help` prints them (one line per role). */
export function permissionsByRole(): Array<{ role: RoleName; grants: string }> {
  return (Object.values(ROLES) as RoleName[]).map((role) => {
    // "get, list, watch pods" rather than three entries: group verbs by resource, in table order.
    const byResource = new Map<string, string[]>();
    for (const p of PERMISSIONS.filter((x) => x.role === role)) byResource.set(p.resource, [...(byResource.get(p.resource) ?? []), p.verb]);
    return { role, grants: [...byResource].map(([resource, verbs]) => `${verbs.join(', ')} ${resource}`).join('; ') };
  });
}

/** What each opt-in role is for, as help and errors name it. */
export const ROLE_USE: Readonly<Record<RoleName, string>> = {
  [ROLES.core]: 'every debug session',
  [ROLES.copy]: 'crashloop --copy',
  [ROLES.cleanup]: 'cleanup',
  [ROLES.audit]: 'the audit annotation, optional',
  [ROLES.nodeSession]: 'node sessions, in the privileged namespace',
  [ROLES.nodeDebugger]: 'node sessions, cluster-wide',
};

/**
 * The shipped role(s) granting verb on resource, for an error line: "the ClusterRole X" or "X or Y".
 * A non-core resource is named as the API server and `permissions` name it: "deployments.apps".
 */
export function rolesGranting(verb: string, resource: string): string | undefined {
  const named = (p: Permission) => (p.group ? `${p.resource}.${p.group}` : p.resource);
  const granting = [...new Set(PERMISSIONS.filter((p) => p.verb === verb && named(p) === resource).map((p) => p.role))];
  // A pod session's refusal names the pod roles; the node roles only when nothing else grants it.
  const podRoles = granting.filter((r) => r !== ROLES.nodeSession && r !== ROLES.nodeDebugger);
  const roles = podRoles.length ? podRoles : granting;
  return roles.length ? `the ClusterRole ${roles.join(' or ')}` : undefined;
}

/** The command that lists every permission and prints the roles: what a refusal points to (a krew install has no checkout). */
export const PERMISSIONS_COMMAND = 'kubectl ephemeral permissions';

/** A refusal's fix: the role(s) to ask for ("the ClusterRole X") and where the user reads them. */
export function askForRoles(roles: string): string {
  return `ask for ${roles} (listed by ${PERMISSIONS_COMMAND})`;
}

/** A refusal's fix for verb on resource: the shipped role that grants it, or the verb itself when none does. */
export function askForPermission(verb: string, resource: string): string {
  const roles = rolesGranting(verb, resource);
  return roles ? askForRoles(roles) : `ask for "${verb} ${resource}" (the plugin's roles are listed by ${PERMISSIONS_COMMAND})`;
}
