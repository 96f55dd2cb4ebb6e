// An exec credential plugin that logs in on the terminal (kubelogin's device or password prompt,
// gke-gcloud-auth-plugin's reauth), run in a real pty next to kubectl with the same kubeconfig:
// with interactiveMode IfAvailable or Always the plugin gets the terminal itself (it turns echo
// off, reads the typed password, turns echo on), then the run goes on with its credential, and the
// terminal is back in cooked mode afterwards. Never gets no stdin, even on a terminal; Always
// without a terminal fails before the plugin runs.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aPod } from '../../support/builders';
import { clusterEnv, createObject, createTestNamespace, deleteTestNamespace, KUBECTL, kubectlJsonAsync } from '../../support/cluster';
import { KubeletStandIn, markPodRunning } from '../../support/kubelet';
import { runKubectl, serviceAccountToken } from '../../support/connections';
import { expectExit, requireBuiltPlugin, runPlugin, standaloneKubeconfig, stderrLines, tempDir } from '../../support/plugin';
import { inTerminal, type Terminal } from '../../support/terminal-session';

jest.setTimeout(120_000);

const PASSWORD = 'ke-s3cret-42';
const PROMPT = 'ke-login password: ';

describe('exec credential plugins that log in on the terminal (interactiveMode), as kubectl runs them', () => {
  let ns = '';
  let files: ReturnType<typeof tempDir>;
  let kubelet: KubeletStandIn;

  /**
   * A kubeconfig whose user is an exec plugin with `mode`: the script prompts on stderr, reads the
   * password from its stdin with echo off, records what it got in `<dir>/got`, and answers with a
   * ServiceAccount token only for the right password.
   */
  const loginKubeconfig = (name: string, mode: string): { config: string; got: () => string[] } => {
    const dir = join(files.dir, name);
    const token = files.file(`${name}-token`, serviceAccountToken(ns, 'login-user'));
    const script = files.file(`${name}-login`, [
      '#!/bin/sh',
      // Echo off before the prompt shows: the test types as soon as it sees it.
      'stty -echo 2>/dev/null',
      `printf '%s' '${PROMPT}' >&2`,
      'read -r answer',
      'stty echo 2>/dev/null',
      'echo >&2',
      `echo "interactive=$(echo "$KUBERNETES_EXEC_INFO" | grep -o '"interactive":[a-z]*') answer=$answer" >> "${dir}-got"`,
      `[ "$answer" = '${PASSWORD}' ] || { echo 'ke-login: wrong or no password' >&2; exit 1; }`,
      `echo "{\\"apiVersion\\":\\"client.authentication.k8s.io/v1\\",\\"kind\\":\\"ExecCredential\\",\\"status\\":{\\"token\\":\\"$(cat "${token}")\\"}}"`,
      '',
    ].join('\n'));
    chmodSync(script, 0o755);
    const cfg = standaloneKubeconfig('admin');
    cfg.users[0].user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: script, interactiveMode: mode } };
    cfg.contexts[0].context.namespace = ns;
    writeFileSync(`${dir}-got`, '');
    return { config: files.file(`${name}.json`, JSON.stringify(cfg)), got: () => readFileSync(`${dir}-got`, 'utf8').split('\n').filter(Boolean) };
  };

  /** Types `command` into the terminal's bash, answers the login prompt, resolves with the screen and exit code. */
  const loginThrough = async (t: Terminal, command: string, answer: boolean): Promise<{ screen: string; code: number }> => {
    const since = t.mark();
    t.type(`${command}; echo "run-exit=$?"\r`);
    await t.waitFor(PROMPT, { since, what: 'the login prompt' });
    if (answer) t.type(`${PASSWORD}\r`);
    const m = await t.waitFor(/run-exit=(\d+)\n/, { since, what: 'the end of the run' });
    return { screen: t.text(since), code: Number(m[1]) };
  };

  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('conn-login');
    createObject(aPod('web').withContainer('app', { image: 'nginx:1.27' }).withNodeName(clusterEnv().fakeNode).build(), { namespace: ns });
    markPodRunning(ns, 'web');
    files = tempDir('ke-conn-login-');
    kubelet = new KubeletStandIn(ns).start();
  });
  afterAll(async () => {
    await kubelet?.stop();
    files?.remove();
    deleteTestNamespace(ns);
  });

  it.each([['IfAvailable'], ['Always']])('%s on a terminal: the plugin prompts there, gets the typed password (not echoed), the run goes on, the terminal is restored (kubectl: same)', async (mode) => {
    const { config, got } = loginKubeconfig(`login-${mode}`, mode);
    await inTerminal({}, async (t) => {
      const k = await loginThrough(t, `${KUBECTL} --kubeconfig ${config} get pod web -o name`, true);
      expect([k.code, k.screen]).toEqual([0, expect.stringContaining('pod/web')]);
      expect(k.screen).not.toContain(PASSWORD);
      await t.expectCookedMode();

      const name = `login-${mode.toLowerCase()}`;
      const p = await loginThrough(t, `${join(__dirname, '../../../plugin/kubectl-ephemeral')} shell web --kubeconfig ${config} --name ${name} --no-attach`, true);
      expect(p.code).toBe(0);
      expect(p.screen).toMatch(new RegExp(`${PROMPT}\\s*\\n[\\s\\S]*\\n${name}\\n`));
      expect(p.screen).not.toContain(PASSWORD);
      await t.expectCookedMode();
    });
    expect(got()).toEqual([`interactive="interactive":true answer=${PASSWORD}`, `interactive="interactive":true answer=${PASSWORD}`]);
    const pod = await kubectlJsonAsync(['get', 'pod', 'web'], { namespace: ns });
    const made = pod.spec.ephemeralContainers.find((c: any) => c.name === `login-${mode.toLowerCase()}`);
    expect(made.env).toEqual(expect.arrayContaining([{ name: 'KUBECTL_EPHEMERAL_USER', value: `system:serviceaccount:${ns}:login-user` }]));
  });

  it('Never on a terminal: the plugin gets no stdin (end of file at once), so this login fails for both, with its message', async () => {
    const { config, got } = loginKubeconfig('login-never', 'Never');
    await inTerminal({}, async (t) => {
      const k = await loginThrough(t, `${KUBECTL} --kubeconfig ${config} get pod web -o name`, false);
      expect(k.code).toBe(1);
      expect(k.screen).toContain('ke-login: wrong or no password');
      const p = await loginThrough(t, `${join(__dirname, '../../../plugin/kubectl-ephemeral')} list --kubeconfig ${config}`, false);
      expect(p.code).toBe(77);
      expect(p.screen).toMatch(/error: exec credential plugin "[^"]+" of user "admin" failed with exit code 1: ke-login: wrong or no password; log in again or fix the plugin/);
      await t.expectCookedMode();
    });
    // kubectl runs a failing plugin several times (discovery retries); every run saw no terminal.
    expect(got().length).toBeGreaterThanOrEqual(2);
    expect(new Set(got())).toEqual(new Set(['interactive="interactive":false answer=']));
  });

  it('Always without a terminal (stdin a pipe): refused before the plugin runs, one line (kubectl refuses too)', async () => {
    const { config, got } = loginKubeconfig('login-always-pipe', 'Always');
    const k = await runKubectl(['--kubeconfig', config, 'get', 'pod', 'web']);
    expect([k.code, k.stderr]).toEqual([1, expect.stringContaining('exec plugin cannot support interactive mode: standard input is not a terminal')]);
    const r = await runPlugin(['list', '--kubeconfig', config], { input: `${PASSWORD}\n` });
    expectExit(r, 78);
    expect(stderrLines(r)).toEqual([expect.stringMatching(/^error: exec credential plugin "[^"]+" of user "admin" cannot support interactive mode: standard input is not a terminal \(interactiveMode Always, as kubectl says\); run it in a terminal$/)]);
    expect(got()).toEqual([]);
  });
});
