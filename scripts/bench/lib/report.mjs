// Tables for the terminal and the same tables in Markdown (for the README's Performance section).

/** A table: { title, headers, rows: string[][], notes?: string[] }. */
export function renderText(table) {
  const widths = table.headers.map((h, i) => Math.max(h.length, ...table.rows.map((r) => String(r[i] ?? '').length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c ?? '').padEnd(widths[i]) : String(c ?? '').padStart(widths[i]))).join('  ').trimEnd();
  const out = [`== ${table.title}`, line(table.headers), ...table.rows.map(line)];
  for (const n of table.notes ?? []) out.push(`   ${n}`);
  return out.join('\n');
}

export function renderMarkdown(table) {
  const esc = (c) => String(c ?? '').replace(/\|/g, '\\|');
  const out = [`**${table.title}**`, '', `| ${table.headers.map(esc).join(' | ')} |`, `| ${table.headers.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`];
  for (const r of table.rows) out.push(`| ${r.map(esc).join(' | ')} |`);
  if (table.notes?.length) out.push('', ...table.notes.map((n) => `${n}`));
  return out.join('\n');
}

const num = (v, digits) => (Number.isFinite(v) ? v.toFixed(digits) : '-');

/** "12.3 [11.0-15.2]" from a summary. */
export function range(s, digits = 1, scale = 1) {
  if (!s || !s.n) return '-';
  return `${num(s.median * scale, digits)} [${num(s.min * scale, digits)}-${num(s.max * scale, digits)}]`;
}

export function median(s, digits = 1, scale = 1) {
  return s && s.n ? num(s.median * scale, digits) : '-';
}

export function ratio(s) {
  return s && s.n ? `${num(s.median, 2)}x [${num(s.min, 2)}-${num(s.max, 2)}]` : '-';
}

/** KB summary to "70 MB" (median). */
export function mb(s) {
  return s && s.n ? `${num(s.median / 1024, 0)} MB` : '-';
}
