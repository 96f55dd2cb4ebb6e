import type { Preset } from './preset.js';

const BUSYBOX = 'docker.io/library/busybox:1.36';
const NETSHOOT = 'docker.io/nicolaka/netshoot:v0.13';

const base = {
  aliases: [],
  targetProcesses: false,
  capabilities: [],
  keepCapabilities: [],
  levels: {},
  readOnlyRootFilesystem: false,
  mirrorTarget: false,
  record: false,
  copy: false,
  crashSummary: false,
  requireReason: false,
  allowedImages: [],
  source: 'built-in',
  pods: true,
  examples: [],
} satisfies Partial<Preset>;

/** Both forms that may run as root: what needs a raw socket or a root-only file works there only. */
const NOT_RESTRICTED = ['privileged', 'baseline'] as Array<'privileged' | 'baseline'>;

// The abilities of the presets that share the target's processes (forensics, process).
const SEES_TARGET_PROCESSES = { id: 'target-processes', what: "see the target's processes (ps, top)" };
const READS_TARGET_FILES = { id: 'target-files', what: "read the target's files as its user (/proc/1/root; a root target's only where root is allowed)" };
// Reading as the target's user is writing as it too: said, so nobody takes these for read-only.
const CHANGES_TARGET = { id: 'change-target', what: "write the target's files and signal its processes, as its user" };
const SEES_NO_TARGET_PROCESSES = { ...SEES_TARGET_PROCESSES, levels: [], unless: "it shares the pod's network, not the target's processes" };

/** The presets shipped with the plugin; user presets may add to or override them. */
export const BUILTIN_PRESETS: readonly Preset[] = [
  {
    ...base,
    name: 'network',
    aliases: ['net'],
    summary: 'Network toolbox in the pod network namespace: tcpdump as root where Pod Security allows it, curl and ss everywhere',
    image: NETSHOOT,
    command: ['bash'],
    targetProcesses: true,
    // tcpdump opens raw sockets (NET_RAW); `-Z root` keeps it root instead of switching to its own
    // user, but it still calls initgroups (SETGID) on Debian, Ubuntu and Alpine builds alike.
    runAs: { kind: 'root' },
    capabilities: ['NET_ADMIN', 'NET_RAW', 'SETGID'],
    levels: {
      // Baseline forbids adding NET_ADMIN and NET_RAW, not keeping the runtime's NET_RAW (containerd
      // and Docker grant it by default; CRI-O does not).
      baseline: { capabilities: [], keepCapabilities: ['NET_RAW', 'SETGID'] },
      // Restricted: non-root without capabilities; '/' because netshoot's working directory is /root.
      restricted: { runAs: { kind: 'uid', uid: 65534, gid: 65534 }, keepCapabilities: [], workingDir: '/' },
    },
    abilities: [
      { id: 'capture', what: 'capture packets (tcpdump -Z root)', levels: NOT_RESTRICTED, unless: 'needs NET_RAW as root' },
      { id: 'ping', what: 'ping', levels: NOT_RESTRICTED, unless: 'needs NET_RAW as root' },
      { id: 'net-admin', what: 'change links and routes (ip link set, ip route add)', levels: ['privileged'], unless: 'needs NET_ADMIN (privileged only)' },
      { id: 'pod-network', what: 'reach the app, list sockets and addresses (curl, ss, ip addr)' },
    ],
    examples: [
      { command: 'kubectl ephemeral network web-7d4b9 -- tcpdump -Z root -i any -nn -c 20 port 8080', comment: "20 packets of the app's traffic, then the session ends (not under restricted)" },
      { command: 'kubectl ephemeral network web-7d4b9 --level restricted', comment: 'the form restricted admits, even where the namespace allows more' },
    ],
    banner: [
      'ip addr; ss -lntp                  # addresses and listening sockets of the pod',
      'tcpdump -Z root -i any -nn port 8080   # watch traffic (Ctrl-C stops)',
      'curl -sv http://localhost:8080/    # the app as the pod sees it',
      'nslookup kubernetes.default        # DNS as the pod resolves it',
    ],
    node: {
      hostNetwork: true,
      hostPID: false,
      hostReadOnly: true,
      banner: [
        'ip addr; ip route                  # the node\'s interfaces (CNI bridge, veths) and routes',
        'ss -lntp                           # sockets listening on the node',
        'tcpdump -Z root -i any -nn port 53 # watch DNS traffic of the whole node (Ctrl-C stops)',
      ],
    },
  },
  {
    ...base,
    name: 'forensics',
    summary: "Busybox in the target process namespace as the target's user, recorded; it can change what that user can",
    image: BUSYBOX,
    command: ['sh'],
    targetProcesses: true,
    // The target's own user and capabilities: the least with which the kernel lets it read
    // /proc/1/root (same uid and gid, capabilities a superset of the target's). Its root filesystem
    // is read-only; the target's is not: the same user can write the target's files and signal it.
    runAs: { kind: 'target' },
    keepCapabilities: 'target',
    readOnlyRootFilesystem: true,
    record: true,
    abilities: [
      SEES_TARGET_PROCESSES,
      READS_TARGET_FILES,
      CHANGES_TARGET,
      { id: 'own-fs-write', what: 'write its own filesystem', levels: [], unless: 'its root filesystem is read-only' },
    ],
    examples: [
      { command: 'kubectl ephemeral forensics web-7d4b9 --reason INC-1234', comment: 'a recorded shell; the reason is kept on the container' },
      { command: 'kubectl ephemeral forensics web-7d4b9 --no-record -- ps -ef', comment: "the target's processes, unrecorded, then the session ends" },
    ],
    banner: [
      'whoami; id                         # who this shell runs as',
      'ps -ef                             # the target process tree (PID 1 is the app)',
      'netstat -tulpn                     # suspicious listening ports',
      'crontab -l; ls /proc/1/root/etc/crontabs /proc/1/root/var/spool/cron 2>/dev/null',
      'ls -la /proc/1/root/tmp /proc/1/root/var/tmp   # dropped files (look, do not touch: you could write them)',
    ],
    node: {
      hostNetwork: false,
      hostPID: true,
      hostReadOnly: true,
      banner: [
        'ps -ef                             # every process of the node',
        'ls -la /host/tmp /host/var/tmp     # dropped files (read-only: /host cannot be changed)',
        'cat /host/etc/crontab; ls /host/etc/cron.d',
      ],
    },
  },
  {
    ...base,
    name: 'crashloop',
    summary: 'For CrashLoopBackOff: crash summary, then a shell with the app volumes and env (or --copy of the pod)',
    image: BUSYBOX,
    command: ['sh'],
    runAs: { kind: 'target' },
    mirrorTarget: true,
    copy: true,
    crashSummary: true,
    abilities: [{ id: 'app-volumes-env', what: "read the app's volumes at its paths and its environment (ls, env)" }, SEES_NO_TARGET_PROCESSES],
    examples: [{ command: 'kubectl ephemeral crashloop initloop', comment: "a pod in Init:CrashLoopBackOff: the summary and the shell are its init container's" }],
    banner: [
      'ls -l /app/config/                 # the config the app reads (mounted like in the app)',
      'env | sort                         # the app environment',
      'netstat -tlnp                      # ports already taken',
    ],
    node: {
      hostNetwork: false,
      hostPID: false,
      hostReadOnly: true,
      banner: ['ls /host/var/log/pods            # the logs of every container on the node (--run-as root to read them)'],
    },
  },
  {
    ...base,
    name: 'process',
    aliases: ['proc'],
    summary: "Busybox in the target process namespace as the target's user for ps, top and /proc/1/root",
    image: BUSYBOX,
    command: ['sh'],
    targetProcesses: true,
    runAs: { kind: 'target' },
    keepCapabilities: 'target',
    abilities: [SEES_TARGET_PROCESSES, READS_TARGET_FILES, CHANGES_TARGET],
    examples: [{ command: 'kubectl ephemeral process web-7d4b9 -- cat /proc/1/status', comment: "the app's status (user, capabilities, memory), then the session ends" }],
    banner: [
      'ps -ef; top                        # the target processes (PID 1 is the app)',
      'ls /proc/1/root/                   # the app filesystem',
      'cat /proc/1/status | grep -i cap   # its capabilities',
    ],
    node: {
      hostNetwork: false,
      hostPID: true,
      hostReadOnly: true,
      banner: [
        'ps -ef; top                        # every process of the node (kubelet, containerd, containers)',
        'grep -i cap /proc/$(pidof kubelet)/status   # the kubelet\'s capabilities',
      ],
    },
  },
  {
    ...base,
    name: 'shell',
    summary: 'A plain busybox shell as an unprivileged user, sharing only the pod network',
    image: BUSYBOX,
    command: ['sh'],
    runAs: { kind: 'uid', uid: 65534, gid: 65534 },
    abilities: [{ id: 'app-http', what: 'reach the app over the pod network (wget)' }, SEES_NO_TARGET_PROCESSES],
    examples: [{ command: 'kubectl ephemeral shell web-7d4b9 -- wget -qO- http://localhost:8080/', comment: 'the app as the pod sees it, then the session ends' }],
    banner: ['wget -qO- http://localhost:8080/   # the app as the pod sees it'],
    node: { hostNetwork: false, hostPID: false, hostReadOnly: false, banner: ['ls /host/etc /host/var/log       # the node\'s filesystem'] },
  },
];

/**
 * The preset capture runs tcpdump with: the network preset's image and policy, and only what
 * `tcpdump -Z root` needs (NET_RAW, SETGID) as root. Restricted forbids root: capture cannot run there.
 */
export function capturePreset(network: Preset): Preset {
  return {
    ...network,
    command: undefined,
    targetProcesses: false,
    banner: [],
    runAs: { kind: 'root' },
    capabilities: ['NET_RAW', 'SETGID'],
    keepCapabilities: [],
    workingDir: undefined,
    abilities: [],
    examples: [],
    levels: { baseline: { capabilities: [], keepCapabilities: ['NET_RAW', 'SETGID'] } },
  };
}
