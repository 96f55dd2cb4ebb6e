// Turns the collect container's framed stream (src/plan/collect-script.ts) into a tar archive as it
// arrives, hashing each member's content on the way, and ends the archive with SHA256SUMS and a
// manifest. Hashing here rather than in the container: the manifest describes exactly the bytes
// the archive holds (a file hashed and then read twice in the container could differ), the
// container stays a plain reader, and the archive's own sha256 is the hash of what was written.
// Pure: bytes in, bytes out through `emit`; no I/O.
import { createHash } from 'node:crypto';
import { TAR_BLOCK as BLOCK, tarHeader, type TarHeader } from '../output/tar.js';

/** The directory every member sits under. */
export const ARCHIVE_DIR = 'evidence';
/** The manifest's format name, bumped when its shape changes. */
export const MANIFEST_FORMAT = 'kubectl-ephemeral-collect/v1';

/** Who collected what from where: evidence/header.json and the manifest's "header". */
export interface CollectHeader {
  cluster: string;
  context: string;
  namespace: string;
  pod: string;
  podUid: string;
  container: string;
  image: string;
  imageDigest: string;
  node: string;
  time: string;
  user: string;
  reason: string;
  pluginVersion: string;
  collector: { container: string; image: string };
  paths: string[];
  environment: boolean;
  maxBytes: number;
}

/** One archived member as the manifest lists it. */
export interface ManifestEntry {
  /** Path inside the archive. */
  path: string;
  /** The path in the target (files, directories, symlinks); absent for generated texts. */
  source?: string;
  type: 'file' | 'directory' | 'symlink' | 'generated';
  size: number;
  /** Permission bits in octal, e.g. "0644". */
  mode: string;
  uid: number;
  gid: number;
  mtime: string;
  sha256?: string;
  linkTarget?: string;
  /** Size or mtime differed after the read: the content may be torn. */
  changedWhileRead?: true;
}

/** Something not archived, and why (see README: archive format). */
export interface SkippedEntry {
  path: string;
  reason: string;
}

/** What the archive ended up holding. */
export interface CollectSummary {
  sha256: string;
  bytes: number;
  contentBytes: number;
  entries: ManifestEntry[];
  skipped: SkippedEntry[];
  complete: boolean;
  /** Why the archive is incomplete (set with complete=false). */
  problem?: string;
  /** Whether the collector sent anything from the target (false: the archive holds only its own header). */
  evidence: boolean;
  /** The collector's own facts (target-pid, target-uid, collector-uid ...). */
  facts: Record<string, string>;
  /** The fatal record the container sent, if any (e.g. "unreadable-root"). */
  fatal?: string;
}

const MAX_LINE = 64 * 1024;
const OUTPUT_NAME = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/;

type Pending =
  | { kind: 'data'; remaining: number; entry?: ManifestEntry; hash?: ReturnType<typeof createHash>; size: number }
  | { kind: 'link'; mode: number; uid: number; gid: number; mtime: number; source: string };

/** A streaming converter: push() the container's bytes, finish() once the stream ended. */
export class CollectArchive {
  private readonly whole = createHash('sha256');
  private written = 0;
  private contentBytes = 0;
  private line: Buffer[] = [];
  private lineLength = 0;
  private pending: Pending | undefined;
  private started = false;
  private ended = false;
  private fatal: string | undefined;
  private broken: string | undefined;
  private readonly entries: ManifestEntry[] = [];
  private readonly skipped: SkippedEntry[] = [];
  private readonly facts: Record<string, string> = {};

  constructor(
    private readonly header: CollectHeader,
    private readonly emit: (bytes: Buffer) => void,
  ) {
    this.addGenerated('header.json', Buffer.from(`${JSON.stringify(header, null, 2)}\n`));
  }

  /** Feeds bytes of the container's stream; never throws (a malformed stream ends the archive's content). */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.broken && !this.ended) {
      const p = this.pending;
      if (p?.kind === 'data') {
        const take = Math.min(p.remaining, chunk.length - at);
        const piece = chunk.subarray(at, at + take);
        if (p.entry) {
          p.hash!.update(piece);
          this.out(piece);
        }
        p.remaining -= take;
        at += take;
        if (p.remaining === 0) this.endData(p);
        continue;
      }
      const nl = chunk.indexOf(0x0a, at);
      const end = nl < 0 ? chunk.length : nl;
      this.line.push(chunk.subarray(at, end));
      this.lineLength += end - at;
      at = nl < 0 ? chunk.length : nl + 1;
      if (this.lineLength > MAX_LINE) this.broken = 'a record line longer than 64 KiB';
      else if (nl >= 0) {
        const text = Buffer.concat(this.line).toString('utf8');
        this.line = [];
        this.lineLength = 0;
        this.record(text);
      }
    }
  }

  /**
   * Ends the archive: SHA256SUMS, manifest.json and the end-of-archive blocks. `problem` is why the
   * stream stopped early (the attach failed, Ctrl-C), when the caller knows.
   */
  finish(problem?: string): CollectSummary {
    const cut = this.pending?.kind === 'data' && this.pending.entry;
    if (cut) {
      // A member cut short keeps its declared size (zeros) so the archive stays readable; marked.
      const p = this.pending as Extract<Pending, { kind: 'data' }>;
      const zeros = Buffer.alloc(Math.min(p.remaining, 1 << 20));
      while (p.remaining > 0) {
        const n = Math.min(p.remaining, zeros.length);
        p.hash!.update(zeros.subarray(0, n));
        this.out(zeros.subarray(0, n));
        p.remaining -= n;
      }
      this.endData(p);
      p.entry!.changedWhileRead = true;
      this.skipped.push({ path: p.entry!.path, reason: 'stream-ended' });
    }
    const why =
      this.broken ??
      (this.fatal ? `the collector stopped: ${this.fatal}` : undefined) ??
      (this.ended ? undefined : (problem ?? (this.started ? 'the stream ended before the collector finished' : 'the collector sent nothing')));
    const complete = why === undefined;
    // Anything beyond header.json (an entry or a skip) came from the target.
    const evidence = this.entries.length > 1 || this.skipped.length > 0;
    const sums = this.entries
      .filter((e) => e.sha256)
      .map((e) => (/[\\\n]/.test(e.path) ? `\\${e.sha256}  ${e.path.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}` : `${e.sha256}  ${e.path}`))
      .join('\n');
    this.addGenerated('SHA256SUMS', Buffer.from(`${sums}\n`));
    const manifest = {
      format: MANIFEST_FORMAT,
      header: this.header,
      complete,
      ...(why ? { problem: why } : {}),
      collector: this.facts,
      contentBytes: this.contentBytes,
      entries: this.entries,
      skipped: this.skipped,
    };
    // The manifest lists every member before it, itself excepted.
    this.writeMember({ path: `${ARCHIVE_DIR}/manifest.json`, type: '0', mode: 0o444, uid: 0, gid: 0, mtime: this.headerTime(), size: 0 }, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
    this.out(Buffer.alloc(BLOCK * 2));
    return {
      sha256: this.whole.digest('hex'),
      bytes: this.written,
      contentBytes: this.contentBytes,
      entries: this.entries,
      skipped: this.skipped,
      complete,
      ...(why ? { problem: why } : {}),
      evidence,
      facts: this.facts,
      ...(this.fatal ? { fatal: this.fatal } : {}),
    };
  }

  private record(line: string): void {
    const p = this.pending;
    if (p?.kind === 'link') {
      this.pending = undefined;
      const target = unescapeField(line);
      const path = this.rootfsPath(p.source);
      if (!path) return;
      this.writeMember({ path, type: '2', mode: p.mode, uid: p.uid, gid: p.gid, mtime: p.mtime, size: 0, link: target }, undefined);
      this.entries.push({ path, source: p.source, type: 'symlink', size: 0, mode: octal(p.mode), uid: p.uid, gid: p.gid, mtime: iso(p.mtime), linkTarget: target });
      return;
    }
    if (!this.started) {
      if (line === 'KEC1') this.started = true;
      // Anything before the start (a shell's warning) is not part of the stream.
      return;
    }
    const kind = line[0];
    const rest = line.slice(2);
    const fields = (n: number) => {
      const parts: string[] = [];
      let s = rest;
      for (let i = 0; i < n - 1; i++) {
        const sp = s.indexOf(' ');
        if (sp < 0) return undefined;
        parts.push(s.slice(0, sp));
        s = s.slice(sp + 1);
      }
      parts.push(s);
      return parts;
    };
    switch (kind) {
      case 'I': {
        const f = fields(2);
        if (f) this.facts[f[0]!] = f[1]!;
        return;
      }
      case 'O': {
        const f = fields(2);
        const size = Number(f?.[0]);
        if (!f || !Number.isSafeInteger(size) || size < 0 || !OUTPUT_NAME.test(f[1]!) || f[1]!.includes('..')) return this.fail(line);
        return this.startData(size, { path: `${ARCHIVE_DIR}/collected/${f[1]}`, type: 'generated', size, mode: '0444', uid: 0, gid: 0, mtime: this.header.time }, 0o444, 0, 0, this.headerTime());
      }
      case 'F': {
        const f = fields(6);
        const [size, mode, uid, gid, mtime] = (f ?? []).slice(0, 5).map((x, i) => (i === 1 ? parseInt(x, 16) : Number(x)));
        if (!f || ![size, mode, uid, gid, mtime].every((n) => Number.isSafeInteger(n) && n! >= 0)) return this.fail(line);
        const source = unescapeField(f[5]!);
        const path = this.rootfsPath(source);
        if (!path) return this.startData(size!, undefined, 0, 0, 0, 0);
        return this.startData(size!, { path, source, type: 'file', size: size!, mode: octal(mode!), uid: uid!, gid: gid!, mtime: iso(mtime!) }, mode!, uid!, gid!, mtime!);
      }
      case 'D':
      case 'L': {
        const f = fields(5);
        const [mode, uid, gid, mtime] = (f ?? []).slice(0, 4).map((x, i) => (i === 0 ? parseInt(x, 16) : Number(x)));
        if (!f || ![mode, uid, gid, mtime].every((n) => Number.isSafeInteger(n) && n! >= 0)) return this.fail(line);
        const source = unescapeField(f[4]!);
        if (kind === 'L') {
          this.pending = { kind: 'link', mode: mode!, uid: uid!, gid: gid!, mtime: mtime!, source };
          return;
        }
        const path = this.rootfsPath(source);
        if (!path) return;
        const dir = path.endsWith('/') ? path : `${path}/`;
        this.writeMember({ path: dir, type: '5', mode: mode!, uid: uid!, gid: gid!, mtime: mtime!, size: 0 }, undefined);
        this.entries.push({ path: dir, source, type: 'directory', size: 0, mode: octal(mode!), uid: uid!, gid: gid!, mtime: iso(mtime!) });
        return;
      }
      case 'C': {
        const source = unescapeField(rest);
        const entry = [...this.entries].reverse().find((e) => e.source === source && e.type === 'file');
        if (entry) entry.changedWhileRead = true;
        return;
      }
      case 'S': {
        const f = fields(2);
        if (!f) return this.fail(line);
        const name = unescapeField(f[1]!);
        this.skipped.push({ path: name.startsWith('/') ? name : `${ARCHIVE_DIR}/collected/${name}`, reason: f[0]! });
        return;
      }
      case 'X':
        this.fatal = rest;
        this.ended = true;
        return;
      case 'E':
        if (line === 'E') this.ended = true;
        else this.fail(line);
        return;
      default:
        this.fail(line);
    }
  }

  private fail(line: string): void {
    this.broken = `malformed record from the collector: ${JSON.stringify(line.slice(0, 80))}`;
  }

  /** evidence/rootfs/<path>, or undefined (skip recorded) for a path that is not a clean absolute one. */
  private rootfsPath(source: string): string | undefined {
    const parts = source.split('/').slice(1);
    if (!source.startsWith('/') || parts.some((p) => p === '.' || p === '..' || p.includes('\0'))) {
      this.skipped.push({ path: source, reason: 'unsafe-name' });
      return undefined;
    }
    return `${ARCHIVE_DIR}/rootfs${source === '/' ? '/' : source}`;
  }

  private startData(size: number, entry: ManifestEntry | undefined, mode: number, uid: number, gid: number, mtime: number): void {
    let kept = entry;
    if (kept && this.contentBytes + size > this.header.maxBytes) {
      // The container checks the cap first; this guard holds it even if a file grew under it.
      this.skipped.push({ path: kept.source ?? kept.path, reason: 'max-size' });
      kept = undefined;
    }
    if (kept) {
      this.contentBytes += size;
      this.writeHeader({ path: kept.path, type: '0', mode, uid, gid, mtime, size });
      this.entries.push(kept);
    }
    const p: Pending = { kind: 'data', remaining: size, size, ...(kept ? { entry: kept, hash: createHash('sha256') } : {}) };
    this.pending = p;
    if (size === 0) this.endData(p);
  }

  private endData(p: Extract<Pending, { kind: 'data' }>): void {
    this.pending = undefined;
    if (!p.entry) return;
    p.entry.sha256 = p.hash!.digest('hex');
    this.pad(p.size);
  }

  private addGenerated(name: string, content: Buffer): void {
    const path = `${ARCHIVE_DIR}/${name}`;
    this.writeMember({ path, type: '0', mode: 0o444, uid: 0, gid: 0, mtime: this.headerTime(), size: 0 }, content);
    this.entries.push({ path, type: 'generated', size: content.length, mode: '0444', uid: 0, gid: 0, mtime: this.header.time, sha256: createHash('sha256').update(content).digest('hex') });
  }

  private headerTime(): number {
    return Math.floor(Date.parse(this.header.time) / 1000) || 0;
  }

  private writeMember(h: TarHeader, content: Buffer | undefined): void {
    this.writeHeader({ ...h, size: content?.length ?? 0 });
    if (content) {
      this.out(content);
      this.pad(content.length);
    }
  }

  private writeHeader(h: TarHeader): void {
    for (const block of tarHeader(h, `${ARCHIVE_DIR}/PaxHeader`)) this.out(block);
  }

  private pad(size: number): void {
    const rem = size % BLOCK;
    if (rem) this.out(Buffer.alloc(BLOCK - rem));
  }

  private out(bytes: Buffer): void {
    this.whole.update(bytes);
    this.written += bytes.length;
    this.emit(bytes);
  }
}

/** Undoes the collector's escaping of a path field ("\\" and "\n"). */
export function unescapeField(s: string): string {
  return s.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'));
}

const octal = (mode: number) => `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
