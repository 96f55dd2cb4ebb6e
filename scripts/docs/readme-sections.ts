// Generates the README's reference sections from the code itself (preset registry, exit codes),
// so they cannot drift: `npm run docs` rewrites them, a unit test fails when they are stale.
import { EXIT_CODES, EXIT_CODE_MEANINGS, type ErrorKind } from '../../src/errors/plugin-error';
import { BUILTIN_PRESETS } from '../../src/presets/builtin';
import { describeAbilityLines } from '../../src/presets/describe';
import { PERMISSIONS, ROLE_USE, ROLES, type RoleName } from '../../src/kube/access-rules';
import type { Preset } from '../../src/presets/preset';

function presetSecurity(p: Preset): string {
  const user =
    p.runAs.kind === 'root'
      ? 'root (uid 0)'
      : p.runAs.kind === 'target'
        ? "the target's user (its runAsUser, else the user its status reports, else the image's default, root, unless runAsNonRoot: then 65534)"
        : `uid ${p.runAs.uid}`;
  const caps =
    p.keepCapabilities === 'target'
      ? "as root, exactly the target's capabilities (the least that reads a root target's /proc/1/root); otherwise drops ALL"
      : p.capabilities.length
        ? `drops ALL, adds ${p.capabilities.join(', ')}`
        : 'drops ALL capabilities';
  return [user, caps, 'no privilege escalation', 'seccomp RuntimeDefault', ...(p.readOnlyRootFilesystem ? ["its own root filesystem read-only (not the target's)"] : [])].join('; ');
}

function presetSection(p: Preset): string {
  const shares = p.targetProcesses
    ? "the pod's network and the target container's process namespace (`targetContainerName`)"
    : p.mirrorTarget
      ? "the pod's network; mirrors the target container's volumeMounts (without subPath) and env"
      : "the pod's network only";
  return [
    `### \`${p.name}\`${p.aliases.length ? ` (alias ${p.aliases.map((a) => `\`${a}\``).join(', ')})` : ''}`,
    '',
    p.summary + '.',
    '',
    `- image: \`${p.image}\`${p.command ? `, command \`${p.command.join(' ')}\`` : ''}`,
    `- shares: ${shares}`,
    `- runs as: ${presetSecurity(p)}`,
    // The same lines as the preset's --help (src/presets/describe.ts), each proven by test/e2e/sessions/preset-abilities.test.ts.
    "- what a pod session can do, by Pod Security level (the strongest form the namespace admits is used; `--level` forces one):",
    '',
    '  ```text',
    ...describeAbilityLines(p).map((l) => `  ${l}`),
    '  ```',
    ...(p.record ? ['- records the session by default (asciicast, `--no-record` to turn off)'] : []),
    ...(p.crashSummary
      ? [
          '- targets the container that is failing (an init container in `Init:CrashLoopBackOff` or `Init:Error`, a sidecar, or a main container; `-c` chooses another) and says so when nothing fails; prints its last exit code and reason, previous logs and recent events first (or which permission, `get pods/log` or `list events`, is missing)',
          '- without a POD: lists the namespace\'s crash-looping pods (restarts, last exit, init or main container) to pick one on a terminal; without a terminal, fails with one line naming them',
        ]
      : []),
    ...(p.copy
      ? [
          '- `--copy`: debugs a copy of the pod (no labels, probes or owner references) whose failing container, init containers included, runs `--keepalive` (default `sleep infinity`); the scheduler places it unless `--same-node`; `--share-processes` shares one process namespace; deleted after the session unless `--keep` or `--no-attach`, which print how to delete it',
        ]
      : []),
    ...(p.examples.length ? ['- examples:', '', '```sh', ...p.examples.map((e) => `${e.command}   # ${e.comment}`), '```'] : []),
    '- what to try first:',
    '',
    '```sh',
    ...p.banner,
    '```',
  ].join('\n');
}

/** The shipped roles, one row per permission, from the code's own list (src/kube/access-rules.ts). */
function permissionsSection(): string {
  return [
    '| ClusterRole | for | grants | what the plugin does with it |',
    '| --- | --- | --- | --- |',
    ...(Object.values(ROLES) as RoleName[]).flatMap((role) =>
      PERMISSIONS.filter((p) => p.role === role).map((p) => `| \`${role}\` | ${ROLE_USE[role]} | \`${p.verb}\` \`${p.group ? `${p.group}/` : ''}${p.resource}\` | ${p.purpose} |`),
    ),
  ].join('\n');
}

/** One row per preset of the node session table: which host namespaces it shares and how /host is mounted. */
function nodeRow(p: Preset): string {
  const n = p.node;
  if (!n) return `| \`${p.name}\` | (no node sessions) | | | |`;
  const user = p.runAs.kind === 'root' ? 'root' : p.runAs.kind === 'uid' ? `uid ${p.runAs.uid}` : 'uid 65534 (a node has no target user)';
  const caps = p.capabilities.length ? `, adds ${p.capabilities.join(', ')}` : '';
  return `| \`${p.name}\` | ${n.hostNetwork ? 'yes' : 'no'} | ${n.hostPID ? 'yes' : 'no'} | ${n.hostReadOnly ? 'read-only' : 'read-write'} | ${user}, drops ALL${caps} |`;
}

/** The generated README sections, by marker name. */
export function readmeSections(): Record<string, string> {
  const kinds = Object.keys(EXIT_CODES) as ErrorKind[];
  return {
    presets: BUILTIN_PRESETS.map(presetSection).join('\n\n'),
    permissions: permissionsSection(),
    'node-presets': ['| preset | host network | host PID | `/host` | runs as |', '| --- | --- | --- | --- | --- |', ...BUILTIN_PRESETS.map(nodeRow)].join('\n'),
    'exit-codes': [
      '| code | meaning |',
      '| --- | --- |',
      '| 0 | success (or the debugged program exited 0) |',
      '| 1-255 | once attached, the exit code of the program in the debug container, passed through |',
      ...kinds.sort((a, b) => EXIT_CODES[a] - EXIT_CODES[b]).map((k) => `| ${EXIT_CODES[k]} | ${k}: ${EXIT_CODE_MEANINGS[k]} |`),
    ].join('\n'),
  };
}

/** Replaces each `<!-- NAME:start -->…<!-- NAME:end -->` block of a README with its generated text. */
export function renderReadme(readme: string, sections = readmeSections()): string {
  let out = readme;
  for (const [name, body] of Object.entries(sections)) {
    const re = new RegExp(`(<!-- ${name}:start -->\\n)[\\s\\S]*?(<!-- ${name}:end -->)`);
    if (!re.test(out)) throw new Error(`README has no <!-- ${name}:start --> … <!-- ${name}:end --> block`);
    out = out.replace(re, (_m, a: string, b: string) => `${a}${body}\n${b}`);
  }
  return out;
}
