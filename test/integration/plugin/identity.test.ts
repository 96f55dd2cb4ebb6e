// Who the plugin talks to the API server as: RBAC refusals, and kubectl's own flags for choosing
// the cluster, namespace and identity (-n, --context, --kubeconfig, KUBECONFIG, --as, --as-group).
import { aPod } from '../../support/builders';
import { auditEventsSince, auditLogSize, createObject, createTestNamespace, deleteTestNamespace, getPod } from '../../support/cluster';
import { createRunningPod, KubeletStandIn } from '../../support/kubelet';
import { expectExit, requireBuiltPlugin, runPlugin, serverContainer, standaloneKubeconfig, stderrLines, tempDir, theErrorLine } from '../../support/plugin';

jest.setTimeout(60_000);

const creatorOf = (c: any) => c?.env?.find((e: any) => e.name === 'KUBECTL_EPHEMERAL_USER')?.value;

describe('identity and kubectl flags', () => {
  let ns = '';
  let kubelet: KubeletStandIn;
  let files: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('plugin-identity');
    for (const name of ['web', 'api']) {
      createRunningPod(ns, aPod(name).withContainer('app', { image: 'nginx:1.27' }).build());
    }
    // A group that exists only in the impersonation headers, bound to the debugger role here.
    createObject(
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'ke-test-debuggers' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kubectl-ephemeral-debugger' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'ke-test-debuggers' }],
      },
      { namespace: ns },
    );
    files = tempDir('ke-identity-');
    kubelet = new KubeletStandIn(ns).start();
  });
  afterAll(async () => {
    await kubelet?.stop();
    files?.remove();
    deleteTestNamespace(ns);
  });

  it('reader: exit 77, one line naming patch and pods/ephemeralcontainers, nothing created', async () => {
    const from = auditLogSize();
    const r = await runPlugin(['shell', 'web', '-n', ns, '--context', 'reader', '--no-attach']);
    expectExit(r, 77);
    expect(stderrLines(r)).toHaveLength(1);
    expect(theErrorLine(r)).toMatch(/^error: user "reader" cannot patch pods\/ephemeralcontainers in namespace "[^"]+"/);
    expect(r.stdout).toBe('');
    expect(getPod(ns, 'web').spec.ephemeralContainers).toBeUndefined();
    const writes = auditEventsSince(from, 'reader').filter((e) => e.objectRef?.namespace === ns && ['patch', 'update', 'create'].includes(e.verb) && e.objectRef?.resource === 'pods');
    expect(writes).toEqual([]);
  });

  it('--as reader from the admin context: impersonation reaches the server, which refuses the reader (77)', async () => {
    const from = auditLogSize();
    const r = await runPlugin(['network', 'web', '-n', ns, '--context', 'admin', '--as', 'reader', '--no-attach']);
    expectExit(r, 77);
    expect(stderrLines(r)).toEqual([expect.stringMatching(/^error: user "reader" cannot patch pods\/ephemeralcontainers/)]);
    expect(getPod(ns, 'web').spec.ephemeralContainers).toBeUndefined();
    // The API server saw admin's credentials acting as reader.
    const impersonated = auditEventsSince(from, 'kubernetes-admin').filter((e) => e.impersonatedUser?.username === 'reader');
    expect(impersonated.length).toBeGreaterThan(0);
    expect(auditEventsSince(from, 'kubernetes-admin').filter((e) => !e.impersonatedUser && e.userAgent?.startsWith('kubectl-ephemeral/'))).toEqual([]);
  });

  it('--as-group: a group granted the debugger role in this namespace lets an impersonated user in; without it, 77 (status written by the test acting as kubelet)', async () => {
    const denied = await runPlugin(['shell', 'web', '-n', ns, '--context', 'admin', '--as', 'alice', '--no-attach']);
    expectExit(denied, 77);
    theErrorLine(denied);
    const r = await runPlugin(['shell', 'web', '-n', ns, '--context', 'admin', '--as', 'alice', '--as-group', 'ke-test-debuggers', '--name', 'as-group', '--no-attach']);
    expectExit(r, 0);
    expect(r.stdout).toBe('as-group\n');
    expect(stderrLines(r)).toContain(`attach with: kubectl ephemeral attach web as-group -n ${ns} --context admin --as alice --as-group ke-test-debuggers`);
    expect(creatorOf(await serverContainer(ns, 'web', 'as-group'))).toBe('alice');
  });

  it('-n and --context pick the namespace and identity; without -n the context namespace is used', async () => {
    const admin = await runPlugin(['shell', 'web', '-n', ns, '--context', 'admin', '--name', 'by-admin', '--no-attach']);
    expectExit(admin, 0);
    expect(creatorOf(await serverContainer(ns, 'web', 'by-admin'))).toBe('kubernetes-admin');

    // A kubeconfig whose debugger context defaults to the test namespace.
    const cfg = standaloneKubeconfig('debugger');
    cfg.contexts[0].context.namespace = ns;
    const file = files.file('debugger-ns.json', JSON.stringify(cfg));
    const r = await runPlugin(['shell', 'api', '--kubeconfig', file, '--name', 'ctx-ns', '--no-attach']);
    expectExit(r, 0);
    expect(stderrLines(r)).toContain(`attach with: kubectl ephemeral attach api ctx-ns -n ${ns} --kubeconfig ${file}`);
    expect(creatorOf(await serverContainer(ns, 'api', 'ctx-ns'))).toBe('debugger');
    // -n wins over the context namespace.
    const other = await runPlugin(['shell', 'api', '--kubeconfig', file, '-n', 'default', '--no-attach']);
    expectExit(other, 66);
    expect(theErrorLine(other)).toMatch(/pod "api" not found in namespace "default"/);
  });

  it('--kubeconfig wins over KUBECONFIG', async () => {
    const reader = files.file('reader.json', JSON.stringify(standaloneKubeconfig('reader')));
    const debuggerFile = files.file('debugger.json', JSON.stringify(standaloneKubeconfig('debugger')));
    const r = await runPlugin(['shell', 'web', '-n', ns, '--kubeconfig', debuggerFile, '--name', 'flag-file', '--no-attach'], { env: { KUBECONFIG: reader } });
    expectExit(r, 0);
    expect(creatorOf(await serverContainer(ns, 'web', 'flag-file'))).toBe('debugger');
    // And KUBECONFIG alone is used when there is no flag.
    const viaEnv = await runPlugin(['shell', 'web', '-n', ns, '--no-attach'], { env: { KUBECONFIG: reader } });
    expectExit(viaEnv, 77);
  });

  it('KUBECONFIG with two files: a context held by the second file is found, by --context or as its current-context', async () => {
    const first = standaloneKubeconfig('reader');
    const second = standaloneKubeconfig('debugger');
    const a = files.file('first.json', JSON.stringify(first));
    const b = files.file('second.json', JSON.stringify(second));
    const env = { KUBECONFIG: `${a}:${b}` };
    const r = await runPlugin(['shell', 'web', '-n', ns, '--context', 'debugger', '--name', 'second-file', '--no-attach'], { env });
    expectExit(r, 0);
    expect(creatorOf(await serverContainer(ns, 'web', 'second-file'))).toBe('debugger');
    // The first file's current-context wins while it sets one (the reader is refused)...
    expectExit(await runPlugin(['shell', 'web', '-n', ns, '--no-attach'], { env }), 77);
    // ...and when it sets none, the second file's does.
    delete first['current-context'];
    files.file('first.json', JSON.stringify(first));
    const r2 = await runPlugin(['shell', 'web', '-n', ns, '--name', 'second-current', '--no-attach'], { env });
    expectExit(r2, 0);
    expect(creatorOf(await serverContainer(ns, 'web', 'second-current'))).toBe('debugger');
  });
});
