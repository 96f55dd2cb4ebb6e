// Presets in the form each Pod Security level admits, on the real node (issues 19 and 11): under
// baseline the network preset runs tcpdump and capture writes a pcap; under restricted it answers
// curl and says why tcpdump is missing; forensics and process read a ROOT target's files where the
// level allows root, and what they can change there is what the README says.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { aPod, restrictedContainer } from '../../support/builders';
import { auditEventsSince, auditLogSize, createObject, createTestNamespace, deleteTestNamespace, getPod, kubectlResult, waitForPodRunning } from '../../support/cluster';
import { expectExit, runPlugin, stderrLines, tempDir, theErrorLine } from '../../support/plugin';
import { describeOnRealNode, httpGet, inTerminal, SAMPLE_APP, sampleAppPod } from '../../support/terminal-session';

jest.setTimeout(180_000);

const ENFORCE = 'pod-security.kubernetes.io/enforce';
const BUSYBOX = 'docker.io/library/busybox:1.36';
const SECRET = 'planted-by-the-test';

/** busybox running as root (explicitly, or as the image default) with a root-only file in its filesystem. */
function rootTargetPod(name: string, explicitRoot: boolean): object {
  return aPod(name)
    .withContainer('app', {
      image: BUSYBOX,
      imagePullPolicy: 'IfNotPresent',
      command: ['sh', '-c', `echo ${SECRET} > /planted; chmod 600 /planted; exec sleep 1000000`],
      ...(explicitRoot ? { securityContext: { runAsUser: 0 } } : {}),
    })
    .withTerminationGracePeriod(1)
    .build();
}

/** The sample app as restricted admits it: non-root, no capabilities, seccomp RuntimeDefault. */
function restrictedAppPod(name: string): object {
  return aPod(name)
    .withRestrictedSecurity()
    .withPodSecurityContext({ runAsUser: 1000 })
    .withContainer('app', restrictedContainer({ image: SAMPLE_APP, imagePullPolicy: 'IfNotPresent' }))
    .withTerminationGracePeriod(1)
    .build();
}

const running = (ns: string, pod: string) => waitForPodRunning(ns, pod, 90_000);

describeOnRealNode(__filename)('presets under Pod Security levels on the real node', () => {
  const namespaces: string[] = [];
  let baseline = '';
  let restricted = '';
  let privileged = '';
  const home = tempDir('ke-e2e-levels-');

  beforeAll(async () => {
    baseline = await createTestNamespace('e2e-baseline', { [ENFORCE]: 'baseline' });
    restricted = await createTestNamespace('e2e-restricted', { [ENFORCE]: 'restricted' });
    privileged = await createTestNamespace('e2e-privileged', { [ENFORCE]: 'privileged' });
    namespaces.push(baseline, restricted, privileged);
    createObject(sampleAppPod('web'), { namespace: baseline });
    createObject(rootTargetPod('root-app', true), { namespace: baseline });
    createObject(rootTargetPod('image-root', false), { namespace: baseline });
    createObject(rootTargetPod('image-root', false), { namespace: privileged });
    createObject(restrictedAppPod('web'), { namespace: restricted });
    for (const [ns, pod] of [[baseline, 'web'], [baseline, 'root-app'], [baseline, 'image-root'], [privileged, 'image-root'], [restricted, 'web']] as const) await running(ns, pod);
  });
  afterAll(() => {
    namespaces.forEach((ns) => deleteTestNamespace(ns));
    home.remove();
  });

  describe('baseline', () => {
    it('net keeps the runtime NET_RAW: tcpdump -Z root sees a request, ping works, NET_ADMIN is refused, as the one line says', () =>
      inTerminal({}, async (t) => {
        const podIP = getPod(baseline, 'web').status.podIP;
        await t.runPlugin(['net', 'web', '-n', baseline, '--context', 'debugger']);
        await t.waitForShell();
        expect(t.screen).toContain(
          'Pod Security "baseline": the debug container runs as root keeping only NET_RAW, SETGID of the runtime\'s default capabilities; it cannot change links and routes (ip link set, ip route add): needs NET_ADMIN (privileged only); it can capture packets (tcpdump -Z root), ping, reach the app, list sockets and addresses (curl, ss, ip addr)',
        );
        expect(await t.command('grep CapBnd /proc/self/status')).toMatch(/CapBnd:\s+0000000000002040/);

        const since = t.mark();
        t.type('tcpdump -Z root -i any -nn -c 1 tcp port 8080\r');
        await t.waitFor(/listening on any/, { since, timeoutMs: 15_000, what: 'tcpdump to listen' });
        expect(await httpGet(`http://${podIP}:8080/`)).toBe(200);
        await t.waitFor(new RegExp(`IP \\S+ > ${podIP.replace(/\./g, '\\.')}\\.8080: Flags`), { since, timeoutMs: 15_000, what: 'the captured packet' });
        await t.waitFor(/1 packet captured/, { since, timeoutMs: 10_000 });

        expect(await t.command('ping -c 1 -W 2 127.0.0.1 >/dev/null && echo ping-ok')).toMatch(/^ping-ok$/m);
        expect(await t.command('curl -s -o /dev/null -w "%{http_code}\\n" http://localhost:8080/')).toMatch(/^200$/m);
        expect(await t.command('ip link set lo mtu 1400 2>&1')).toMatch(/Operation not permitted/);
        expect(await t.endPlugin('exit')).toBe(0);
      }));

    it('capture writes a pcap of a request with NET_RAW kept from the runtime defaults', async () => {
      const out = join(home.dir, 'baseline.pcap');
      const podIP = getPod(baseline, 'web').status.podIP;
      const capture = runPlugin(['capture', 'web', '-n', baseline, '--context', 'debugger', '-f', 'tcp port 8080', '--count', '1', '-w', out], { timeoutMs: 90_000 });
      // Requests until the capture has one (it starts listening a moment after the container runs).
      const poke = setInterval(() => void httpGet(`http://${podIP}:8080/`).catch(() => undefined), 500);
      const r = await capture.finally(() => clearInterval(poke));
      expectExit(r, 0);
      expect(stderrLines(r)).toContain('Pod Security "baseline": the debug container runs as root keeping only NET_RAW, SETGID of the runtime\'s default capabilities');
      expect(readFileSync(out).subarray(0, 4).toString('hex')).toBe('d4c3b2a1');
      const decoded = execFileSync('tcpdump', ['-nn', '-r', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      expect(decoded).toMatch(new RegExp(`${podIP.replace(/\./g, '\\.')}\\.8080`));
    });

    it("forensics on a root target (runAsUser 0) runs as root with the target's own capabilities and reads its root-only file; it can also write there and signal it", () =>
      inTerminal({}, async (t) => {
        await t.runPlugin(['forensics', 'root-app', '-n', baseline, '--context', 'debugger', '--no-record']);
        await t.waitForShell();
        expect(await t.command('id -u')).toMatch(/^0$/m);
        expect(await t.command('cat /proc/1/root/planted')).toMatch(new RegExp(`^${SECRET}$`, 'm'));
        // What the README says it can change: the target's files (as its user) and its processes.
        expect(await t.command('echo x > /proc/1/root/tmp/forensics-wrote && echo wrote')).toMatch(/^wrote$/m);
        expect(await t.command('kill -0 1 && echo can-signal')).toMatch(/^can-signal$/m);
        // Its own root filesystem is read-only.
        expect(await t.command('touch /mine 2>&1')).toMatch(/Read-only file system/);
        expect(await t.endPlugin('exit')).toBe(0);
        expect(kubectlResult(['exec', 'root-app', '-c', 'app', '--', 'cat', '/tmp/forensics-wrote'], { namespace: baseline }).stdout).toBe('x\n');
      }));

    it("process on a root image that names no user runs as root, the image's default, says so, and reads /proc/1/root", () =>
      inTerminal({}, async (t) => {
        await t.runPlugin(['process', 'image-root', '-n', baseline, '--context', 'debugger']);
        await t.waitForShell();
        expect(t.screen).toContain(`note: container "app" names no user: the debug shell runs as root, the image's default; if the app runs as another user, pass --run-as=UID[:GID]`);
        expect(await t.command('cat /proc/1/root/planted')).toMatch(new RegExp(`^${SECRET}$`, 'm'));
        // Exactly the target's capabilities: containerd's default set, nothing added.
        expect(await t.command('grep CapEff /proc/self/status')).toMatch(/CapEff:\s+00000000a80425fb/);
        expect(await t.endPlugin('exit')).toBe(0);
      }));

    it('--level restricted on a root target: the note says /proc/1/root is unreadable, and it is', () =>
      inTerminal({}, async (t) => {
        await t.runPlugin(['process', 'root-app', '-n', baseline, '--context', 'debugger', '--level', 'restricted']);
        await t.waitForShell();
        expect(t.screen).toContain('note: container "app" runs as root and Pod Security "restricted" forbids root: the debug shell runs as uid 65534');
        expect(await t.command('id -u')).toMatch(/^65534$/m);
        expect(await t.command('cat /proc/1/root/planted 2>&1')).toMatch(/Permission denied/);
        expect(await t.command('ps -o pid,user,args | grep -c "sleep 1000000"')).toMatch(/^[1-9]/m);
        expect(await t.endPlugin('exit')).toBe(0);
      }));
  });

  describe('privileged', () => {
    it('forensics reads a root target', async () =>
      inTerminal({}, async (t) => {
        await t.runPlugin(['forensics', 'image-root', '-n', privileged, '--context', 'debugger', '--no-record']);
        await t.waitForShell();
        expect(await t.command('cat /proc/1/root/planted')).toMatch(new RegExp(`^${SECRET}$`, 'm'));
        expect(await t.endPlugin('exit')).toBe(0);
      }));
  });

  describe('restricted', () => {
    it('net runs as nobody without capabilities: curl answers, tcpdump and ping fail, as the one line says', () =>
      inTerminal({}, async (t) => {
        await t.runPlugin(['net', 'web', '-n', restricted, '--context', 'debugger']);
        await t.waitForShell();
        expect(t.screen).toContain(
          'Pod Security "restricted": the debug container runs as uid 65534 without capabilities; it cannot capture packets (tcpdump -Z root) or ping: needs NET_RAW as root; change links and routes (ip link set, ip route add): needs NET_ADMIN (privileged only); it can reach the app, list sockets and addresses (curl, ss, ip addr)',
        );
        expect(await t.command('id -u')).toMatch(/^65534$/m);
        expect(await t.command('curl -s -o /dev/null -w "%{http_code}\\n" http://localhost:8080/')).toMatch(/^200$/m);
        expect(await t.command('ss -lnt')).toMatch(/LISTEN\s.*[:*]8080\s/);
        expect(await t.command('timeout 5 tcpdump -Z root -i any -c 1 2>&1; echo "tcpdump-exit=$?"')).toMatch(/(Operation not permitted|permission)[\s\S]*tcpdump-exit=[1-9]/i);
        expect(await t.command('ping -c 1 -W 2 127.0.0.1 2>&1; echo "ping-exit=$?"')).toMatch(/ping-exit=[1-9]/);
        expect(await t.endPlugin('exit')).toBe(0);
      }));

    it('capture is refused before anything is created (65), naming restricted and what to do', async () => {
      const out = join(home.dir, 'restricted.pcap');
      const from = auditLogSize();
      const names = () => (getPod(restricted, 'web').spec.ephemeralContainers ?? []).map((c: any) => c.name);
      const before = names();
      const r = await runPlugin(['capture', 'web', '-n', restricted, '--context', 'debugger', '-w', out], { timeoutMs: 60_000 });
      expectExit(r, 65);
      expect(theErrorLine(r)).toMatch(
        new RegExp(`^error: namespace "${restricted}" enforces Pod Security "restricted": the debug container violates .*; tcpdump needs root with NET_RAW, which restricted forbids: capture where baseline or privileged applies, or use the network preset for curl and ss here$`),
      );
      expect(auditEventsSince(from, 'debugger').filter((e) => e.verb === 'patch' && e.objectRef?.namespace === restricted)).toEqual([]);
      expect(names()).toEqual(before);
      expect(existsSync(out)).toBe(false);
    });
  });
});
