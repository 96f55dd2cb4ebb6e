// Hostile and unlucky input against the live API server (issue 29; issue 25 item 5): one pod's
// audit annotation never fails `list` for the others, every audit entry is verifiable or visibly
// not, and values the cluster would refuse or never run are refused before anything is sent.
// Each case asserts the one error line, the exit code, and what is left in the pod.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aPod } from '../../support/builders';
import { addEphemeralContainer, createTestNamespace, deleteTestNamespace, getPod, kubectl } from '../../support/cluster';
import { createRunningPod, KubeletStandIn } from '../../support/kubelet';
import { expectExit, pluginPath, requireBuiltPlugin, runPlugin, standaloneKubeconfig, stderrLines, tempDir, theErrorLine, type PluginResult } from '../../support/plugin';

jest.setTimeout(120_000);

const AUDIT = 'kubectl-ephemeral.dev/audit';
/** 20 KB of nested brackets: JSON.stringify of it overflowed the stack and failed `list -A` for everyone. */
const BRACKET_BOMB = `[${'['.repeat(10_000)}${']'.repeat(10_000)},{"container":"x","prev":"y"}]`;

describe('hostile input harms no one else', () => {
  let ns = '';
  let kubelet: KubeletStandIn;
  const files = tempDir('ke-hostile-');
  const trailOf = (pod: string) => getPod(ns, pod).metadata.annotations?.[AUDIT] as string | undefined;
  const containersOf = (pod: string): string[] => (getPod(ns, pod).spec.ephemeralContainers ?? []).map((c: any) => c.name);
  const annotate = (pod: string, value: string) => kubectl(['annotate', 'pod', pod, '--overwrite', `${AUDIT}=${value}`], { namespace: ns });
  const session = (pod: string, name: string, extra: string[] = []) => runPlugin(['shell', pod, '-n', ns, '--context', 'debugger', '--name', name, '--no-attach', ...extra]);
  /** The AUDIT column of `list POD -o wide`, by container, and the warnings it printed. */
  const auditColumn = async (pod: string) => {
    const r = await runPlugin(['list', pod, '-n', ns, '--context', 'debugger', '-o', 'wide']);
    expectExit(r, 0);
    const [header, ...rows] = r.stdout.trim().split('\n').map((l) => l.split(/\s{3,}/));
    const at = header!.indexOf('AUDIT');
    return { audit: Object.fromEntries(rows.map((row) => [row[1], row[at]])), warnings: stderrLines(r).filter((l) => l.startsWith('warning:')), notes: stderrLines(r).filter((l) => l.startsWith('note:')) };
  };

  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('hostile');
    for (const name of ['bomb', 'calm', 'stuffed', 'newest', 'spoofed', 'values']) createRunningPod(ns, aPod(name).withContainer('app', { image: 'nginx:1.27' }).build());
    kubelet = new KubeletStandIn(ns).start();
  });
  afterAll(async () => {
    await kubelet?.stop();
    deleteTestNamespace(ns);
    files.remove();
  });

  describe('the audit annotation', () => {
    it('20 KB of nested brackets on one pod: that pod is corrupt with a warning, list -A still lists every other pod (exit 0)', async () => {
      expectExit(await session('bomb', 'b-1'), 0);
      expectExit(await session('calm', 'c-1'), 0);
      annotate('bomb', BRACKET_BOMB);
      const all = await runPlugin(['list', '-A', '--context', 'admin', '-o', 'wide'], { timeoutMs: 60_000 });
      expectExit(all, 0);
      expect(all.stderr).not.toMatch(/Maximum call stack|internal/);
      const rows = all.stdout.split('\n').filter((l) => l.startsWith(`${ns} `)).map((l) => l.split(/\s{3,}/));
      const [header] = all.stdout.split('\n').map((l) => l.split(/\s{3,}/));
      const at = header!.indexOf('AUDIT');
      expect(Object.fromEntries(rows.map((r) => [r[2], r[at]]))).toEqual({ 'b-1': 'corrupt', 'c-1': 'unanchored' });
      expect(stderrLines(all)).toContain(`warning: audit trail of pod "bomb" in namespace "${ns}": ${AUDIT} nests deeper than 8 levels: it was replaced or hand-edited`);
      // One pod, and the machine-readable forms.
      for (const args of [['list', 'bomb'], ['list', 'bomb', '-o', 'json'], ['list', 'bomb', '-o', 'yaml'], ['list']]) {
        const r = await runPlugin([...args, '-n', ns, '--context', 'debugger']);
        expectExit(r, 0);
        expect(r.stdout).toContain('b-1');
      }
      // The next session starts a new trail, chained to the old value's digest, and says so.
      const next = await session('bomb', 'b-2');
      expectExit(next, 0);
      expect(stderrLines(next)).toContainEqual(expect.stringMatching(/^warning: audit trail of pod "bomb": .* nests deeper than 8 levels: it was replaced or hand-edited; replaced by a new trail/));
      expect(JSON.parse(trailOf('bomb')!).map((e: any) => e.container)).toEqual(['b-2']);
    });

    it('stuffed with elements that are not entries: they are dropped with a warning and the entry is written', async () => {
      annotate('stuffed', JSON.stringify(Array.from({ length: 6000 }, (_, i) => ({ junk: i }))));
      const r = await session('stuffed', 's-1');
      expectExit(r, 0);
      expect(stderrLines(r)).toContain(`warning: audit trail of pod "stuffed": dropped 6000 element(s) of ${AUDIT} that are not audit entries`);
      expect(JSON.parse(trailOf('stuffed')!).map((e: any) => e.container)).toEqual(['s-1']);
      expect((await auditColumn('stuffed')).audit).toEqual({ 's-1': 'unanchored' });
    });

    it('the newest entry: unanchored (visibly unverifiable) until a later container pins it; changed, it stays so; removed, missing', async () => {
      for (const name of ['n-1', 'n-2']) expectExit(await session('newest', name, ['--reason', `INC-${name}`]), 0);
      const first = await auditColumn('newest');
      expect(first.audit).toEqual({ 'n-1': 'recorded', 'n-2': 'unanchored' });
      expect(first.warnings).toEqual([]);
      // What each state shown proves, and what CREATED-BY does not.
      expect(first.notes).toEqual([
        expect.stringMatching(/^note: AUDIT recorded: .* a later debug container's trail anchor pins it/),
        expect.stringMatching(/^note: AUDIT unanchored: .* anyone with "patch pods" can change its time or sha256/),
        expect.stringMatching(/^note: CREATED-BY is the user the creating plugin stamped .* only the API server's audit log proves who$/),
      ]);
      // The debugger user (it has patch pods) rewrites the newest entry's time without rechaining.
      const list = JSON.parse(trailOf('newest')!);
      list[1].time = '2000-01-01T00:00:00Z';
      annotate('newest', JSON.stringify(list));
      expect((await auditColumn('newest')).audit).toEqual({ 'n-1': 'recorded', 'n-2': 'unanchored' });
      // ... and removes it.
      annotate('newest', JSON.stringify(list.slice(0, 1)));
      expect((await auditColumn('newest')).audit).toEqual({ 'n-1': 'recorded', 'n-2': 'missing' });
      // The entry before it, pinned by n-2's anchor, rewritten too: the anchor n-2 carries still tells.
      const pinned = JSON.parse(trailOf('newest')!);
      pinned[0].time = '2000-01-01T00:00:00Z';
      annotate('newest', JSON.stringify(pinned));
      const after = await auditColumn('newest');
      expect(after.audit).toEqual({ 'n-1': 'altered', 'n-2': 'missing' });
      expect(after.warnings).toEqual([
        `warning: audit trail of pod "newest" in namespace "${ns}": the trail as it was when "n-2" was created is gone: an element before its entry was changed, removed or inserted since`,
      ]);
      // Every container the plugin made carries the trail head it read, where nobody can change it.
      const env = (name: string) => getPod(ns, 'newest').spec.ephemeralContainers.find((c: any) => c.name === name).env;
      // n-1 found no trail: its anchor is the empty head.
      expect(env('n-1')).toContainEqual({ name: 'KUBECTL_EPHEMERAL_TRAIL' });
      expect(env('n-2')).toContainEqual({ name: 'KUBECTL_EPHEMERAL_TRAIL', value: expect.stringMatching(/^[0-9a-f]{32}$/) });
    });

    it('KUBECTL_EPHEMERAL_USER is a claim: a container stamped "mallory" by someone else lists as mallory, and -o wide says what that proves', async () => {
      addEphemeralContainer(ns, 'spoofed', { name: 'forged', image: 'busybox:1.36', env: [{ name: 'KUBECTL_EPHEMERAL_PRESET', value: 'shell' }, { name: 'KUBECTL_EPHEMERAL_USER', value: 'mallory' }] }, 'debugger');
      const r = await runPlugin(['list', 'spoofed', '-n', ns, '--context', 'debugger', '-o', 'wide']);
      expectExit(r, 0);
      expect(r.stdout).toMatch(/forged\s+shell\s+busybox:1\.36\s+.*mallory\s+missing/);
      expect(stderrLines(r)).toContainEqual(expect.stringMatching(/^note: CREATED-BY is the user the creating plugin stamped \(KUBECTL_EPHEMERAL_USER.*anyone allowed to add ephemeral containers can stamp any name/));
    });
  });

  it('a reason with a right-to-left override (U+202E) and C1 controls: escaped in list, the value intact in -o json', async () => {
    const reason = 'INC-7 \u202etxt.exe\u009b2J';
    expectExit(await session('calm', 'c-bidi', ['--reason', reason]), 0);
    const wide = await runPlugin(['list', 'calm', '-n', ns, '--context', 'debugger', '-o', 'wide']);
    expectExit(wide, 0);
    expect(wide.stdout).toContain('INC-7 \\u202etxt.exe\\u009b2J');
    expect(wide.stdout).not.toMatch(/[\u202e\u009b]/);
    const json = await runPlugin(['list', 'calm', '-n', ns, '--context', 'debugger', '-o', 'json']);
    expect(JSON.parse(json.stdout).find((r: any) => r.container === 'c-bidi').reason).toBe(reason);
  });

  describe('values the cluster would refuse or never run are refused before the PATCH', () => {
    /** Runs and expects the one error line, the exit code, and no new container in the pod. */
    const refused = async (r: Promise<PluginResult>, code: number, line: string | RegExp) => {
      const before = containersOf('values');
      const result = await r;
      expectExit(result, code);
      const error = theErrorLine(result);
      if (typeof line === 'string') expect(error).toBe(line);
      else expect(error).toMatch(line);
      expect(containersOf('values')).toEqual(before);
    };
    const presetFile = (name: string, text: string) => files.file(name, text);

    it.each([
      ['busybox:1.36 --privileged', 'it holds whitespace or a control character'],
      ['busybox:1.36\n', 'it holds whitespace or a control character'],
      ['UPPER/Case::bad', 'it does not follow the reference grammar [registry[:port]/]name[:tag][@digest], with a lowercase name'],
    ])('--image %j: exit 64', async (image, why) => {
      await refused(session('values', 'v-img', ['--image', image]), 64, `error: --image ${JSON.stringify(image)} is not an image reference: ${why}; for example --image busybox:1.36`);
    });

    it('--image on capture and collect too: exit 64 before the -w file is made', async () => {
      const pcap = join(files.dir, 'x.pcap');
      await refused(runPlugin(['capture', 'values', '-n', ns, '--context', 'debugger', '--image', 'bad image', '-w', pcap]), 64, /^error: --image "bad image" is not an image reference/);
      await refused(runPlugin(['collect', 'values', '-n', ns, '--context', 'debugger', '--image', 'bad image', '-w', join(files.dir, 'x.tar')]), 64, /^error: --image "bad image" is not an image reference/);
      expect(existsSync(pcap)).toBe(false);
    });

    it('--run-as 4294967296: exit 64 from the plugin, not the server', async () => {
      await refused(session('values', 'v-uid', ['--run-as', '4294967296']), 64, 'error: invalid --run-as "4294967296": uid 4294967296 is out of range (0 to 2147483647)');
    });

    it.each([
      ['capabilities: [ALL]', /presets\.wide\.capabilities: "ALL" only drops capabilities/],
      ['runAs: 4294967296', /presets\.wide\.runAs: uid 4294967296 is out of range \(0 to 2147483647\)/],
      ['image: "busybox:1.36 --privileged"', /presets\.wide\.image: "busybox:1\.36 --privileged" is not an image reference/],
    ])('a preset file with %s: exit 78', async (line, error) => {
      const file = presetFile('presets.yaml', `presets:\n  wide:\n    extends: shell\n    ${line}\n`);
      await refused(runPlugin(['wide', 'values', '-n', ns, '--context', 'debugger', '--no-attach'], { env: { KUBECTL_EPHEMERAL_CONFIG: file } }), 78, error);
    });

    it('--record=FILE naming an existing file: exit 64 and no container (issue 25)', async () => {
      const existing = files.file('earlier.cast', 'an earlier session');
      await refused(
        runPlugin(['shell', 'values', '-n', ns, '--context', 'debugger', `--record=${existing}`, '--', 'true']),
        64,
        `error: ${existing} already exists; --record never overwrites a file: pass --record=FILE with a new file in a writable directory, or --no-record`,
      );
    });

    it('a kubeconfig whose context says `user: n` (YAML 1.1 false, which kubectl refuses): exit 78 and no container', async () => {
      const kc = standaloneKubeconfig('debugger');
      const user = kc.users[0].user;
      const text = [
        'apiVersion: v1',
        'kind: Config',
        `current-context: ctx`,
        'clusters:',
        `- name: c`,
        '  cluster:',
        `    server: ${kc.clusters[0].cluster.server}`,
        `    certificate-authority-data: ${kc.clusters[0].cluster['certificate-authority-data']}`,
        'contexts:',
        '- name: ctx',
        '  context:',
        '    cluster: c',
        '    user: n',
        'users:',
        '- name: "n"',
        '  user:',
        ...Object.entries(user).map(([k, v]) => `    ${k}: ${v}`),
        '',
      ].join('\n');
      const file = files.file('kubeconfig-n', text);
      // kubectl itself refuses this file.
      const kubectlSays = await new Promise<string>((resolve) => execFile('kubectl', ['--kubeconfig', file, 'get', 'pods', '-n', ns], (_e, _o, stderr) => resolve(stderr)));
      expect(kubectlSays).toContain('cannot unmarshal bool into Go struct field Context.contexts.context.user of type string');
      await refused(
        runPlugin(['shell', 'values', '-n', ns, '--kubeconfig', file, '--no-attach']),
        78,
        `error: kubeconfig ${file}: contexts[ctx].context.user is the boolean false (YAML 1.1, which kubectl reads, takes unquoted y, n, yes, no, on, off and numbers so); quote the value, as kubectl needs too`,
      );
    });
  });

  describe('the preset file is read with bounds (memory and time limited here: an endless read once grew to 23 GB)', () => {
    /** Runs `presets` under a 2 GB address-space limit and a 30 s timeout, with the preset file given. */
    const presetsWith = (config: string) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = execFile(
          'bash',
          ['-c', 'ulimit -v 2000000; exec timeout -s KILL 30 "$0" presets', pluginPath()],
          { env: { PATH: process.env.PATH, HOME: files.dir, KUBECTL_EPHEMERAL_CONFIG: config, KUBECTL_EPHEMERAL_NODE: join(__dirname, '..', '..', '..', 'node_modules', 'node', 'bin', 'node') } },
          (_err, _out, stderr) => resolve({ code: child.exitCode, stderr }),
        );
      });

    it.each([
      ['/dev/zero', 'a device'],
      ['a FIFO nobody writes to', 'a FIFO (named pipe)'],
      ['a directory', 'a directory'],
    ])('%s: exit 78 in one line, at once', async (what, kind) => {
      let path = what;
      if (what.startsWith('a FIFO')) {
        path = join(files.dir, 'fifo');
        await new Promise((resolve) => execFile('mkfifo', [path], resolve));
      } else if (what === 'a directory') {
        path = join(files.dir, 'dir');
        mkdirSync(path);
      }
      const r = await presetsWith(path);
      expect(r).toEqual({ code: 78, stderr: `error: ${path}: ${kind}, not a preset file: a preset file is a regular YAML file; fix KUBECTL_EPHEMERAL_CONFIG or unset it\n` });
    });

    it('a 50 MB file: exit 78 naming the 256 KiB cap, without reading it', async () => {
      const big = join(files.dir, 'big.yaml');
      writeFileSync(big, Buffer.alloc(50 * 1024 * 1024, 0x20));
      const r = await presetsWith(big);
      expect(r).toEqual({ code: 78, stderr: `error: ${big}: the preset file is larger than 256 KiB; fix KUBECTL_EPHEMERAL_CONFIG or unset it\n` });
    });
  });
});
