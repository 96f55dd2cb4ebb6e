// Hardening against the live server (RBAC and Pod Security on): the shipped least-privilege roles,
// the audit annotation (bounded, a warning when it cannot be written, tampering visible), and
// cluster-supplied text printed with its control characters escaped.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { aPod } from '../../support/builders';
import { applyManifest, clusterEnv, createObject, createTestNamespace, deleteTestNamespace, getPod, kubectl, kubectlResult } from '../../support/cluster';
import { createRunningPod, KubeletStandIn, markContainerCrashLooping, markPodRunning } from '../../support/kubelet';
import { expectExit, requireBuiltPlugin, runPlugin, stderrLines, theErrorLine } from '../../support/plugin';

jest.setTimeout(90_000);

const AUDIT = 'kubectl-ephemeral.dev/audit';
const ESC = '\x1b';

describe('hardening against the live server', () => {
  let ns = '';
  let kubelet: KubeletStandIn;
  const trailOf = (pod: string) => getPod(ns, pod).metadata.annotations?.[AUDIT] as string | undefined;
  const containersOf = (pod: string) => (getPod(ns, pod).spec.ephemeralContainers ?? []).map((c: any) => c.name);

  beforeAll(async () => {
    requireBuiltPlugin();
    // The shipped roles, as scripts/cluster.sh applies them (idempotent; the test cluster may
    // have been set up from an older copy of the file).
    applyManifest(readFileSync(join(__dirname, '..', '..', '..', 'scripts', 'cluster', 'rbac.yaml'), 'utf8'));
    ns = await createTestNamespace('plugin-hardening');
    for (const name of ['web', 'api', 'tamper', 'foreign']) {
      createRunningPod(ns, aPod(name).withContainer('app', { image: 'nginx:1.27' }).build());
    }
    // A pod whose annotations already fill most of the API server's 256 KiB.
    createRunningPod(ns, aPod('full').withAnnotations({ 'example.com/blob': 'x'.repeat(256 * 1024 - 100) }).withContainer('app').build());
    // A user granted the core role in this namespace only (a RoleBinding).
    createObject(
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'ns-only' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kubectl-ephemeral-debugger' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'ns-only' }],
      },
      { namespace: ns },
    );
    kubelet = new KubeletStandIn(ns).start();
  });
  afterAll(async () => {
    await kubelet?.stop();
    deleteTestNamespace(ns);
  });

  describe('RBAC: the core role alone', () => {
    const asCoreOnly = ['--context', 'admin', '--as', 'core-only'];

    it('cannot patch, create or delete pods, nor exec', () => {
      for (const [verb, resource] of [['patch', 'pods'], ['create', 'pods'], ['delete', 'pods'], ['create', 'pods/exec']] as const) {
        const r = kubectlResult(['auth', 'can-i', verb, resource, '-n', ns, '--as', 'core-only'], { context: 'admin' });
        expect(`${verb} ${resource}: ${r.stdout.trim()}`).toBe(`${verb} ${resource}: no`);
      }
    });

    it('debugs a pod; the audit annotation is skipped with a note naming the audit role (status written by the test acting as kubelet)', async () => {
      const r = await runPlugin(['shell', 'api', '-n', ns, ...asCoreOnly, '--name', 'core-only-1', '--no-attach']);
      expectExit(r, 0);
      expect(r.stdout).toBe('core-only-1\n');
      expect(stderrLines(r)).toContain(
        'note: audit annotation kubectl-ephemeral.dev/audit not written (no "patch pods": the ClusterRole kubectl-ephemeral-audit); the container env still records preset, user and reason',
      );
      expect(containersOf('api')).toContain('core-only-1');
      expect(trailOf('api')).toBeUndefined();
    });

    it('--copy: exit 77 naming the copy role, nothing created', async () => {
      const r = await runPlugin(['crashloop', 'web', '-n', ns, ...asCoreOnly, '--copy', '--no-attach']);
      expectExit(r, 77);
      expect(theErrorLine(r)).toBe(
        `error: user "core-only" cannot create and delete pods in namespace "${ns}" (needed by --copy); ask for the ClusterRole kubectl-ephemeral-copy (listed by kubectl ephemeral permissions), or debug without --copy`,
      );
      expect(kubectl(['get', 'pods', '-o', 'name'], { namespace: ns }).split('\n').filter(Boolean).sort()).toEqual(['pod/api', 'pod/foreign', 'pod/full', 'pod/tamper', 'pod/web']);
    });

    it('bound in one namespace only (a RoleBinding): list -A and cleanup -A fail (77) naming list pods and the role', async () => {
      const list = await runPlugin(['list', '-A', '--context', 'admin', '--as', 'ns-only']);
      expectExit(list, 77);
      expect(theErrorLine(list)).toMatch(/^error: cannot list pods for all namespaces: .*; ask for the ClusterRole kubectl-ephemeral-debugger \(listed by kubectl ephemeral permissions\)$/);
      const cleanup = await runPlugin(['cleanup', '-A', '--dry-run', '--context', 'admin', '--as', 'ns-only']);
      expectExit(cleanup, 77);
      expect(theErrorLine(cleanup)).toMatch(/^error: cannot list pods for all namespaces: /);
      // In its namespace the same user lists fine.
      expectExit(await runPlugin(['list', '-n', ns, '--context', 'admin', '--as', 'ns-only']), 0);
    });
  });

  describe('the audit annotation', () => {
    it('a write the annotations cannot hold is a warning: the session goes on and the pod is not touched (status written by the test acting as kubelet)', async () => {
      const r = await runPlugin(['shell', 'full', '-n', ns, '--context', 'debugger', '--name', 'in-full', '--no-attach']);
      expectExit(r, 0);
      expect(r.stdout).toBe('in-full\n');
      expect(stderrLines(r)).toContain(
        "warning: audit annotation kubectl-ephemeral.dev/audit not written: the pod's annotations would pass the API server's 256 KiB (what others wrote is never dropped); the container env still records preset, user and reason",
      );
      expect(trailOf('full')).toBeUndefined();
      expect(getPod(ns, 'full').metadata.annotations['example.com/blob']).toHaveLength(256 * 1024 - 100);
    });

    it('elements that are not entries are dropped with a warning, and a value that is not a trail is replaced with one', async () => {
      kubectl(['annotate', 'pod', 'foreign', `${AUDIT}=[{"note":"written by the SRE bot"}]`], { namespace: ns });
      const first = await runPlugin(['shell', 'foreign', '-n', ns, '--context', 'debugger', '--name', 'f-1', '--no-attach']);
      expectExit(first, 0);
      expect(stderrLines(first)).toContain(`warning: audit trail of pod "foreign": dropped 1 element(s) of ${AUDIT} that are not audit entries`);
      expect(JSON.parse(trailOf('foreign')!).map((e: any) => e.container)).toEqual(['f-1']);

      kubectl(['annotate', 'pod', 'foreign', '--overwrite', `${AUDIT}=see ticket INC-9`], { namespace: ns });
      const r = await runPlugin(['shell', 'foreign', '-n', ns, '--context', 'debugger', '--name', 'f-2', '--no-attach']);
      expectExit(r, 0);
      expect(stderrLines(r)).toContainEqual(
        expect.stringMatching(/^warning: audit trail of pod "foreign": kubectl-ephemeral\.dev\/audit is not JSON: it was replaced or hand-edited; replaced by a new trail \(its first entry's prev is the old value's digest [0-9a-f]{32}\)$/),
      );
      expect(JSON.parse(trailOf('foreign')!).map((e: any) => e.container)).toEqual(['f-2']);
    });

    it('tampering shows in list -o wide: an edited reason is "altered", a removed entry "missing", with a warning naming the break', async () => {
      for (const [name, reason] of [['t-1', 'INC-1'], ['t-2', 'INC-2'], ['t-3', 'INC-3']])
        expectExit(await runPlugin(['shell', 'tamper', '-n', ns, '--context', 'debugger', '--name', name!, '--reason', reason!, '--no-attach']), 0);
      const column = async () => {
        const r = await runPlugin(['list', 'tamper', '-n', ns, '--context', 'debugger', '-o', 'wide']);
        expectExit(r, 0);
        const [header, ...rows] = r.stdout.trim().split('\n').map((l) => l.split(/\s{3,}/));
        const at = header!.indexOf('AUDIT');
        return { audit: Object.fromEntries(rows.map((row) => [row[1], row[at]])), stderr: stderrLines(r).filter((l) => l.startsWith('warning:')) };
      };
      // The newest entry is pinned by no later container yet: said, not hidden.
      expect(await column()).toEqual({ audit: { 't-1': 'recorded', 't-2': 'recorded', 't-3': 'unanchored' }, stderr: [] });

      // Someone with patch pods rewrites the first reason and removes the last entry.
      const list = JSON.parse(trailOf('tamper')!);
      list[0].reason = 'routine check';
      list.pop();
      kubectl(['annotate', 'pod', 'tamper', '--overwrite', `${AUDIT}=${JSON.stringify(list)}`], { namespace: ns });
      expect(await column()).toEqual({
        audit: { 't-1': 'altered', 't-2': 'altered', 't-3': 'missing' },
        stderr: [
          `warning: audit trail of pod "tamper" in namespace "${ns}": the chain breaks before entry 2 (t-2): an entry before it was changed, removed or inserted`,
          `warning: audit trail of pod "tamper" in namespace "${ns}": the trail as it was when "t-2" was created is gone: an element before its entry was changed, removed or inserted since`,
          `warning: audit trail of pod "tamper" in namespace "${ns}": entry 1 (t-1) disagrees with the container's env stamp`,
        ],
      });
      // The env stamp, which nobody can change, still says INC-1.
      const r = await runPlugin(['list', 'tamper', '-n', ns, '--context', 'debugger', '-o', 'json']);
      expect(JSON.parse(r.stdout).find((row: any) => row.container === 't-1')).toMatchObject({ reason: 'INC-1', audit: 'altered' });
    });
  });

  describe('text from the cluster is printed with control characters escaped', () => {
    it('list -o wide: a reason holding a title-setting escape', async () => {
      const reason = `${ESC}]0;owned${String.fromCharCode(7)}${ESC}[2Jgone`;
      expectExit(await runPlugin(['shell', 'web', '-n', ns, '--context', 'debugger', '--name', 'esc-1', '--reason', reason, '--no-attach']), 0);
      const r = await runPlugin(['list', 'web', '-n', ns, '--context', 'debugger', '-o', 'wide']);
      expectExit(r, 0);
      expect(r.stdout).toContain('^[]0;owned^G^[[2Jgone');
      expect(r.stdout).not.toContain(ESC);
      // -o json escapes it the JSON way, and the value reads back whole.
      const json = await runPlugin(['list', 'web', '-n', ns, '--context', 'debugger', '-o', 'json']);
      expect(json.stdout).not.toContain(ESC);
      expect(JSON.parse(json.stdout).find((row: any) => row.container === 'esc-1').reason).toBe(reason);
    });

    it('the crash summary: an event message that would clear the screen', async () => {
      const created = createObject(aPod('crashy').withContainer('app', { image: 'nginx:1.27' }).withNodeName(clusterEnv().fakeNode).build(), { namespace: ns });
      markPodRunning(ns, 'crashy');
      markContainerCrashLooping(ns, 'crashy', 'app', 1, 'Error');
      const ts = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      createObject(
        {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name: 'crashy.1' },
          involvedObject: { apiVersion: 'v1', kind: 'Pod', name: 'crashy', namespace: ns, uid: created.metadata.uid },
          type: 'Warning',
          reason: 'BackOff',
          message: `${ESC}[2J${ESC}[Hroot@prod:~# `,
          count: 1,
          firstTimestamp: ts,
          lastTimestamp: ts,
          source: { component: 'kubelet' },
        },
        { namespace: ns },
      );
      const r = await runPlugin(['crashloop', 'crashy', '-n', ns, '--context', 'debugger', '--no-attach']);
      expectExit(r, 0);
      expect(stderrLines(r)).toContain('Warning BackOff: ^[[2J^[[Hroot@prod:~# ');
      expect(r.stderr).not.toContain(ESC);
    });
  });
});
