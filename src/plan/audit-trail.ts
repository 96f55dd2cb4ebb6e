// The pod's audit annotation: a JSON list of the debug sessions started on it, newest last. It is
// a convenience next to the record that cannot change (the debug container's env stamp): anyone
// with `patch pods` can edit an annotation, so each entry links to the one before it (a hash chain)
// and `list -o wide` checks the chain and every entry against the container's stamp.
import { createHash } from 'node:crypto';

/** The pod annotation holding the plugin's audit trail. */
export const AUDIT_ANNOTATION = 'kubectl-ephemeral.dev/audit';
/** The plugin's own oldest entries are dropped past this many. */
export const AUDIT_MAX_ENTRIES = 50;
/** The trail's own bound: past it, the plugin's oldest entries go first. */
export const AUDIT_MAX_BYTES = 64 * 1024;
/** The API server's limit on all of a pod's annotations together (keys and values). */
export const ANNOTATIONS_MAX_BYTES = 256 * 1024;
/** Each text field of an entry is cut to this many characters (the env stamp keeps the whole). */
export const AUDIT_FIELD_MAX = 256;

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
  /** Digest of the element before this one in the list (the chain); set when written. */
  prev?: string;
  /** Set on entries for a node session: the node's name. */
  node?: string;
}

/** What the annotation is about to become, or why it is left as it is. */
export type AuditUpdate = { value: string } | { refused: string };

/** The digest an entry's `prev` carries: the first 128 bits of SHA-256 over the element's JSON. */
export function auditDigest(element: unknown): string {
  return createHash('sha256').update(JSON.stringify(element)).digest('hex').slice(0, 32);
}

const isEntry = (e: unknown): e is AuditEntry => typeof e === 'object' && e !== null && !Array.isArray(e) && typeof (e as AuditEntry).container === 'string';

/** The list the annotation holds, or undefined when it is not a JSON list (someone else's value). */
export function parseAuditList(value: string | undefined): unknown[] | undefined {
  if (!value) return [];
  try {
    const list = JSON.parse(value) as unknown;
    return Array.isArray(list) ? list : undefined;
  } catch {
    return undefined;
  }
}

/** The plugin's entries in the annotation (other elements are skipped, not removed). */
export function parseAuditTrail(value: string | undefined): AuditEntry[] {
  return (parseAuditList(value) ?? []).filter(isEntry);
}

/** Cuts each text field to AUDIT_FIELD_MAX characters, so one entry cannot fill the annotation. */
export function boundEntry(entry: AuditEntry): AuditEntry {
  const cut = (s: string) => (s.length > AUDIT_FIELD_MAX ? `${s.slice(0, AUDIT_FIELD_MAX - 1)}…` : s);
  const out: AuditEntry = { container: cut(entry.container), preset: cut(entry.preset), image: cut(entry.image), user: cut(entry.user), time: cut(entry.time) };
  if (entry.reason !== undefined) out.reason = cut(entry.reason);
  if (entry.copy !== undefined) out.copy = cut(entry.copy);
  if (entry.sha256 !== undefined) out.sha256 = cut(entry.sha256);
  if (entry.node !== undefined) out.node = cut(entry.node);
  return out;
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * The annotation with one entry appended and chained to the element before it. The plugin's own
 * oldest entries are dropped past AUDIT_MAX_ENTRIES or AUDIT_MAX_BYTES; what others wrote (any
 * element that is not an entry) is never dropped. Refuses, leaving the value as it is, when the
 * value is not a JSON list, or when the pod's annotations would pass the API server's 256 KiB.
 * `otherAnnotationBytes` is the size of the pod's other annotations (keys and values).
 */
export function appendAuditEntry(value: string | undefined, entry: AuditEntry, otherAnnotationBytes = 0): AuditUpdate {
  const list = parseAuditList(value);
  if (!list) return { refused: `${AUDIT_ANNOTATION} holds a value the plugin did not write (not a JSON list); it is left as it is` };
  const kept = [...list];
  const dropOldestEntry = () => {
    const i = kept.findIndex(isEntry);
    if (i < 0) return false;
    kept.splice(i, 1);
    return true;
  };
  while (kept.filter(isEntry).length >= AUDIT_MAX_ENTRIES && dropOldestEntry());
  const withEntry = () => {
    const next = { ...boundEntry(entry), prev: kept.length ? auditDigest(kept[kept.length - 1]) : '' };
    return JSON.stringify([...kept, next]);
  };
  let out = withEntry();
  while (bytes(out) > AUDIT_MAX_BYTES && dropOldestEntry()) out = withEntry();
  const total = otherAnnotationBytes + bytes(AUDIT_ANNOTATION) + bytes(out);
  if (bytes(out) > AUDIT_MAX_BYTES || total > ANNOTATIONS_MAX_BYTES)
    return { refused: `the pod's annotations would pass ${total > ANNOTATIONS_MAX_BYTES ? 'the API server\'s 256 KiB' : `${AUDIT_MAX_BYTES / 1024} KiB for ${AUDIT_ANNOTATION}`} (what others wrote is never dropped)` };
  return { value: out };
}

/** A new trail of one entry, for a pod the plugin creates itself (nothing to keep; it always fits). */
export function newAuditTrail(entry: AuditEntry): string {
  return JSON.stringify([{ ...boundEntry(entry), prev: '' }]);
}

/** The size of a pod's annotations other than the audit trail, as the API server counts them. */
export function otherAnnotationBytes(annotations: Record<string, string> | undefined): number {
  return Object.entries(annotations ?? {})
    .filter(([k]) => k !== AUDIT_ANNOTATION)
    .reduce((n, [k, v]) => n + bytes(k) + bytes(v), 0);
}

/** A debug container's env stamp, the record an entry is checked against. */
export interface StampedContainer {
  name: string;
  preset: string;
  image: string;
  user?: string;
  reason?: string;
}

/**
 * How a container's session shows in the trail: `recorded` (an entry that agrees with the stamp
 * and the chain), `missing` (no entry: the write was refused or failed, or it was removed),
 * `altered` (the entry disagrees with the stamp, or the chain breaks at it), `unreadable` (the
 * annotation is not a list the plugin can read).
 */
export type AuditCheck = 'recorded' | 'missing' | 'altered' | 'unreadable';

/** The trail checked against the pod's stamped debug containers, plus what is wrong with it. */
export interface AuditVerdict {
  byContainer: Map<string, AuditCheck>;
  problems: string[];
}

/** Verifies the chain and each entry of a pod's trail against the containers' env stamps. */
export function verifyAuditTrail(value: string | undefined, containers: StampedContainer[]): AuditVerdict {
  const byContainer = new Map<string, AuditCheck>();
  const problems: string[] = [];
  const list = parseAuditList(value);
  if (!list) {
    containers.forEach((c) => byContainer.set(c.name, 'unreadable'));
    return { byContainer, problems: [`${AUDIT_ANNOTATION} is not a JSON list: it was replaced or hand-edited`] };
  }
  const broken = new Set<number>();
  list.forEach((e, i) => {
    // The first element's link points at an entry dropped past the cap: it cannot be checked.
    if (i === 0 || !isEntry(e) || e.prev === undefined) return;
    if (e.prev !== auditDigest(list[i - 1])) {
      broken.add(i);
      problems.push(`the chain breaks before entry ${i + 1} (${e.container}): an entry before it was changed, removed or inserted`);
    }
  });
  const stamped = new Map(containers.map((c) => [c.name, c]));
  list.forEach((e, i) => {
    if (!isEntry(e) || e.copy) return;
    const c = stamped.get(e.container);
    if (!c) {
      problems.push(`entry ${i + 1} names container "${e.container}", which the pod does not have`);
      return;
    }
    const expected = boundEntry({ container: c.name, preset: c.preset, image: c.image, user: c.user ?? '', time: e.time, ...(c.reason ? { reason: c.reason } : {}) });
    const agrees = e.preset === expected.preset && e.image === expected.image && (!c.user || e.user === expected.user) && (e.reason ?? '') === (expected.reason ?? '');
    const verdict: AuditCheck = agrees && !broken.has(i) && !broken.has(i + 1) ? 'recorded' : 'altered';
    if (!agrees) problems.push(`entry ${i + 1} (${e.container}) disagrees with the container's env stamp`);
    // Two entries for one container: the worse verdict stands.
    if (byContainer.get(e.container) !== 'altered') byContainer.set(e.container, verdict);
  });
  for (const c of containers) if (!byContainer.has(c.name)) byContainer.set(c.name, 'missing');
  return { byContainer, problems };
}
