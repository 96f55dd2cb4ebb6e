import { usageError } from '../errors/plugin-error.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a Go-style duration with units ("30s", "2m", "1h30m", "500ms") into ms, refusing zero:
 * a wait of nothing would create the container and give up at once. `bareSeconds` accepts a plain
 * number as seconds, as kubectl's --request-timeout does (where 0 means no timeout).
 */
export function parseDuration(text: string, flag = '--timeout', opts: { bareSeconds?: boolean } = {}): number {
  const trimmed = text.trim();
  if (opts.bareSeconds && /^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = re.exec(trimmed))) {
    total += Number(match[1]) * UNITS[match[2]!]!;
    consumed = re.lastIndex;
  }
  if (consumed !== trimmed.length || trimmed === '')
    throw usageError(`invalid duration "${text}" for ${flag}; use a number with a unit, such as 30s, 2m or 1h`);
  if (total <= 0 && !opts.bareSeconds) throw usageError(`${flag} must be longer than zero (got "${text}"); use a number with a unit, such as 30s, 2m or 1h`);
  return total;
}

/** Formats an age the way kubectl get does (45s, 3m, 5h, 2d). */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}
