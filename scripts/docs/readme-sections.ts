// Generates the reference sections of README.md and docs/*.md from the code itself (preset registry,
// exit codes, permissions, the command definitions' flags), so they cannot drift: `npm run docs`
// rewrites them, a unit test (test/unit/docs) fails when they are stale.
import type { CommandModule } from 'yargs';
import { commandModules, commandSpecs, kubeFlagSpecs, type CommandSpec, type FlagSpec } from '../../src/cli/command-spec';
import { EXIT_CODES, EXIT_CODE_MEANINGS, type ErrorKind } from '../../src/errors/plugin-error';
import { PresetRegistry } from '../../src/presets/registry';
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
          '- `--copy` (or `--copy-to NAME`): debugs a copy of the pod whose failing container, init containers included, runs `--keepalive` (default `sleep infinity`); as with `kubectl debug --copy-to`, labels, annotations and probes are dropped and init containers kept unless `--keep-labels`, `--keep-annotations`, `--keep-liveness`, `--keep-readiness`, `--keep-startup` or `--keep-init-containers=false` say otherwise, owner references always go, and `--set-image NAME=IMAGE` (`*` for all) changes images; the scheduler places it unless `--same-node`, and while no node takes it the progress line shows the scheduler\'s `FailedScheduling` and its reason, as `kubectl describe pod` does (a `--timeout` then says it was never scheduled and why, exit 75); `--share-processes` shares one process namespace; deleted after the session unless `--keep`, `--replace` (the original is deleted once the copy exists) or `--no-attach`, which print how to delete it',
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

/** A flag as a user types it: its short form, its long form (or `--no-NAME`), and its choices. */
function flagWords(f: FlagSpec): string {
  const short = f.aliases.filter((a) => a.length === 1).map((a) => `-${a}`);
  const long = f.name.length === 1 ? `-${f.name}` : f.negatable ? `--no-${f.name}` : `--${f.name}`;
  const choices = f.choices ? ` ${f.choices.join('|')}` : '';
  return [...short, long].join(', ') + choices;
}

/** Markdown table cell text: pipes escaped, and `<word>` kept as text rather than read as an HTML tag. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/</g, '\\<');

/** A command's own flags (kubectl's global ones left out: every command takes those) as a table. */
function flagTable(flags: FlagSpec[], note: (f: FlagSpec) => string = () => ''): string {
  const global = new Set(kubeFlagSpecs().map((f) => f.name));
  return [
    '| flag | meaning |',
    '| --- | --- |',
    ...flags.filter((f) => !global.has(f.name) && f.name !== 'help').map((f) => `| \`${flagWords(f).replace(/\|/g, '\\|')}\` | ${cell(f.describe ?? '')}${note(f)} |`),
  ].join('\n');
}

/** The flag tables of every command, by marker name (`flags-<command>`), read from the yargs builders. */
function flagSections(): Record<string, string> {
  const specs = commandSpecs(PresetRegistry.from());
  const named = (name: string): CommandSpec => specs.find((c) => c.name === name)!;
  // Every preset command has the same flags; a preset with a copy mode shows the copy flags, which
  // the others accept hidden (to say they are crashloop's). `shell` stands for all of them.
  const plain = named('shell');
  const copying = specs.filter((c) => c.preset && c.flags.some((f) => f.name === 'copy' && !f.hidden));
  const copyFlags = copying.length ? copying[0]!.flags.filter((f) => !f.hidden && plain.flags.some((g) => g.name === f.name && g.hidden)) : [];
  const only = ` (${copying.map((c) => `\`${c.name}\``).join(', ')} only)`;
  // Descriptions that name the stand-in's own image speak of every preset's.
  const shellImage = BUILTIN_PRESETS.find((p) => p.name === plain.name)!.image;
  const general = plain.flags.filter((f) => !f.hidden).map((f) => ({ ...f, describe: f.describe?.replace(shellImage, "the preset's image") }));
  const out: Record<string, string> = {
    'flags-preset': flagTable([...general, ...copyFlags], (f) => (copyFlags.includes(f) ? only : '')),
    'flags-kubectl': [
      '| flag | meaning |',
      '| --- | --- |',
      ...kubeFlagSpecs().map((f) => `| \`${flagWords(f).replace(/\|/g, '\\|')}\` | ${cell(f.describe ?? '')} |`),
    ].join('\n'),
  };
  for (const c of specs.filter((s) => !s.preset)) out[`flags-${c.name}`] = flagTable(c.flags.filter((f) => !f.hidden));
  return out;
}

/** The README's table of commands: each one's usage and its --help summary, from its command module, linked to docs/commands.md. */
function commandsTable(): string {
  const registry = PresetRegistry.from();
  const modules = commandModules(registry, () => undefined).slice(registry.presets.length);
  const usage = (m: CommandModule) =>
    String(m.command)
      .split(' ')
      .map((w) => w.replace(/^<(.*)>$/, (_m, p: string) => p.toUpperCase()).replace(/^\[(.*)\]$/, (_m, p: string) => `[${p.toUpperCase()}]`))
      .join(' ');
  return [
    '| command | usage | what it does |',
    '| --- | --- | --- |',
    "| [a preset](docs/commands.md#debugging-a-pod) | `kubectl ephemeral PRESET POD [-- COMMAND...]` | Add the preset's debug container to a running pod and attach to it |",
    "| [a preset on a node](docs/commands.md#node-sessions) | `kubectl ephemeral PRESET node/NAME [-- COMMAND...]` | Run the preset's container in a pod of its own on that node, deleted when the session ends |",
    ...modules.map((m) => {
      const name = String(m.command).split(' ')[0]!;
      return `| [\`${name}\`](docs/commands.md#${name}) | \`kubectl ephemeral ${cell(usage(m))}\` | ${cell(String(m.describe ?? ''))} |`;
    }),
  ].join('\n');
}

/** The README's table of presets: name, aliases, summary, image and user, from the registry. */
function presetTable(): string {
  const user = (p: Preset) => (p.runAs.kind === 'root' ? 'root' : p.runAs.kind === 'target' ? "the target's user" : `uid ${p.runAs.uid}`);
  return [
    '| preset | for | image | runs as |',
    '| --- | --- | --- | --- |',
    ...BUILTIN_PRESETS.map((p) => `| [\`${p.name}\`](docs/presets.md#${anchor(p)})${p.aliases.length ? ` (${p.aliases.map((a) => `\`${a}\``).join(', ')})` : ''} | ${cell(p.summary)} | \`${p.image}\` | ${user(p)} |`),
  ].join('\n');
}

/** The GitHub anchor of a preset's heading in docs/presets.md (its heading as presetSection writes it). */
export function anchor(p: Preset): string {
  return headingAnchor(`\`${p.name}\`${p.aliases.length ? ` (alias ${p.aliases.map((a) => `\`${a}\``).join(', ')})` : ''}`);
}

/** GitHub's anchor for a heading: lowercase, punctuation but - and _ dropped, spaces made dashes. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The generated sections, by marker name (each appears in exactly one file: DOC_BLOCKS). */
export function readmeSections(): Record<string, string> {
  const kinds = Object.keys(EXIT_CODES) as ErrorKind[];
  return {
    presets: BUILTIN_PRESETS.map(presetSection).join('\n\n'),
    'preset-table': presetTable(),
    commands: commandsTable(),
    permissions: permissionsSection(),
    'node-presets': ['| preset | host network | host PID | `/host` | runs as |', '| --- | --- | --- | --- | --- |', ...BUILTIN_PRESETS.map(nodeRow)].join('\n'),
    'exit-codes': [
      '| code | meaning |',
      '| --- | --- |',
      '| 0 | success (or the debugged program exited 0) |',
      '| 1-255 | once attached, the exit code of the program in the debug container, passed through |',
      ...kinds.sort((a, b) => EXIT_CODES[a] - EXIT_CODES[b]).map((k) => `| ${EXIT_CODES[k]} | ${k}: ${EXIT_CODE_MEANINGS[k]} |`),
    ].join('\n'),
    ...flagSections(),
  };
}

/** The documentation files, each with the generated blocks it holds (`npm run docs` renders these). */
export const DOC_BLOCKS: Record<string, string[]> = {
  'README.md': ['preset-table', 'commands', 'exit-codes'],
  'docs/commands.md': ['flags-preset', 'node-presets', 'flags-presets', 'flags-list', 'flags-attach', 'flags-capture', 'flags-collect', 'flags-sessions', 'flags-cleanup', 'flags-permissions'],
  'docs/connecting.md': ['flags-kubectl'],
  'docs/permissions.md': ['permissions'],
  'docs/presets.md': ['presets'],
};

/** The file that holds the screens test/e2e/sessions/walkthrough.test.ts captures (`walkthrough-*` blocks). */
export const WALKTHROUGH_DOC = 'docs/walkthrough.md';

/** Replaces each `<!-- NAME:start -->…<!-- NAME:end -->` block of a document with its generated text. */
export function renderReadme(readme: string, sections: Record<string, string> = readmeSections()): string {
  let out = readme;
  for (const [name, body] of Object.entries(sections)) {
    const re = new RegExp(`(<!-- ${name}:start -->\\n)[\\s\\S]*?(<!-- ${name}:end -->)`);
    if (!re.test(out)) throw new Error(`the document has no <!-- ${name}:start --> … <!-- ${name}:end --> block`);
    out = out.replace(re, (_m, a: string, b: string) => `${a}${body}\n${b}`);
  }
  return out;
}

/** One documentation file rendered: its own generated blocks (DOC_BLOCKS) rewritten from the code. */
export function renderDoc(file: string, text: string, sections: Record<string, string> = readmeSections()): string {
  const names = DOC_BLOCKS[file];
  if (!names) throw new Error(`${file} is not in DOC_BLOCKS`);
  return renderReadme(text, Object.fromEntries(names.map((n) => [n, sections[n]!])));
}
