/** kubectl's alphabet for random suffixes: no vowels (no accidental words), no confusable digits. */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A source of random suffixes; injected so tests get stable names. */
export type SuffixSource = () => string;

/** Five random characters, as kubectl debug uses. */
export const randomSuffix: SuffixSource = () => {
  let s = '';
  for (let i = 0; i < 5; i++) s += ALPHABET[Math.floor(Math.random() * ALPHABET.length)];
  return s;
};

/** `debugger-<preset>-<suffix>`, cut to a DNS-1123 label. */
export function debugContainerName(preset: string, suffix: string): string {
  return `debugger-${preset}`.slice(0, 63 - suffix.length - 1) + `-${suffix}`;
}

/** `<pod>-debug-<suffix>` for a pod copy, cut to the 63 characters a hostname allows. */
export function podCopyName(pod: string, suffix: string): string {
  return `${pod.slice(0, 63 - '-debug-'.length - suffix.length)}-debug-${suffix}`;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Whether a name is a valid DNS-1123 label (container names must be). */
export function isDnsLabel(name: string): boolean {
  return name.length <= 63 && DNS_LABEL.test(name);
}

/**
 * `node-debugger-<node>-<suffix>` (kubectl debug node's pattern) as a DNS label: dots become dashes
 * (the API server warns that a dotted pod name makes a surprising hostname) and it is cut to 63.
 */
export function nodeDebugPodName(node: string, suffix: string): string {
  const head = `node-debugger-${node.replace(/\./g, '-')}`.slice(0, 63 - suffix.length - 1).replace(/-+$/, '');
  return `${head}-${suffix}`;
}

/** A name cut to a valid label value (63 characters, alphanumeric at both ends). */
export function labelValue(name: string): string {
  return name.slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}
