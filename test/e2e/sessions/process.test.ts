// `kubectl ephemeral process POD` on the real node: busybox in the target's process namespace.
import { deleteTestNamespace } from '../../support/cluster';
import { describeOnRealNode, inTerminal, sampleAppNamespace } from '../../support/terminal-session';

jest.setTimeout(120_000);

describeOnRealNode(__filename)('process POD: a shell in the target process namespace', () => {
  let ns = '';

  beforeAll(async () => {
    ns = await sampleAppNamespace('e2e-process');
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
