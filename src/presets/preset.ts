/** Which user the debug container runs as. */
export type RunAs =
  | { kind: 'root' }
  /** The target container's (or pod's) runAsUser/runAsGroup where set, else an unprivileged uid. */
  | { kind: 'target' }
  | { kind: 'uid'; uid: number; gid?: number };

/** A preset is data: everything needed to build one debug container for one job. */
export interface Preset {
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
  /** Who the container runs as. */
  runAs: RunAs;
  /** Capabilities added; every other capability is dropped. */
  capabilities: string[];
  /** Mount the root filesystem read-only. */
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
