// `kubectl ephemeral net POD` on the real node, typed into a real terminal: the network debug shell
// sees the pod's address and listening port, and tcpdump in it sees a request made from the host.
import { deleteTestNamespace, getPod } from '../../support/cluster';
import { describeOnRealNode, httpGet, inTerminal, sampleAppNamespace } from '../../support/terminal-session';

jest.setTimeout(120_000);

// The built-in preset as it ships, no preset file: the local netshoot's tcpdump is Debian's, which
// `-Z root` keeps root (it still calls initgroups, hence SETGID in the preset).

describeOnRealNode(__filename)('net POD: a network debug shell in the pod', () => {
  let ns = '';
  let podIP = '';

  beforeAll(async () => {
    ns = await sampleAppNamespace('e2e-net');
    podIP = getPod(ns, 'web').status.podIP;
  });
  afterAll(() => {
    if (ns) deleteTestNamespace(ns);
  });

  it("shows the pod's IP in ip addr, :8080 in ss -lnt, and a request from the host in tcpdump", () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(['net', 'web', '-n', ns, '--context', 'debugger']);
      await t.waitForShell();
      expect(t.screen).toMatch(/tcpdump -Z root -i any -nn port 8080/); // the preset's banner

      const addr = await t.command('ip -4 addr show eth0');
      expect(addr).toContain(`inet ${podIP}/`);

      const ss = await t.command('ss -lnt');
      expect(ss).toMatch(/LISTEN\s.*[:*]8080\s/);

      const since = t.mark();
      t.type('tcpdump -Z root -i any -nn -c 1 tcp port 8080\r');
      await t.waitFor(/listening on any/, { since, timeoutMs: 15_000, what: 'tcpdump to listen' });
      expect(await httpGet(`http://${podIP}:8080/`)).toBe(200);
      const m = await t.waitFor(/^.*IP (\S+) > (\S+): Flags.*$/m, { since, timeoutMs: 15_000, what: 'the captured packet' });
      expect(`${m[1]} ${m[2]}`).toContain(`${podIP}.8080`);
      await t.waitFor(/1 packet captured/, { since, timeoutMs: 10_000 });

      expect(await t.endPlugin('exit')).toBe(0);
      await t.expectCookedMode();
    }));
});
