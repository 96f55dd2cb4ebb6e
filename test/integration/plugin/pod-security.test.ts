// Pod Security admission: the plugin refuses before sending what the API server would refuse, and
// its prediction is checked against what the server says when the same patch is sent anyway.
import { aPod, restrictedContainer } from '../../support/builders';
import { addEphemeralContainer, auditEventsSince, auditLogSize, clusterEnv, createObject, createTestNamespace, deleteTestNamespace, getPod, kubectl, patchEphemeralContainers } from '../../support/cluster';
import { createRunningPod, KubeletStandIn, markPodRunning } from '../../support/kubelet';
import { expectExit, requireBuiltPlugin, runPlugin, stderrLines, theErrorLine } from '../../support/plugin';

jest.setTimeout(60_000);

const ENFORCE = 'pod-security.kubernetes.io/enforce';

/** The plugin's container for a preset, from its client dry run (what it would send). */
async function dryRunContainer(preset: string, ns: string, name: string, extra: string[] = [], pod = 'web'): Promise<any> {
  const r = await runPlugin([preset, pod, '-n', ns, '--context', 'debugger', '--name', name, ...extra, '--dry-run', '-o', 'json']);
  expectExit(r, 0);
  return JSON.parse(r.stdout).spec.ephemeralContainers[0];
}

/** Sends that container as kubectl would, skipping the plugin's preflight: the API server's own verdict. */
function serverVerdict(ns: string, container: object, dryRun = false, pod = 'web'): { ok: boolean; message: string } {
  return patchEphemeralContainers(ns, pod, { spec: { ephemeralContainers: [container] } }, { context: 'debugger', dryRun });
}

/** Runs `work` over `items`, `width` at a time (each item spawns processes; the CPU is shared). */
async function inBatches<T, R>(items: T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(work))));
  return out;
}

/** The debugger's ephemeral container PATCHes in one namespace (other suites may run at the same time). */
const ephemeralPatches = (from: number, ns: string) =>
  auditEventsSince(from, 'debugger').filter(
    (e) => e.verb === 'patch' && e.objectRef?.namespace === ns && e.objectRef?.subresource === 'ephemeralcontainers' && e.stage === 'ResponseComplete',
  );

describe('Pod Security', () => {
  const namespaces: string[] = [];
  beforeAll(() => requireBuiltPlugin());
  afterAll(() => namespaces.forEach((ns) => deleteTestNamespace(ns)));

  describe('a restricted namespace', () => {
    let ns = '';
    beforeAll(async () => {
      ns = await createTestNamespace('plugin-restricted', { [ENFORCE]: 'restricted' });
      namespaces.push(ns);
      createRunningPod(ns, aPod('web').withRestrictedSecurity().withContainer('app', restrictedContainer({ image: 'nginx:1.27' })).build());
    });

    it('refuses network --level privileged before sending: exit 65 naming "restricted", capabilities and the fix, no PATCH in the audit log', async () => {
      const from = auditLogSize();
      const r = await runPlugin(['net', 'web', '-n', ns, '--context', 'debugger', '--no-attach', '--level', 'privileged']);
      expectExit(r, 65);
      expect(stderrLines(r)).toHaveLength(1);
      const line = theErrorLine(r);
      expect(line).toContain(`namespace "${ns}" enforces Pod Security "restricted"`);
      expect(line).toMatch(/violates capabilities \(spec\.ephemeralContainers\[0\]\.securityContext\.capabilities\.add: container "debugger-network-[a-z0-9]{5}" adds NET_ADMIN, NET_RAW\); drop --level to let the plugin choose the form "restricted" allows$/);
      expect(ephemeralPatches(from, ns)).toEqual([]);
      // Not even a dry-run PATCH: the refusal is the plugin's own.
      expect(auditEventsSince(from, 'debugger').filter((e) => e.verb === 'patch' && e.objectRef?.namespace === ns)).toEqual([]);
      expect(getPod(ns, 'web').spec.ephemeralContainers).toBeUndefined();
    });

    it('the API server, sent the same container anyway, refuses it for the same reason', async () => {
      const v = serverVerdict(ns, await dryRunContainer('network', ns, 'unchecked-net', ['--level', 'privileged']));
      expect(v.ok).toBe(false);
      expect(v.message).toContain('violates PodSecurity "restricted:latest"');
      expect(v.message).toMatch(/unrestricted capabilities \(container "unchecked-net" must not include "NET_ADMIN", "NET_RAW", "SETGID" in securityContext\.capabilities\.add\)/);
      expect(getPod(ns, 'web').spec.ephemeralContainers).toBeUndefined();
    });

    it("chooses network's restricted form and says so in one line; --dry-run prints that form", async () => {
      const r = await runPlugin(['net', 'web', '-n', ns, '--context', 'debugger', '--dry-run', '-o', 'json']);
      expectExit(r, 0);
      expect(stderrLines(r)).toEqual([
        'Pod Security "restricted": the debug container runs as uid 65534 without capabilities; it cannot capture packets (tcpdump -Z root) or ping: needs NET_RAW as root; change links and routes (ip link set, ip route add): needs NET_ADMIN (privileged only); it can reach the app, list sockets and addresses (curl, ss, ip addr)',
      ]);
      const c = JSON.parse(r.stdout).spec.ephemeralContainers[0];
      expect({ workingDir: c.workingDir, securityContext: c.securityContext }).toEqual({
        workingDir: '/',
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' }, runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true },
      });
    });

    it.each([
      [['--run-as', 'root'], 'drop --run-as or choose a user "restricted" allows (non-root)'],
      [['--privileged'], 'drop --privileged: Pod Security "restricted" forbids it'],
    ])('an explicit %j is not weakened: refused before sending (65): "%s"', async (flags, fix) => {
      const from = auditLogSize();
      const r = await runPlugin(['shell', 'web', '-n', ns, '--context', 'debugger', '--no-attach', ...flags]);
      expectExit(r, 65);
      expect(theErrorLine(r)).toMatch(new RegExp(`^error: namespace "${ns}" enforces Pod Security "restricted": the debug container violates .*; ${fix.replace(/[()]/g, '\\$&')}$`));
      expect(auditEventsSince(from, 'debugger').filter((e) => e.verb === 'patch' && e.objectRef?.namespace === ns)).toEqual([]);
    });

    it('lets shell in: it is restricted-compatible, and the audit log shows the one PATCH (status written by the test acting as kubelet)', async () => {
      const from = auditLogSize();
      const kubelet = new KubeletStandIn(ns).start();
      const r = await runPlugin(['shell', 'web', '-n', ns, '--context', 'debugger', '--name', 'restricted-shell', '--no-attach']).finally(() => kubelet.stop());
      expectExit(r, 0);
      expect(r.stdout).toBe('restricted-shell\n');
      expect(getPod(ns, 'web').spec.ephemeralContainers.map((c: any) => c.name)).toEqual(['restricted-shell']);
      expect(ephemeralPatches(from, ns).map((e) => [e.responseStatus.code, e.requestURI.includes('dryRun')])).toEqual([[200, false]]);
    });
  });

  describe.each(['privileged', 'baseline', 'restricted'])('every preset in every form at %s: the plugin predicts exactly what the API server decides', (level) => {
    let ns = '';
    const PRESETS = ['network', 'forensics', 'crashloop', 'process', 'shell'];
    // "auto": the form the plugin chooses; the others forced with --level.
    const FORMS = ['auto', 'privileged', 'baseline', 'restricted'];
    // A pod restricted admits (uid 65534), and one whose app runs as root (created before the label:
    // restricted would refuse it, and then refuses every debug container because of it).
    const PODS = ['web', 'rootweb'];
    beforeAll(async () => {
      ns = await createTestNamespace(`plugin-predict-${level}`);
      namespaces.push(ns);
      createObject(aPod('web').withRestrictedSecurity().withContainer('app', restrictedContainer({ image: 'nginx:1.27' })).withNodeName(clusterEnv().fakeNode).build(), { namespace: ns });
      createObject(aPod('rootweb').withContainer('app', { image: 'nginx:1.27', securityContext: { runAsUser: 0 } }).withNodeName(clusterEnv().fakeNode).build(), { namespace: ns });
      markPodRunning(ns, 'web');
      markPodRunning(ns, 'rootweb');
      kubectl(['label', 'namespace', ns, `${ENFORCE}=${level}`, '--overwrite']);
    });

    it('--dry-run=server refuses (65, without sending) exactly the containers the server refuses', async () => {
      const cases = PODS.flatMap((pod) => PRESETS.flatMap((preset) => FORMS.map((form) => ({ pod, preset, form, name: `p-${pod}-${preset}-${form}` }))));
      const results = await inBatches(cases, 6, async (c) => {
        const extra = c.form === 'auto' ? [] : ['--level', c.form];
        const container = await dryRunContainer(c.preset, ns, c.name, extra, c.pod);
        const server = serverVerdict(ns, container, true, c.pod);
        // A refusal must be Pod Security's, or the comparison would count an unrelated error as one.
        if (!server.ok) expect(server.message).toContain(`violates PodSecurity "${level}:latest"`);
        const plugin = await runPlugin([c.preset, c.pod, '-n', ns, '--context', 'debugger', '--name', c.name, ...extra, '--dry-run=server', '-o', 'json']);
        expect([0, 65]).toContain(plugin.code);
        return { ...c, plugin: plugin.code === 0, server: server.ok, message: server.message };
      });
      const verdicts = (of: 'plugin' | 'server') => Object.fromEntries(results.map((r) => [r.name, r[of]]));
      // The prediction is exact: never refused what the server accepts, never accepted what it refuses.
      expect(verdicts('plugin')).toEqual(verdicts('server'));
      // And no built-in preset is refused outright where its job is possible: every one is admitted
      // on a compliant pod in its chosen form; on the root pod, everywhere but restricted.
      const auto = results.filter((r) => r.form === 'auto');
      expect(auto.filter((r) => r.pod === 'web').every((r) => r.server)).toBe(true);
      expect(auto.filter((r) => r.pod === 'rootweb').every((r) => r.server === (level !== 'restricted'))).toBe(true);
      // Each preset's own form is what privileged admits; network's is refused by baseline and restricted.
      const forced = (pod: string, preset: string, form: string) => results.find((r) => r.pod === pod && r.preset === preset && r.form === form)!.server;
      expect(forced('web', 'network', 'privileged')).toBe(level === 'privileged');
      expect(forced('web', 'network', 'baseline')).toBe(level !== 'restricted');
      expect(forced('web', 'network', 'restricted')).toBe(true);
      expect(getPod(ns, 'web').spec.ephemeralContainers).toBeUndefined();
      expect(getPod(ns, 'rootweb').spec.ephemeralContainers).toBeUndefined();
    }, 600_000);
  });

  describe('a baseline namespace whose pod already holds a privileged ephemeral container', () => {
    let ns = '';
    beforeAll(async () => {
      // Created while the namespace is still privileged: baseline would have refused it.
      ns = await createTestNamespace('plugin-baseline');
      namespaces.push(ns);
      createRunningPod(ns, aPod('web').withContainer('app', { image: 'nginx:1.27' }).build());
      addEphemeralContainer(ns, 'web', { name: 'root-shell', image: 'busybox:1.36', stdin: true, tty: true, securityContext: { privileged: true } });
      kubectl(['label', 'namespace', ns, `${ENFORCE}=baseline`, '--overwrite']);
    });

    it('refuses shell, explaining that the earlier container blocks every later one (65, nothing sent)', async () => {
      const from = auditLogSize();
      const r = await runPlugin(['shell', 'web', '-n', ns, '--context', 'debugger', '--no-attach']);
      expectExit(r, 65);
      const line = theErrorLine(r);
      expect(line).toContain(`pod "web" already holds ephemeral container root-shell that violates Pod Security "baseline" of namespace "${ns}"`);
      expect(line).toContain('container "root-shell" is privileged, spec.ephemeralContainers[0].securityContext.privileged');
      expect(line).toContain('every new debug container is rejected until the pod is replaced');
      expect(ephemeralPatches(from, ns)).toEqual([]);
      expect(getPod(ns, 'web').spec.ephemeralContainers.map((c: any) => c.name)).toEqual(['root-shell']);
    });

    it('the API server, sent the harmless shell container anyway, refuses it because of root-shell', async () => {
      const shell = await dryRunContainer('shell', ns, 'unchecked-shell');
      expect(shell.securityContext).toMatchObject({ allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
      const v = serverVerdict(ns, shell);
      expect(v.ok).toBe(false);
      expect(v.message).toContain('violates PodSecurity "baseline:latest"');
      expect(v.message).toContain('privileged (container "root-shell" must not set securityContext.privileged=true)');
      expect(v.message).not.toContain('unchecked-shell');
      expect(getPod(ns, 'web').spec.ephemeralContainers.map((c: any) => c.name)).toEqual(['root-shell']);
    });
  });
});
