/** The pod annotation holding the plugin's audit trail: a small JSON list, newest last. */
export const AUDIT_ANNOTATION = 'kubectl-ephemeral.dev/audit';
/** Older entries are dropped past this many, so the annotation stays small (the API caps all annotations at 256 KiB). */
export const AUDIT_MAX_ENTRIES = 50;

/** One debug session as recorded on the pod. */
export interface AuditEntry {
  container: string;
  preset: string;
  image: string;
  user: string;
  time: string;
  reason?: string;
  /** Set on entries for a pod copy: the copy's name. */
  copy?: string;
  /** Set by collect once its archive is written: the archive's sha256, to check a later copy against. */
  sha256?: string;
  /** Set on entries for a node session: the node's name. */
  node?: string;
}

/** Parses the annotation leniently: a hand-edited or foreign value yields an empty trail. */
export function parseAuditTrail(value: string | undefined): AuditEntry[] {
  if (!value) return [];
  try {
    const list = JSON.parse(value) as unknown;
    return Array.isArray(list) ? (list.filter((e) => e && typeof e === 'object' && typeof e.container === 'string') as AuditEntry[]) : [];
  } catch {
    return [];
  }
}

/** The annotation value with one entry appended (and the oldest dropped past the cap). */
export function appendAuditEntry(value: string | undefined, entry: AuditEntry): string {
  return JSON.stringify([...parseAuditTrail(value), entry].slice(-AUDIT_MAX_ENTRIES));
}
