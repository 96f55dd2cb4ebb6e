/** Which user the debug container runs as. */
export type RunAs =
  | { kind: 'root' }
  /** The target container's user: its (or the pod's) runAsUser/runAsGroup, else what the node reports, else an unprivileged uid. */
  | { kind: 'target' }
  | { kind: 'uid'; uid: number; gid?: number };

/** Pod Security Standards levels, laxest first. */
export const POD_SECURITY_LEVELS = ['privileged', 'baseline', 'restricted'] as const;

/** A Pod Security Standards level, as namespaces label them. */
export type PodSecurityLevel = (typeof POD_SECURITY_LEVELS)[number];

/** kubectl debug's --profile names (1.32), each mapped onto a preset's forms by src/debug/request.ts. */
export const DEBUG_PROFILES = ['general', 'baseline', 'restricted', 'netadmin', 'sysadmin', 'legacy'] as const;

/** A kubectl debug profile name. */
export type DebugProfile = (typeof DEBUG_PROFILES)[number];

/** The values of a container's imagePullPolicy (--image-pull-policy). */
export const IMAGE_PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;

/** How a preset does its job at one Pod Security level: who it runs as and which capabilities it holds. */
export interface PresetForm {
  /** Who the container runs as. */
  runAs: RunAs;
  /** Capabilities added (baseline allows adding only its own list, restricted only NET_BIND_SERVICE). */
  capabilities: string[];
  /**
   * Capabilities kept from the container runtime's default set; every other one is dropped. Baseline
   * forbids adding NET_RAW but not keeping it. "target": when running as root, exactly the target
   * container's own capabilities (reading a root process's /proc/PID/root needs a superset of them).
   */
  keepCapabilities: string[] | 'target';
  /** Working directory (a non-root user cannot start in an image's /root). */
  workingDir?: string;
}

/**
 * One thing a session of a preset can do, and at which Pod Security levels its form can: what help,
 * `presets -o wide`, the README and the chosen form's line say. test/e2e/sessions/preset-abilities.test.ts
 * runs a check per id at every level and fails on an id it cannot check.
 */
export interface Ability {
  /** A stable key: the e2e test looks up the command that proves the claim by it. */
  id: string;
  /** What can be done, in a few words with the tools ("capture packets (tcpdump -Z root)"). */
  what: string;
  /** The levels whose form can do it; absent: every level; empty: none (a limit of the preset itself). */
  levels?: PodSecurityLevel[];
  /** Why the other forms cannot ("needs NET_RAW as root"). */
  unless?: string;
}

/** A command line shown in the preset's --help, with what it does. */
export interface PresetExample {
  /** The whole command line, starting with `kubectl ephemeral`. */
  command: string;
  /** What it does, without the leading `#`. */
  comment: string;
}

/** A preset is data: everything needed to build one debug container for one job. */
export interface Preset extends PresetForm {
  /** The name typed on the command line. */
  name: string;
  /** Other accepted names. */
  aliases: string[];
  /** One line for `presets` and --help. */
  summary: string;
  /** Image, pinned by tag (or digest). */
  image: string;
  /** Command run in the container; the image's own when absent. */
  command?: string[];
  /** Share the target container's process namespace (targetContainerName). */
  targetProcesses: boolean;
  /**
   * How the job is done where Pod Security forbids the preset's own form (its top-level fields):
   * the fields that change at baseline, then at restricted (a stricter level starts from the laxer one).
   */
  levels: Partial<Record<Exclude<PodSecurityLevel, 'privileged'>, Partial<PresetForm>>>;
  /** Mount the debug container's own root filesystem read-only (it does not protect the target). */
  readOnlyRootFilesystem: boolean;
  /** Mirror the target container's volumeMounts (without subPath) and env. */
  mirrorTarget: boolean;
  /** Record interactive sessions by default. */
  record: boolean;
  /** Supports --copy (a copy of the pod with the crashing command replaced). */
  copy: boolean;
  /** Print the crash summary (last state, previous logs, events) first. */
  crashSummary: boolean;
  /** What to try first, printed when the session starts. */
  banner: string[];
  /** What a session can and cannot do, by level (optional in a preset file). */
  abilities: Ability[];
  /** Command lines for --help besides those every preset gets (optional in a preset file). */
  examples: PresetExample[];
  /** Refuse to create a container without --reason. */
  requireReason: boolean;
  /** Image prefixes allowed for this preset (registry or repository); empty allows any. */
  allowedImages: string[];
  /** Where the preset was defined: "built-in" or a file path. */
  source: string;
  /** Debugs pods; false makes a node-only preset. */
  pods: boolean;
  /** How the preset debugs a node (node/NAME); absent: it does not. */
  node?: NodeProfile;
}

/** A node session: a pod on the node sharing the host namespaces named here, the node's root at /host. */
export interface NodeProfile {
  /** Share the node's network namespace (hostNetwork). */
  hostNetwork: boolean;
  /** Share the node's process namespace (hostPID). */
  hostPID: boolean;
  /** Mount the node's root filesystem at /host read-only. */
  hostReadOnly: boolean;
  /** What to try first on a node (the pod banner talks about a pod). */
  banner: string[];
}

/** The unprivileged uid used when a least-privilege preset cannot learn the target's user. */
export const NOBODY_UID = 65534;

/** The form a preset takes at a level: its own fields, then each stricter level's changes in turn. */
export function presetForm(preset: Preset, level: PodSecurityLevel): PresetForm {
  let form: PresetForm = {
    runAs: preset.runAs,
    capabilities: preset.capabilities,
    keepCapabilities: preset.keepCapabilities,
    ...(preset.workingDir ? { workingDir: preset.workingDir } : {}),
  };
  for (const l of POD_SECURITY_LEVELS.slice(1, POD_SECURITY_LEVELS.indexOf(level) + 1)) form = { ...form, ...preset.levels[l as Exclude<PodSecurityLevel, 'privileged'>] };
  return form;
}

/** Whether the preset's form at a level can do what the ability says. */
export function canAt(ability: Ability, level: PodSecurityLevel): boolean {
  return ability.levels === undefined || ability.levels.includes(level);
}

/** Every Linux capability name, as Kubernetes spells them (capabilities(7) without CAP_). */
export const LINUX_CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
] as const;

/** The capabilities containerd and Docker give a container by default (CRI-O: fewer, no NET_RAW). */
export const RUNTIME_DEFAULT_CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP',
  'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
] as const;

/** Parses a user as the preset file and --run-as write it: root, target, a uid or uid:gid; undefined if malformed. */
export function parseRunAsText(text: string): RunAs | undefined {
  if (text === 'root') return { kind: 'root' };
  if (text === 'target') return { kind: 'target' };
  const m = /^(\d+)(?::(\d+))?$/.exec(text);
  if (!m) return undefined;
  return { kind: 'uid', uid: Number(m[1]), ...(m[2] ? { gid: Number(m[2]) } : {}) };
}

/** A user as the preset file writes it (the inverse of parseRunAsText; a bare uid stays a number). */
export function formatRunAs(runAs: RunAs): string | number {
  if (runAs.kind !== 'uid') return runAs.kind;
  return runAs.gid === undefined ? runAs.uid : `${runAs.uid}:${runAs.gid}`;
}
