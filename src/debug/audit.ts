import type { V1EphemeralContainer, V1Pod } from '@kubernetes/client-node';
import type { CommandContext, Connection } from '../context.js';
import { appendAuditEntry, AUDIT_ANNOTATION, otherAnnotationBytes, type AuditEntry } from '../plan/audit-trail.js';
import { ROLES } from '../kube/access-rules.js';
import type { Preset } from '../presets/preset.js';
import type { Preflight } from './preflight.js';

/** The audit trail entry for a debug container this run adds. */
export function auditEntry(ctx: CommandContext, container: V1EphemeralContainer, preset: Preset, user: string | undefined, reason: string | undefined): AuditEntry {
  return { container: container.name, preset: preset.name, image: container.image ?? '', user: user ?? '', time: new Date(ctx.now()).toISOString(), ...(reason ? { reason } : {}) };
}

/**
 * Appends the session to the pod's audit annotation. It runs after the container exists, which
 * cannot be undone: a refused or failed write is a warning and the session goes on (the env stamp
 * records the session anyway). A user without `patch pods` gets a notice instead.
 */
export async function recordAudit(ctx: CommandContext, conn: Connection, pod: string, entry: AuditEntry, preflight: Preflight | undefined, known?: V1Pod): Promise<void> {
  if (preflight?.allowed.get('patch pods') === false) {
    ctx.printer.info(`note: audit annotation ${AUDIT_ANNOTATION} not written (no "patch pods": the ClusterRole ${ROLES.audit}); the container env still records preset, user and reason`);
    return;
  }
  let refused: string | undefined;
  try {
    await conn.api.updateAnnotation(
      conn.target.namespace,
      pod,
      AUDIT_ANNOTATION,
      (current, annotations) => {
        const next = appendAuditEntry(current, entry, otherAnnotationBytes(annotations));
        refused = 'refused' in next ? next.refused : undefined;
        return 'value' in next ? next.value : undefined;
      },
      known,
    );
  } catch (err) {
    refused = (err as Error).message;
  }
  if (refused) ctx.printer.info(`warning: audit annotation ${AUDIT_ANNOTATION} not written: ${refused}; the container env still records preset, user and reason`);
}
