// The pod's audit annotation: a JSON list of the debug sessions started on it, newest last. It is
// a convenience next to the records that cannot change (the debug container's env: its stamp and
// its trail anchor). Anyone with `patch pods` can edit an annotation, so each entry links to the
// element before it (a hash chain), each debug container pins the trail as it was when it was
// created (KUBECTL_EPHEMERAL_TRAIL: the chain's head then), and `list -o wide` checks every entry
// against its container's stamp and every pin against the chain.
//
// The value comes from the cluster: whoever can patch the pod wrote it. It is read with bounds
// (size, nesting) before anything walks it, and a value that breaks them is `corrupt` for that
// pod alone.
import { createHash } from 'node:crypto';

/** The pod annotation holding the plugin's audit trail. */
export const AUDIT_ANNOTATION = 'kubectl-ephemeral.dev/audit';
/** The debug container env that pins the trail: the chain's head when the container was created. */
export const TRAIL_ANCHOR_ENV = 'KUBECTL_EPHEMERAL_TRAIL';
/** The plugin's own oldest entries are dropped past this many. */
export const AUDIT_MAX_ENTRIES = 50;
/** The trail's own bound: past it, the plugin's oldest entries go first. */
export const AUDIT_MAX_BYTES = 64 * 1024;
/** The API server's limit on all of a pod's annotations together (keys and values). */
export const ANNOTATIONS_MAX_BYTES = 256 * 1024;
/** Each text field of an entry is cut to this many characters (the env stamp keeps the whole). */
export const AUDIT_FIELD_MAX = 256;
/** The deepest nesting a trail may hold: an entry is 2 deep (the list, the entry). */
export const AUDIT_MAX_DEPTH = 8;

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

/** What the annotation is about to become (with what was dropped to get there), or why it is left as it is. */
export type AuditUpdate = { value: string; warnings: string[] } | { refused: string };

/** The digest an entry's `prev` carries: the first 128 bits of SHA-256 over the element's JSON. */
export function auditDigest(element: unknown): string {
  return createHash('sha256').update(JSON.stringify(element)).digest('hex').slice(0, 32);
}

const REQUIRED_FIELDS = ['container', 'preset', 'image', 'user', 'time'] as const;
const ENTRY_FIELDS = new Set<string>([...REQUIRED_FIELDS, 'reason', 'copy', 'sha256', 'prev', 'node']);

/** Whether an element is one of the plugin's entries: only its fields, each a string no longer than the plugin writes. */
export function isAuditEntry(e: unknown): e is AuditEntry {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return false;
  const fields = Object.entries(e as Record<string, unknown>);
  return (
    REQUIRED_FIELDS.every((k) => Object.hasOwn(e, k)) &&
    fields.every(([k, v]) => ENTRY_FIELDS.has(k) && typeof v === 'string' && v.length <= AUDIT_FIELD_MAX)
  );
}

/** The annotation read as a list, or why it cannot be (what `corrupt` means). */
export type TrailRead = { list: unknown[] } | { corrupt: string };

/**
 * Whether a JSON text nests deeper than `max` (strings skipped): checked before JSON.parse, so no
 * recursive walk (JSON.stringify included) ever meets a value deep enough to overflow the stack.
 */
function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Reads the annotation with bounds: at most the API server's 256 KiB, AUDIT_MAX_DEPTH deep, a JSON list. */
export function readAuditList(value: string | undefined): TrailRead {
  if (!value) return { list: [] };
  if (value.length > ANNOTATIONS_MAX_BYTES) return { corrupt: `${AUDIT_ANNOTATION} is larger than the API server's 256 KiB` };
  if (nestsDeeperThan(value, AUDIT_MAX_DEPTH)) return { corrupt: `${AUDIT_ANNOTATION} nests deeper than ${AUDIT_MAX_DEPTH} levels: it was replaced or hand-edited` };
  let list: unknown;
  try {
    list = JSON.parse(value);
  } catch {
    return { corrupt: `${AUDIT_ANNOTATION} is not JSON: it was replaced or hand-edited` };
  }
  return Array.isArray(list) ? { list } : { corrupt: `${AUDIT_ANNOTATION} is not a JSON list: it was replaced or hand-edited` };
}

/** The list the annotation holds, or undefined when it cannot be read as one (see readAuditList). */
export function parseAuditList(value: string | undefined): unknown[] | undefined {
  const read = readAuditList(value);
  return 'list' in read ? read.list : undefined;
}

/** The plugin's entries in the annotation (other elements skipped). */
export function parseAuditTrail(value: string | undefined): AuditEntry[] {
  return (parseAuditList(value) ?? []).filter(isAuditEntry);
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
 * The head of the chain: what the next entry's `prev` will be (the digest of the last entry, ''
 * for no entry, the digest of the whole value when it is corrupt and will be replaced). A debug
 * container carries it in TRAIL_ANCHOR_ENV, where nobody can change it.
 */
export function trailHead(value: string | undefined): string {
  const read = readAuditList(value);
  if ('corrupt' in read) return auditDigest(value);
  const entries = read.list.filter(isAuditEntry);
  return entries.length ? auditDigest(entries[entries.length - 1]) : '';
}

/**
 * The annotation with one entry appended and chained to the entry before it. Elements that are
 * not the plugin's entries are dropped (they would fill the bound and block every later write),
 * and a value that cannot be read as a trail is replaced: each with a warning. The plugin's own
 * oldest entries are dropped past AUDIT_MAX_ENTRIES or AUDIT_MAX_BYTES. Refuses, leaving the value
 * as it is, when the pod's annotations would pass the API server's 256 KiB.
 * `otherAnnotationBytes` is the size of the pod's other annotations (keys and values).
 */
export function appendAuditEntry(value: string | undefined, entry: AuditEntry, otherAnnotationBytes = 0): AuditUpdate {
  const read = readAuditList(value);
  const warnings: string[] = [];
  let kept: AuditEntry[];
  // A replaced value is chained to: the first new entry's prev is its digest.
  let head = '';
  if ('corrupt' in read) {
    warnings.push(`${read.corrupt}; replaced by a new trail (its first entry's prev is the old value's digest ${auditDigest(value)})`);
    kept = [];
    head = auditDigest(value);
  } else {
    kept = read.list.filter(isAuditEntry);
    const dropped = read.list.length - kept.length;
    if (dropped) warnings.push(`dropped ${dropped} element(s) of ${AUDIT_ANNOTATION} that are not audit entries`);
  }
  while (kept.length >= AUDIT_MAX_ENTRIES) kept.shift();
  const withEntry = () => {
    const last = kept[kept.length - 1];
    const next = { ...boundEntry(entry), prev: last ? auditDigest(last) : head };
    return JSON.stringify([...kept, next]);
  };
  let out = withEntry();
  while (bytes(out) > AUDIT_MAX_BYTES && kept.length) {
    kept.shift();
    out = withEntry();
  }
  const total = otherAnnotationBytes + bytes(AUDIT_ANNOTATION) + bytes(out);
  if (bytes(out) > AUDIT_MAX_BYTES || total > ANNOTATIONS_MAX_BYTES)
    return { refused: `the pod's annotations would pass ${total > ANNOTATIONS_MAX_BYTES ? "the API server's 256 KiB" : `${AUDIT_MAX_BYTES / 1024} KiB for ${AUDIT_ANNOTATION}`} (what others wrote is never dropped)` };
  return { value: out, warnings };
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
  /** TRAIL_ANCHOR_ENV: the chain's head when the container was created (absent before the plugin pinned trails). */
  anchor?: string;
}

/** How a container's session shows in the trail; AUDIT_STATE_MEANINGS says what each proves. */
export type AuditCheck = 'recorded' | 'unanchored' | 'missing' | 'altered' | 'corrupt';

/** What each state proves and what it cannot: `list -o wide` prints it, the docs say the same. */
export const AUDIT_STATE_MEANINGS: Readonly<Record<AuditCheck, string>> = {
  recorded:
    "the entry agrees with the container's env stamp, and a later debug container's trail anchor pins it: it can no longer change unseen",
  unanchored:
    "the entry agrees with the container's env stamp, but no later debug container pins it yet: anyone with \"patch pods\" can change its time or sha256, or remove collect's sha256 entry, unseen (removing its only entry shows as missing)",
  missing: 'no entry: the write was refused, failed or not allowed (no "patch pods"), it was dropped past the 50-entry cap, or someone with "patch pods" removed it',
  altered: "the entry disagrees with the container's env stamp, the chain breaks at it, or a later container's anchor shows it changed: someone with \"patch pods\" edited the trail",
  corrupt: 'the annotation cannot be read as a trail (not a JSON list, too large or too deeply nested): someone with "patch pods" replaced it; the next session starts a new trail',
};

/** What CREATED-BY proves: the same for every row, said next to the audit states. */
export const CREATED_BY_MEANING =
  'CREATED-BY is the user the creating plugin stamped (KUBECTL_EPHEMERAL_USER, from the API server\'s SelfSubjectReview): anyone allowed to add ephemeral containers can stamp any name; only the API server\'s audit log proves who';

/** The trail checked against the pod's stamped debug containers, plus what is wrong with it. */
export interface AuditVerdict {
  byContainer: Map<string, AuditCheck>;
  problems: string[];
}

// Worse verdicts win when one container has two entries (collect's start and its sha256).
const SEVERITY: Record<AuditCheck, number> = { recorded: 0, unanchored: 1, missing: 2, altered: 3, corrupt: 4 };

/**
 * Where a container's anchor is in the list: the index of the element it names, -1 when it is the
 * first element's prev (the trail before it was empty, replaced or dropped past the cap), or
 * undefined when nothing in the trail matches (what it pinned was changed or removed).
 */
function anchorIndex(anchor: string, list: unknown[], digests: string[]): number | undefined {
  const first = list[0];
  if (anchor === '' && list.length === 0) return -1;
  const at = digests.lastIndexOf(anchor);
  if (at >= 0) return at;
  return isAuditEntry(first) && first.prev === anchor ? -1 : undefined;
}

/** Verifies the chain, each anchor and each entry of a pod's trail against the containers' env stamps. */
export function verifyAuditTrail(value: string | undefined, containers: StampedContainer[]): AuditVerdict {
  const byContainer = new Map<string, AuditCheck>();
  const problems: string[] = [];
  const read = readAuditList(value);
  if ('corrupt' in read) {
    containers.forEach((c) => byContainer.set(c.name, 'corrupt'));
    return { byContainer, problems: [read.corrupt] };
  }
  const { list } = read;
  const digests = list.map(auditDigest);
  const altered = new Set<number>();
  list.forEach((e, i) => {
    if (!isAuditEntry(e)) {
      // The link after it breaks as well, unless it was appended last.
      problems.push(`element ${i + 1} is not an audit entry: someone else wrote it`);
      return;
    }
    // The first element's link points at an entry dropped past the cap: it cannot be checked.
    if (i === 0 || e.prev === undefined) return;
    if (e.prev !== digests[i - 1]) {
      altered.add(i).add(i - 1);
      problems.push(`the chain breaks before entry ${i + 1} (${e.container}): an entry before it was changed, removed or inserted`);
    }
  });
  const entryIndex = (name: string) => list.findIndex((e) => isAuditEntry(e) && !e.copy && e.container === name);
  // An anchor found at k proves elements 0..k are as they were when its container was created (the
  // links up to k are checked above). One not found says an element that existed then was changed
  // or removed since: an entry before its container's own entry, past what the anchors of the
  // sessions before it still prove. (The order of spec.ephemeralContainers is no guide: a strategic
  // merge patch puts the new container first.) A container whose entry is gone too taints every
  // entry no anchor proves, unless the trail is at its cap, where old anchors are lost by design.
  const found = containers.map((c) => (c.anchor === undefined ? undefined : anchorIndex(c.anchor, list, digests)));
  const proven = (before: number) =>
    Math.max(-1, ...containers.flatMap((c, j) => {
      const at = entryIndex(c.name);
      return found[j] !== undefined && at >= 0 && at < before ? [found[j]!] : [];
    }));
  const pinned = Math.max(-1, ...found.filter((k): k is number => k !== undefined));
  const atCap = list.filter(isAuditEntry).length >= AUDIT_MAX_ENTRIES;
  containers.forEach((c, j) => {
    if (c.anchor === undefined || found[j] !== undefined) return;
    const own = entryIndex(c.name);
    if (own < 0 && atCap) return;
    const [from, to] = own >= 0 ? [proven(own) + 1, own] : [pinned + 1, list.length];
    const tainted = list.flatMap((e, i) => (i >= from && i < to && isAuditEntry(e) && !e.copy ? [i] : []));
    tainted.forEach((i) => altered.add(i));
    if (tainted.length || own >= 0) problems.push(`the trail as it was when "${c.name}" was created is gone: an element before its entry was changed, removed or inserted since`);
  });
  const stamped = new Map(containers.map((c) => [c.name, c]));
  list.forEach((e, i) => {
    if (!isAuditEntry(e) || e.copy) return;
    const c = stamped.get(e.container);
    if (!c) {
      problems.push(`entry ${i + 1} names container "${e.container}", which the pod does not have`);
      return;
    }
    const expected = boundEntry({ container: c.name, preset: c.preset, image: c.image, user: c.user ?? '', time: e.time, ...(c.reason ? { reason: c.reason } : {}) });
    const agrees = e.preset === expected.preset && e.image === expected.image && (!c.user || e.user === expected.user) && (e.reason ?? '') === (expected.reason ?? '');
    if (!agrees) problems.push(`entry ${i + 1} (${e.container}) disagrees with the container's env stamp`);
    const verdict: AuditCheck = !agrees || altered.has(i) ? 'altered' : i <= pinned ? 'recorded' : 'unanchored';
    const before = byContainer.get(e.container);
    if (before === undefined || SEVERITY[verdict] > SEVERITY[before]) byContainer.set(e.container, verdict);
  });
  for (const c of containers) if (!byContainer.has(c.name)) byContainer.set(c.name, 'missing');
  return { byContainer, problems };
}
