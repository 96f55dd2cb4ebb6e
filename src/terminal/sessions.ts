// Lists recorded sessions. Recordings can be large, so each file is read only at its two ends:
// the header line for who/what/when, the last event line for how long.
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { HEADER_KEY } from './recording';

/** One recording as `sessions` shows it. */
export interface RecordingSummary {
  file: string;
  startedAt: Date;
  pod: string;
  namespace: string;
  container: string;
  preset?: string;
  context?: string;
  /** The node of a node session. */
  node?: string;
  /** Time of the last event; absent when the tail could not be read as one. */
  durationSeconds?: number;
  sizeBytes: number;
}

// A header is a few hundred bytes; 64 KiB leaves room for long titles without reading a session.
const HEAD_BYTES = 64 * 1024;
const TAIL_BYTES = 64 * 1024;

/** Summaries of the asciicast files in dir written by this plugin, newest first; [] if dir is absent. */
export async function listRecordings(dir: string): Promise<RecordingSummary[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const summaries = await Promise.all(
    names.filter((n) => n.endsWith('.cast')).map((n) => summarize(join(dir, n))),
  );
  return summaries
    .filter((s): s is RecordingSummary => s !== undefined)
    .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || b.file.localeCompare(a.file));
}

// undefined for anything that is not one of our recordings: a listing should not fail because
// someone dropped another .cast file, or a session is being written right now.
async function summarize(file: string): Promise<RecordingSummary | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const { size } = await handle.stat();
    const head = await readAt(handle, 0, Math.min(size, HEAD_BYTES));
    const newline = head.indexOf('\n');
    const header = parseJson(newline < 0 ? head : head.slice(0, newline));
    if (!isObject(header) || header.version !== 2 || typeof header.timestamp !== 'number') return undefined;
    const meta = header[HEADER_KEY];
    if (!isObject(meta) || typeof meta.pod !== 'string' || typeof meta.namespace !== 'string' || typeof meta.container !== 'string') {
      return undefined;
    }
    const summary: RecordingSummary = {
      file,
      startedAt: new Date(header.timestamp * 1000),
      pod: meta.pod,
      namespace: meta.namespace,
      container: meta.container,
      sizeBytes: size,
    };
    if (typeof meta.preset === 'string') summary.preset = meta.preset;
    if (typeof meta.context === 'string') summary.context = meta.context;
    if (typeof meta.node === 'string') summary.node = meta.node;
    const duration = await lastEventTime(handle, size);
    if (duration !== undefined) summary.durationSeconds = duration;
    return summary;
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}

async function lastEventTime(handle: FileHandle, size: number): Promise<number | undefined> {
  const start = Math.max(0, size - TAIL_BYTES);
  const lines = (await readAt(handle, start, size - start)).split('\n');
  // The last line may be cut short by a session still writing: walk back to one that parses.
  for (let i = lines.length - 1; i >= 0; i--) {
    const event = parseJson(lines[i] ?? '');
    if (Array.isArray(event) && typeof event[0] === 'number') return event[0];
  }
  return undefined;
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<string> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
