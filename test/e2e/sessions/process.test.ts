// `kubectl ephemeral process POD` on the real node: busybox in the target's process namespace.
import { createObject, createTestNamespace, deleteTestNamespace, getPod } from '../../support/cluster';
import { eventually } from '../../support/wait';
import { describeOnRealNode, inTerminal, sampleAppPod } from '../../support/terminal-session';

jest.setTimeout(120_000);

describeOnRealNode(__filename)('process POD: a shell in the target process namespace', () => {
  let ns = '';

  beforeAll(async () => {
    ns = await createTestNamespace('e2e-process');
    createObject(sampleAppPod('web'), { namespace: ns });
    await eventually(async () => getPod(ns, 'web').status?.phase === 'Running', 60_000, `pod ${ns}/web Running`);
  });
  afterAll(() => {
    if (ns) deleteTestNamespace(ns);
  });

  it("shows the app's httpd as PID 1 in ps", () =>
    inTerminal({}, async (t) => {
      await t.runPlugin(['process', 'web', '-n', ns, '--context', 'debugger']);
      await t.waitForShell();
      const ps = await t.command('ps -o pid,user,args');
      expect(ps).toMatch(/^\s*1\s+1000\s+\/bin\/httpd -f -v -p 8080 -h \/app$/m);
      expect(await t.command('head -c 1 /proc/1/root/app/VERSION; echo')).toMatch(/^1$/m);
      expect(await t.endPlugin('exit')).toBe(0);
      await t.expectCookedMode();
    }));
});
