import type { V1EphemeralContainer, V1Pod } from '@kubernetes/client-node';
import type { CommandContext, Connection } from '../context.js';
import { appendAuditEntry, AUDIT_ANNOTATION, type AuditEntry } from '../plan/audit-trail.js';
import type { Preset } from '../presets/preset.js';
import type { Preflight } from './preflight.js';

/** The audit trail entry for a debug container this run adds. */
export function auditEntry(ctx: CommandContext, container: V1EphemeralContainer, preset: Preset, user: string | undefined, reason: string | undefined): AuditEntry {
  return { container: container.name, preset: preset.name, image: container.image ?? '', user: user ?? '', time: new Date(ctx.now()).toISOString(), ...(reason ? { reason } : {}) };
}

/** Appends the session to the pod's audit annotation; a user without `patch pods` gets a notice instead. */
export async function recordAudit(ctx: CommandContext, conn: Connection, pod: string, entry: AuditEntry, preflight: Preflight | undefined, known?: V1Pod): Promise<void> {
  if (preflight?.allowed.get('patch pods') === false) {
    ctx.printer.info(`note: audit annotation ${AUDIT_ANNOTATION} not written (no "patch pods" permission); the container env still records preset, user and reason`);
    return;
  }
  await conn.api.updateAnnotation(conn.target.namespace, pod, AUDIT_ANNOTATION, (current) => appendAuditEntry(current, entry), known);
}
