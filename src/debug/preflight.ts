import type { Connection } from '../context.js';
import { PluginError } from '../errors/plugin-error.js';
import { rulesAllow } from '../plan/access-rules.js';
import { enforcedLevel, type PodSecurityLevel } from '../plan/pod-security.js';

/** What the cluster says before anything is created: version, permissions, Pod Security level, identity. */
export interface Preflight {
  serverVersion: { major: number; minor: number; gitVersion: string };
  /** "verb resource" → allowed, for every permission this run needs. */
  allowed: Map<string, boolean>;
  level: PodSecurityLevel;
  user?: string;
}

/** What a run is about to do, which decides the permissions it needs. */
export interface PreflightNeeds {
  attach: boolean;
  copy: boolean;
}

/** The ClusterRoles shipped in scripts/cluster/rbac.yaml: one for the core job, opt-in ones for the rest. */
export const ROLES = {
  core: 'kubectl-ephemeral-debugger',
  copy: 'kubectl-ephemeral-copy',
  cleanup: 'kubectl-ephemeral-cleanup',
  audit: 'kubectl-ephemeral-audit',
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
  preflight?: 'always' | 'attach' | 'copy' | 'optional';
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
  { verb: 'create', resource: 'pods/attach', role: ROLES.core, purpose: 'attach to it', preflight: 'attach' },
  { verb: 'get', resource: 'pods/attach', role: ROLES.core, purpose: 'attach over WebSocket (API servers before 1.35 check get)' },
  { verb: 'get', resource: 'pods/log', role: ROLES.core, purpose: 'previous logs in the crash summary, output of a container that already exited' },
  { verb: 'list', resource: 'events', role: ROLES.core, purpose: 'recent events in the crash summary' },
  { verb: 'get', resource: 'namespaces', role: ROLES.core, purpose: "read the namespace's Pod Security labels (cluster-wide: a RoleBinding cannot grant it)" },
  { verb: 'create', resource: 'selfsubjectrulesreviews', group: 'authorization.k8s.io', role: ROLES.core, purpose: 'check these permissions before anything is created' },
  { verb: 'create', resource: 'pods', role: ROLES.copy, purpose: 'crashloop --copy: create the pod copy', preflight: 'copy' },
  { verb: 'delete', resource: 'pods', role: ROLES.copy, purpose: 'crashloop --copy: delete the copy after the session', preflight: 'copy' },
  { verb: 'create', resource: 'pods/exec', role: ROLES.cleanup, purpose: 'cleanup: signal a debug shell that ignores Ctrl-C and exit' },
  { verb: 'delete', resource: 'pods', role: ROLES.cleanup, purpose: 'cleanup: delete pod copies left by --copy --keep' },
  { verb: 'patch', resource: 'pods', role: ROLES.audit, purpose: 'write the audit annotation on the debugged pod (optional: the env stamp records anyway)', preflight: 'optional' },
];

/** The permissions a debug run checks up front; `patch pods` (the audit annotation) is optional. */
export function neededPermissions(needs: PreflightNeeds): Permission[] {
  return PERMISSIONS.filter(
    (p) => p.preflight === 'always' || p.preflight === 'optional' || (p.preflight === 'attach' && needs.attach) || (p.preflight === 'copy' && needs.copy),
  );
}

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
};

/** Version, permissions (one SelfSubjectRulesReview), Pod Security level and identity, all at once. */
export async function runPreflight(conn: Connection, needs: PreflightNeeds): Promise<Preflight> {
  const { api } = conn;
  const ns = conn.target.namespace;
  const [serverVersion, rules, namespace, user] = await Promise.all([api.serverVersion(), api.rules(ns), api.getNamespace(ns), api.whoAmI()]);
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
  return { serverVersion, allowed, level: enforcedLevel(namespace?.metadata?.labels), user };
}

/** Refuses a run the cluster would refuse: too old, or a needed permission missing. */
export function checkPreflight(p: Preflight, ns: string): void {
  const { major, minor, gitVersion } = p.serverVersion;
  if (major === 1 && minor < 23)
    throw new PluginError(
      'cluster-too-old',
      `the cluster runs ${gitVersion}: ephemeral containers are off before 1.23 (1.16-1.21 also used the legacy EphemeralContainers kind); upgrade, or use kubectl debug --copy-to`,
    );
  const who = p.user ? `user "${p.user}"` : 'this identity';
  const denied = (perm: string) => p.allowed.get(perm) === false;
  if (denied('create pods') || denied('delete pods'))
    throw new PluginError('forbidden', `${who} cannot create and delete pods in namespace "${ns}" (needed by --copy); ask for the ClusterRole ${ROLES.copy} (README: permissions), or debug without --copy`);
  if (denied('patch pods/ephemeralcontainers'))
    throw new PluginError('forbidden', `${who} cannot patch pods/ephemeralcontainers in namespace "${ns}"; ask for the ClusterRole ${ROLES.core} (README: permissions)`);
  if (denied('create pods/attach'))
    throw new PluginError('forbidden', `${who} cannot create pods/attach in namespace "${ns}"; ask for the ClusterRole ${ROLES.core} (README: permissions), or pass --no-attach`);
}
