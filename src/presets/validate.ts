// Checks of values that reach the cluster, made before anything is sent. An ephemeral container can
// never be removed: one with an image the kubelet cannot parse, or a user the API server refuses,
// would stay in the pod for good (never started, or never created after a round trip). Each check
// is pure and returns what is wrong, or undefined; the caller says where the value came from (a
// flag: exit 64, the preset file: exit 78).
import type { V1EphemeralContainer } from '@kubernetes/client-node';
import { usageError } from '../errors/plugin-error.js';
import { LINUX_CAPABILITIES, parseRunAsText, type RunAs } from './preset.js';

// The reference grammar of github.com/distribution/reference (regexp.go), which containerd and the
// kubelet parse images with.
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${NAME})(?::${TAG})?(?:@${DIGEST})?$`);
/** distribution/reference's NameTotalLengthMax. */
const NAME_MAX = 255;

/** Why `image` is not an image reference the kubelet can pull (distribution/reference, as ParseNormalizedNamed reads it), or undefined. */
export function imageReferenceProblem(image: string): string | undefined {
  if (image === '') return 'it is empty';
  // Whitespace and controls first: the commonest mistake, and the grammar's error would not say it.
  if (/[\s\u0000-\u001f\u007f]/.test(image)) return 'it holds whitespace or a control character';
  // A bound before the regular expression: the grammar is linear, but nothing legitimate is this long.
  if (image.length > 4 * NAME_MAX) return `it is longer than ${4 * NAME_MAX} characters`;
  const match = REFERENCE.exec(image);
  if (!match) return 'it does not follow the reference grammar [registry[:port]/]name[:tag][@digest], with a lowercase name';
  const name = match[1]!;
  if (name.length > NAME_MAX) return `its name is longer than ${NAME_MAX} characters`;
  if (/^[a-f0-9]{64}$/.test(image)) return 'a 64-character hexadecimal string is an image ID, not a reference';
  // ParseNormalizedNamed: the first component is a registry only with a dot, a port or "localhost",
  // or an uppercase letter; the repository after it must be lowercase.
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const isDomain = slash >= 0 && (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase());
  const repository = isDomain ? name.slice(slash + 1) : name;
  if (repository !== repository.toLowerCase()) return 'its repository name must be lowercase';
  return undefined;
}

/** The largest uid or gid Kubernetes accepts (validation.IsValidUserID: 0 to 2^31-1). */
export const MAX_ID = 2 ** 31 - 1;

/** Why a --run-as or runAs value holds an id Kubernetes refuses, or undefined. */
export function runAsProblem(runAs: RunAs): string | undefined {
  if (runAs.kind !== 'uid') return undefined;
  const bad = (id: number) => !Number.isSafeInteger(id) || id < 0 || id > MAX_ID;
  if (bad(runAs.uid)) return `uid ${runAs.uid} is out of range (0 to ${MAX_ID})`;
  if (runAs.gid !== undefined && bad(runAs.gid)) return `gid ${runAs.gid} is out of range (0 to ${MAX_ID})`;
  return undefined;
}

const CAPABILITIES = new Set<string>(LINUX_CAPABILITIES);

/**
 * Why a capability name is wrong where it is used, or undefined: names from capabilities(7)
 * without CAP_; `ALL` only in a drop list (the plugin always drops ALL first, and adding ALL is
 * --privileged by another name).
 */
export function capabilityProblem(name: string, use: 'add' | 'keep' | 'drop'): string | undefined {
  if (name === 'ALL') return use === 'drop' ? undefined : `"ALL" only drops capabilities; the plugin drops ALL first: name the ones to ${use}, or use --privileged`;
  if (CAPABILITIES.has(name)) return undefined;
  const bare = name.replace(/^CAP_/i, '').toUpperCase();
  return `unknown capability "${name}"${CAPABILITIES.has(bare) ? ` (write ${bare})` : ''} (names as in capabilities(7) without CAP_, e.g. NET_RAW)`;
}

/**
 * Why an environment variable name is one the API server refuses, or undefined: printable ASCII
 * without "=" (Kubernetes 1.34's relaxed rule; C identifiers before it, which this accepts too).
 */
export function envNameProblem(name: string): string | undefined {
  if (name === '') return 'an environment variable name is empty';
  if (!/^[\x20-\x7e]+$/.test(name) || name.includes('=')) return `environment variable name "${name}" must be printable ASCII without "="`;
  return undefined;
}

/** Refuses flag values the cluster would refuse or never run (exit 64): --image and --run-as. */
export function checkFlagValues(flags: { image?: string; runAs?: string }): void {
  const image = flags.image === undefined ? undefined : imageReferenceProblem(flags.image);
  // Quoted as JSON: a newline in the value must not break the one error line.
  if (image) throw usageError(`--image ${JSON.stringify(flags.image)} is not an image reference: ${image}; for example --image busybox:1.36`);
  const runAs = flags.runAs === undefined ? undefined : parseRunAsText(flags.runAs);
  const range = runAs && runAsProblem(runAs);
  if (range) throw usageError(`invalid --run-as ${JSON.stringify(flags.runAs)}: ${range}`);
}

/**
 * The last check before the PATCH, over the container as built (flags, preset file and built-ins
 * together): what would make the API server refuse it, or the kubelet never start it. Flags and
 * preset files were checked where they were read, with their own exit codes; this catches the rest.
 */
export function checkContainerBeforeCreate(container: V1EphemeralContainer): void {
  const sc = container.securityContext;
  const problem =
    imageReferenceProblem(container.image ?? '') ??
    (container.env ?? []).map((e) => envNameProblem(e.name)).find(Boolean) ??
    (sc?.capabilities?.add ?? []).map((c) => capabilityProblem(c, 'add')).find(Boolean) ??
    (sc?.capabilities?.drop ?? []).map((c) => capabilityProblem(c, 'drop')).find(Boolean) ??
    (sc?.runAsUser !== undefined ? runAsProblem({ kind: 'uid', uid: sc.runAsUser, ...(sc.runAsGroup !== undefined ? { gid: sc.runAsGroup } : {}) }) : undefined);
  if (problem) throw usageError(`debug container "${container.name}" cannot be created: ${problem}; nothing was sent`);
}
