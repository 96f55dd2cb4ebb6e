// Every built-in preset against the real API server: what --dry-run prints is what gets added,
// the server's validation (and --dry-run=server) accepts it, --no-attach prints name and attach
// command, and `list` shows state and creator. No kubelet runs the pod: the test writes statuses.
import { aPod } from '../../support/builders';
import { clusterEnv, createObject, createTestNamespace, deleteTestNamespace, getPod } from '../../support/cluster';
import { KubeletStandIn, markPodRunning, writeContainerStatuses } from '../../support/kubelet';
import { expectExit, requireBuiltPlugin, runPlugin, serverContainer, stderrLines, tempDir, theErrorLine } from '../../support/plugin';
import { writeFileSync } from 'node:fs';
import { serverExpectations } from '../../support/server-versions';

jest.setTimeout(60_000);

const BUSYBOX = 'docker.io/library/busybox:1.36';
const NETSHOOT = 'docker.io/nicolaka/netshoot:v0.13';

/** What each preset must add to the pod below, beyond what the dry run printed (so a wrong generator fails). */
const EXPECTED: Record<string, object> = {
  network: {
    image: NETSHOOT,
    command: ['bash'],
    targetContainerName: 'app',
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW', 'SETGID'] },
      runAsUser: 0,
      runAsNonRoot: false,
    },
  },
  forensics: {
    image: BUSYBOX,
    targetContainerName: 'app',
    securityContext: { readOnlyRootFilesystem: true, runAsUser: 1000, runAsGroup: 3000, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
  },
  crashloop: {
    image: BUSYBOX,
    volumeMounts: [{ name: 'config', mountPath: '/app/config', readOnly: true }],
    securityContext: { runAsUser: 1000, runAsGroup: 3000, runAsNonRoot: true },
  },
  process: { image: BUSYBOX, targetContainerName: 'app', securityContext: { runAsUser: 1000, runAsNonRoot: true } },
  shell: { image: BUSYBOX, command: ['sh'], securityContext: { runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true } },
};

describe('presets against the API server', () => {
  let ns = '';
  const names: Record<string, string> = {};

  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('plugin-presets');
    createObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config' }, data: { 'app.yaml': 'port: 8080\n' } }, { namespace: ns });
    const pod = aPod('web')
      .withContainer('app', {
        image: 'nginx:1.27',
        env: { FOO: 'bar' },
        securityContext: { runAsUser: 1000, runAsGroup: 3000 },
        volumeMounts: [
          { name: 'config', mountPath: '/app/config', readOnly: true },
          // Ephemeral containers cannot mount subPath: the crashloop preset must skip this one.
          { name: 'config', mountPath: '/etc/app.yaml', subPath: 'app.yaml' } as { name: string; mountPath: string },
        ],
      })
      .withContainer('sidecar', { image: 'busybox:1.36' })
      .withVolume({ name: 'config', configMap: { name: 'app-config' } })
      // No service account token volume: the mirrored mounts are then exactly the app's own.
      .withSpec({ automountServiceAccountToken: false })
      .withNodeName(clusterEnv().fakeNode)
      .build();
    createObject(pod, { namespace: ns });
    markPodRunning(ns, 'web');
  });
  afterAll(() => deleteTestNamespace(ns));

  it.each(Object.keys(EXPECTED))(
    '%s: the server stores exactly what --dry-run -o json printed, as --dry-run=server predicted (status written by the test acting as kubelet)',
    async (preset) => {
      const name = `dbg-${preset}`;
      names[preset] = name;
      // One command line for all three runs: whether it attaches decides tty/stdinOnce (a pipe gets no TTY).
      const common = [preset, 'web', '-n', ns, '--context', 'debugger', '--name', name, '--no-attach'];
      const [client, server] = await Promise.all([runPlugin([...common, '--dry-run', '-o', 'json']), runPlugin([...common, '--dry-run=server', '-o', 'json'])]);
      expectExit(client, 0);
      expectExit(server, 0);
      const printed = JSON.parse(client.stdout).spec.ephemeralContainers;
      const validated = JSON.parse(server.stdout).spec.ephemeralContainers;
      expect(printed).toHaveLength(1);
      expect(validated).toHaveLength(1);
      // Neither dry run created anything.
      expect(await serverContainer(ns, 'web', name)).toBeUndefined();

      const kubelet = new KubeletStandIn(ns).start();
      const run = await runPlugin(common).finally(() => kubelet.stop());
      expectExit(run, 0);
      expect(kubelet.handled).toEqual([`web/${name}`]);
      // stdout: the container name alone (for scripts); stderr: what happened and how to attach.
      expect(run.stdout).toBe(`${name}\n`);
      expect(stderrLines(run)).toContain(`attach with: kubectl ephemeral attach web ${name} -n ${ns} --context debugger`);
      expect(run.stderr).toContain(`added ephemeral container "${name}" (${preset}, `);

      const stored = await serverContainer(ns, 'web', name);
      // --dry-run=server returns the container as the server would store it, defaults included.
      expect(stored).toEqual(validated[0]);
      // The client dry run is the request body: the stored container is it plus the server's defaults.
      const { imagePullPolicy, terminationMessagePath, resources, ...sent } = stored;
      expect({ imagePullPolicy, terminationMessagePath, resources }).toEqual({ imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', resources: {} });
      expect(sent).toEqual(printed[0]);
      // And it is the right container for the preset.
      expect(stored).toMatchObject({ name, stdin: true, tty: true, ...EXPECTED[preset] });
      const env = Object.fromEntries((stored.env ?? []).map((e: any) => [e.name, e.value]));
      expect(env.KUBECTL_EPHEMERAL_PRESET).toBe(preset);
      expect(env.KUBECTL_EPHEMERAL_USER).toBe('debugger');
      if (preset === 'crashloop') expect(env.FOO).toBe('bar');
      else expect(env.FOO).toBeUndefined();
      if (preset === 'shell') expect(stored.targetContainerName).toBeUndefined();
      if (preset === 'crashloop') expect(run.stderr).toContain('volume "config" at /etc/app.yaml uses subPath, which ephemeral containers cannot mount; skipped');
    },
  );

  it('list POD and list -A show each debug container with its preset, state and creator', async () => {
    expect(Object.keys(names)).toHaveLength(5);
    // The test, as kubelet: forensics exited, process is waiting, the others run.
    const pod = getPod(ns, 'web');
    const statuses = pod.status.ephemeralContainerStatuses.map((s: any) => {
      if (s.name === names.forensics) return { ...s, state: { terminated: { exitCode: 3, reason: 'Error', startedAt: s.state.running.startedAt, finishedAt: s.state.running.startedAt } } };
      if (s.name === names.process) return { ...s, containerID: undefined, state: { waiting: { reason: 'ContainerCreating' } } };
      return s;
    });
    writeContainerStatuses(ns, 'web', { ephemeralContainerStatuses: statuses });
    const want: Record<string, string> = {
      [names.network!]: 'running',
      [names.forensics!]: 'terminated (exit 3)',
      [names.crashloop!]: 'running',
      [names.process!]: 'waiting (ContainerCreating)',
      [names.shell!]: 'running',
    };

    const [one, all, json] = await Promise.all([
      runPlugin(['list', 'web', '-n', ns, '--context', 'debugger']),
      runPlugin(['list', '-A', '--context', 'debugger']),
      runPlugin(['list', 'web', '-n', ns, '--context', 'debugger', '-o', 'json']),
    ]);
    for (const r of [one, all, json]) expectExit(r, 0);

    const table = (text: string) => {
      const [head, ...rows] = text.trimEnd().split('\n');
      const starts = [...head!.matchAll(/\S+/g)].map((m) => m.index!);
      const cols = [...head!.matchAll(/\S+/g)].map((m) => m[0]);
      return rows.map((row) => Object.fromEntries(cols.map((c, i) => [c, row.slice(starts[i], starts[i + 1]).trim()])));
    };
    const rowsOne = table(one.stdout);
    expect(rowsOne.map((r) => [r.CONTAINER, r.STATE, r['CREATED-BY'], r.PRESET]).sort()).toEqual(
      Object.entries(names).map(([preset, n]) => [n, want[n], 'debugger', preset]).sort(),
    );
    const rowsAll = table(all.stdout).filter((r) => r.NAMESPACE === ns);
    expect(rowsAll.map((r) => [r.POD, r.CONTAINER, r.STATE, r['CREATED-BY']]).sort()).toEqual(Object.values(names).map((n) => ['web', n, want[n], 'debugger']).sort());

    const data = JSON.parse(json.stdout);
    expect(data.map((r: any) => [r.container, r.state, r.createdBy, r.target]).sort()).toEqual(
      Object.entries(names).map(([preset, n]) => [n, want[n], 'debugger', preset === 'shell' || preset === 'crashloop' ? '-' : 'app']).sort(),
    );
  }, 60_000);
});


describe('the presets command and the preset file, through the built plugin', () => {
  const dir = tempDir('ke-presets-cli-');
  beforeAll(() => requireBuiltPlugin());
  afterAll(() => dir.remove());

  it('presets -o yaml is a preset file: fed back through KUBECTL_EPHEMERAL_CONFIG it prints itself, without YAML anchors', async () => {
    const first = await runPlugin(['presets', '-o', 'yaml']);
    expectExit(first, 0);
    expect(first.stdout).not.toMatch(/(^|\s)[&*][\w-]+/m);
    const file = dir.file('copy.yaml', first.stdout);
    const again = await runPlugin(['presets', '-o', 'yaml'], { env: { KUBECTL_EPHEMERAL_CONFIG: file } });
    expectExit(again, 0);
    expect(again.stdout).toBe(first.stdout);
    const wide = await runPlugin(['presets', '-o', 'wide'], { env: { KUBECTL_EPHEMERAL_CONFIG: file } });
    expect(wide.stdout).toMatch(new RegExp(`^network .* ${file.replace(/[.]/g, '\\.')}\\s+Network toolbox`, 'm'));
  });

  it('presets -o wide shows what each preset does at each Pod Security level', async () => {
    const r = await runPlugin(['presets', '-o', 'wide']);
    expectExit(r, 0);
    const [head, ...rows] = r.stdout.trimEnd().split('\n');
    expect(head!.split(/\s{2,}/)).toEqual(['NAME', 'ALIASES', 'IMAGE', 'TARGETS', 'PRIVILEGED', 'BASELINE', 'RESTRICTED', 'RECORD', 'SOURCE', 'SUMMARY']);
    const network = rows.find((l) => l.startsWith('network '))!.split(/\s{2,}/);
    expect(network.slice(4, 7)).toEqual([
      'root, +NET_ADMIN,NET_RAW,SETGID',
      "root, keeps NET_RAW,SETGID of the runtime's; cannot change links and routes (ip link set, ip route add)",
      'uid 65534, no caps; cannot capture packets (tcpdump -Z root), ping, change links and routes (ip link set, ip route add)',
    ]);
    // A limit of the preset at every level is not a level's cost: no column names it.
    expect(rows.find((l) => l.startsWith('forensics '))!.split(/\s{2,}/).slice(4, 7).join(' ')).not.toContain('cannot');
  });

  it("a preset file's abilities and examples show in that preset's --help and in presets -o wide; a preset without them shows neither", async () => {
    const file = dir.file(
      'abilities.yaml',
      [
        'presets:',
        '  tcp:',
        '    extends: network',
        '    image: registry.corp.example/tcp:1',
        '    abilities:',
        '      - {id: kill, what: close connections (ss -K), levels: [privileged], unless: needs NET_ADMIN}',
        '      - {id: curl, what: curl}',
        '    examples:',
        '      - {command: kubectl ephemeral tcp web -- ss -K dst 10.0.0.1, comment: close the connections to one peer}',
        '  plain:',
        '    extends: network',
        '    image: registry.corp.example/plain:1',
        '',
      ].join('\n'),
    );
    const env = { KUBECTL_EPHEMERAL_CONFIG: file };
    const help = await runPlugin(['tcp', '--help'], { env });
    expectExit(help, 0);
    // Help wraps to the width yargs picks: compared with whitespace folded.
    const flat = (text: string) => text.replace(/\s+/g, ' ');
    expect(flat(help.stdout)).toMatch(/ Examples: kubectl ephemeral tcp web -- ss -K dst 10\.0\.0\.1 # close the connections to one peer /);
    expect(flat(help.stdout)).toContain(flat(
      [
        "What a pod session can do, by Pod Security level (the namespace's enforced level picks the form; --level forces one):",
        '  privileged: root, +NET_ADMIN,NET_RAW,SETGID',
        '    can:    close connections (ss -K)',
        '    can:    curl',
        "  baseline: root, keeps NET_RAW,SETGID of the runtime's",
        '    can:    curl',
        '    cannot: close connections (ss -K): needs NET_ADMIN',
      ].join('\n')),
    );
    const plain = await runPlugin(['plain', '--help'], { env });
    expectExit(plain, 0);
    expect(plain.stdout).not.toContain('What a pod session can do');
    expect(plain.stdout).not.toContain('tcpdump -Z root -i any -nn -c 20');
    const wide = await runPlugin(['presets', '-o', 'wide'], { env });
    expect(wide.stdout.split('\n').find((l) => l.startsWith('tcp '))).toContain("root, keeps NET_RAW,SETGID of the runtime's; cannot close connections (ss -K)");
  });

  it.each([
    ['a named file that is missing', null, (f: string) => `error: ${f}: no such preset file (named by KUBECTL_EPHEMERAL_CONFIG); create it or unset KUBECTL_EPHEMERAL_CONFIG`],
    ['a preset named like a command', 'presets:\n  list:\n    image: busybox\n', (f: string) => `error: ${f}:2: presets.list: "list" is a kubectl ephemeral command; name the preset otherwise; fix the file or unset KUBECTL_EPHEMERAL_CONFIG`],
    ['an unknown capability', 'presets:\n  x:\n    image: a\n    capabilities: [NET_RAWW]\n', (f: string) => `error: ${f}:4: presets.x.capabilities: unknown capability "NET_RAWW" (names as in capabilities(7) without CAP_, e.g. NET_RAW); fix the file or unset KUBECTL_EPHEMERAL_CONFIG`],
    ['an inherited key', 'presets:\n  x:\n    image: a\n    constructor: root\n', (f: string) => expect.stringMatching(new RegExp(`^error: ${f}:4: presets\\.x\\.constructor: unknown field`))],
    ['extends of an unknown preset', 'presets:\n  x:\n    extends: nope\n', (f: string) => `error: ${f}:3: presets.x.extends: no preset named "nope" (define it above, or extend a built-in); fix the file or unset KUBECTL_EPHEMERAL_CONFIG`],
  ])('%s: exit 78 with one line naming the file and line, for every command', async (_t, text, line) => {
    const file = `${dir.dir}/${Math.random().toString(36).slice(2)}.yaml`;
    if (text !== null) writeFileSync(file, text);
    for (const args of [['presets'], ['shell', 'web', '--dry-run']]) {
      const r = await runPlugin(args, { env: { KUBECTL_EPHEMERAL_CONFIG: file } });
      expectExit(r, 78);
      expect(theErrorLine(r)).toEqual(line(file));
    }
  });
});

describe("the target's user, as the API server carries it", () => {
  let ns = '';
  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('plugin-target-user');
    createObject(aPod('named').withContainer('app', { image: 'nginx:1.27' }).withNodeName(clusterEnv().fakeNode).build(), { namespace: ns });
    createObject(aPod('nonroot').withPodSecurityContext({ runAsNonRoot: true }).withContainer('app', { image: 'nginx:1.27' }).withNodeName(clusterEnv().fakeNode).build(), { namespace: ns });
    createObject(aPod('silent').withContainer('app', { image: 'nginx:1.27' }).withNodeName(clusterEnv().fakeNode).build(), { namespace: ns });
    for (const pod of ['named', 'nonroot', 'silent']) markPodRunning(ns, pod);
    // The test, as a kubelet whose runtime reports the user (KEP-3619): uid 1000, gid 2000.
    const status = getPod(ns, 'named').status;
    writeContainerStatuses(ns, 'named', { containerStatuses: status.containerStatuses.map((c: any) => ({ ...c, user: { linux: { uid: 1000, gid: 2000, supplementalGroups: [2000] } } })) });
  });
  afterAll(() => deleteTestNamespace(ns));

  // A server before 1.31 drops ContainerStatus.user (server-versions.ts): "named" then names no user.
  const keepsUser = serverExpectations().containerStatusUser;
  const rootByDefault: [object, string[]] = [{ runAsUser: 0, runAsGroup: 0, runAsNonRoot: false }, [`note: container "app" names no user: the debug shell runs as root, the image's default; if the app runs as another user, pass --run-as=UID[:GID]`]];
  const namedUser: [object, string[]] = [{ runAsUser: 1000, runAsGroup: 2000, runAsNonRoot: true, capabilities: { drop: ['ALL'] } }, []];
  it.each<[string, string, object, string[]]>([
    ['named', keepsUser ? 'the user its status reports' : 'root: this server drops the user its status would report', ...(keepsUser ? namedUser : rootByDefault)],
    ['silent', "the image's default, root, with the target's (default) capabilities", ...rootByDefault],
    ['nonroot', 'nobody, with a note, when runAsNonRoot hides the uid', { runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true, capabilities: { drop: ['ALL'] } }, [`note: container "app" runs as a non-root user its pod spec does not name (runAsNonRoot without runAsUser): the debug shell runs as uid 65534, which cannot read another user's /proc/1/root; pass --run-as=UID[:GID] with the app's user`]],
  ])('process on %s runs as %s', async (pod, _t, securityContext, notes) => {
    expect(getPod(ns, 'named').status.containerStatuses[0].user).toEqual(keepsUser ? { linux: { uid: 1000, gid: 2000, supplementalGroups: [2000] } } : undefined);
    const r = await runPlugin(['process', pod, '-n', ns, '--context', 'debugger', '--dry-run', '-o', 'json']);
    expectExit(r, 0);
    expect(stderrLines(r)).toEqual(notes);
    const sc = JSON.parse(r.stdout).spec.ephemeralContainers[0].securityContext;
    expect(sc).toEqual({ allowPrivilegeEscalation: false, seccompProfile: { type: 'RuntimeDefault' }, ...securityContext });
  });
});
