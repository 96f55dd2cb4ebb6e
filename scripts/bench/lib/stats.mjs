// Order statistics for a noisy machine: medians and ranges, never means, and ratios taken pair by
// pair (run i of B over run i of A, measured back to back) so that drift in machine load cancels.

/** The q-quantile (0..1) of values, linearly interpolated; NaN for none. */
export function quantile(values, q) {
  const s = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** { n, median, min, max } of the finite values. */
export function summarize(values) {
  const v = values.filter(Number.isFinite);
  if (v.length === 0) return { n: 0, median: NaN, min: NaN, max: NaN };
  return { n: v.length, median: quantile(v, 0.5), min: Math.min(...v), max: Math.max(...v) };
}

/** Summary of other[i] / base[i] over the pairs where both were measured. */
export function pairedRatios(base, other) {
  const ratios = [];
  for (let i = 0; i < Math.min(base.length, other.length); i++) if (base[i] > 0 && Number.isFinite(other[i])) ratios.push(other[i] / base[i]);
  return { ...summarize(ratios), values: ratios };
}

/** Summary of other[i] - base[i] over the pairs. */
export function pairedDifferences(base, other) {
  const diffs = [];
  for (let i = 0; i < Math.min(base.length, other.length); i++) if (Number.isFinite(base[i]) && Number.isFinite(other[i])) diffs.push(other[i] - base[i]);
  return { ...summarize(diffs), values: diffs };
}
