// Pod Security admission: the plugin refuses before sending what the API server would refuse, and
// its prediction is checked against what the server says when the same patch is sent anyway.
import { aPod, restrictedContainer } from '../../support/builders';
import { addEphemeralContainer, auditEventsSince, auditLogSize, clusterEnv, createObject, getPod, kubectl, markPodRunning, patchEphemeralContainers } from '../../support/cluster';
import {
  createTestNamespace,
  expectExit,
  KubeletStandIn,
  removeNamespace,
  requireBuiltPlugin,
  runPlugin,
  stderrLines,
  theErrorLine,
} from '../../support/plugin';

jest.setTimeout(60_000);

const ENFORCE = 'pod-security.kubernetes.io/enforce';

/** The plugin's container for a preset, from its client dry run (what it would send). */
async function dryRunContainer(preset: string, ns: string, name: string): Promise<any> {
  const r = await runPlugin([preset, 'web', '-n', ns, '--context', 'debugger', '--name', name, '--dry-run', '-o', 'json']);
  expectExit(r, 0);
  return JSON.parse(r.stdout).spec.ephemeralContainers[0];
}

/** Sends that container as kubectl would, skipping the plugin's preflight: the API server's own verdict. */
function serverVerdict(ns: string, container: object, dryRun = false): { ok: boolean; message: string } {
  return patchEphemeralContainers(ns, 'web', { spec: { ephemeralContainers: [container] } }, { context: 'debugger', dryRun });
}

/** The debugger's ephemeral container PATCHes in one namespace (other suites may run at the same time). */
const ephemeralPatches = (from: number, ns: string) =>
  auditEventsSince(from, 'debugger').filter(
    (e) => e.verb === 'patch' && e.objectRef?.namespace === ns && e.objectRef?.subresource === 'ephemeralcontainers' && e.stage === 'ResponseComplete',
  );

describe('Pod Security', () => {
  const namespaces: string[] = [];
  beforeAll(() => requireBuiltPlugin());
  afterAll(() => namespaces.forEach(removeNamespace));

  describe('a restricted namespace', () => {
    let ns = '';
    beforeAll(() => {
      ns = createTestNamespace('plugin-restricted', { [ENFORCE]: 'restricted' });
      namespaces.push(ns);
      createObject(aPod('web').withRestrictedSecurity().withContainer('app', restrictedContainer({ image: 'nginx:1.27' })).withNodeName(clusterEnv().fakeNode).build(), { namespace: ns });
      markPodRunning(ns, 'web');
    });

    it('refuses network before sending: exit 65 naming "restricted" and capabilities, no PATCH in the audit log', async () => {
      const from = auditLogSize();
      const r = await runPlugin(['net', 'web', '-n', ns, '--context', 'debugger', '--no-attach']);
      expectExit(r, 65);
      expect(stderrLines(r)).toHaveLength(1);
      const line = theErrorLine(r);
      expect(line).toContain(`namespace "${ns}" enforces Pod Security "restricted"`);
      expect(line).toMatch(/violates capabilities \(spec\.ephemeralContainers\[0\]\.securityContext\.capabilities\.add: container "debugger-network-[a-z0-9]{5}" adds NET_ADMIN, NET_RAW\)/);
      expect(ephemeralPatches(from, ns)).toEqual([]);
      // Not even a dry-run PATCH: the refusal is the plugin's own.
      expect(auditEventsSince(from, 'debugger').filter((e) => e.verb === 'patch' && e.objectRef?.namespace === ns)).toEqual([]);
      expect(getPod(ns, 'web').spec.ephemeralContainers).toBeUndefined();
    });

    it('the API server, sent the same container anyway, refuses it for the same reason', async () => {
      const v = serverVerdict(ns, await dryRunContainer('network', ns, 'unchecked-net'));
      expect(v.ok).toBe(false);
      expect(v.message).toContain('violates PodSecurity "restricted:latest"');
      expect(v.message).toMatch(/unrestricted capabilities \(container "unchecked-net" must not include "NET_ADMIN", "NET_RAW" in securityContext\.capabilities\.add\)/);
      expect(getPod(ns, 'web').spec.ephemeralContainers).toBeUndefined();
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

  describe.each(['restricted', 'baseline'])('every preset at %s: the plugin predicts exactly what the API server decides', (level) => {
    let ns = '';
    beforeAll(() => {
      ns = createTestNamespace(`plugin-predict-${level}`, { [ENFORCE]: level });
      namespaces.push(ns);
      createObject(aPod('web').withRestrictedSecurity().withContainer('app', restrictedContainer({ image: 'nginx:1.27' })).withNodeName(clusterEnv().fakeNode).build(), { namespace: ns });
      markPodRunning(ns, 'web');
    });

    it('--dry-run=server refuses (65, without sending) exactly the presets the server refuses', async () => {
      const presets = ['network', 'forensics', 'crashloop', 'process', 'shell'];
      const containers = await Promise.all(presets.map((p) => dryRunContainer(p, ns, `predict-${p}`)));
      const server = containers.map((c) => serverVerdict(ns, c, true).ok);
      const from = auditLogSize();
      const plugin = await Promise.all(presets.map((p) => runPlugin([p, 'web', '-n', ns, '--context', 'debugger', '--name', `predict-${p}`, '--dry-run=server', '-o', 'json'])));
      plugin.forEach((r) => expect([0, 65]).toContain(r.code));
      const verdicts = Object.fromEntries(presets.map((p, i) => [p, { plugin: plugin[i]!.code === 0, server: server[i] }]));
      expect(Object.fromEntries(presets.map((p, i) => [p, plugin[i]!.code === 0]))).toEqual(Object.fromEntries(presets.map((p, i) => [p, server[i]])));
      // network is the one both refuse at either level (NET_ADMIN and NET_RAW are beyond baseline).
      expect(verdicts.network).toEqual({ plugin: false, server: false });
      expect(verdicts.shell).toEqual({ plugin: true, server: true });
      // A refusal is a prediction: only the accepted presets reached the server (as dry runs).
      const sent = ephemeralPatches(from, ns).filter((e) => e.userAgent?.startsWith('kubectl-ephemeral/'));
      expect(sent.map((e) => [e.responseStatus.code, e.requestURI.includes('dryRun=All')])).toEqual(server.filter(Boolean).map(() => [200, true]));
      expect(getPod(ns, 'web').spec.ephemeralContainers).toBeUndefined();
    });
  });

  describe('a baseline namespace whose pod already holds a privileged ephemeral container', () => {
    let ns = '';
    beforeAll(() => {
      // Created while the namespace is still privileged: baseline would have refused it.
      ns = createTestNamespace('plugin-baseline');
      namespaces.push(ns);
      createObject(aPod('web').withContainer('app', { image: 'nginx:1.27' }).withNodeName(clusterEnv().fakeNode).build(), { namespace: ns });
      markPodRunning(ns, 'web');
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
