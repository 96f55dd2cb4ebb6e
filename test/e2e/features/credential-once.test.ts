// Issue 24 on the real node: an exec credential plugin runs once per `kubectl ephemeral` run, however
// many kubectl the run spawns (the early attach and its retries, capture, collect, cleanup's keys),
// and an interactive one prompts once for a whole session. Every spawned kubectl gets the run's own
// kubeconfig in a private directory, which is gone when the run ends. Skips unless
// `scripts/cluster.sh up --node` has run (fails under CI).
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aPod } from '../../support/builders';
import { clusterEnv, createObject, createTestNamespace, deleteTestNamespace, KUBECTL, waitForPodRunning } from '../../support/cluster';
import { serviceAccountToken, writeExecCredentialScript } from '../../support/connections';
import { expectExit, requireBuiltPlugin, runPlugin, standaloneKubeconfig, startPlugin, tempDir } from '../../support/plugin';
import { eventually } from '../../support/wait';
import { describeOnRealNode, inTerminal, SAMPLE_APP } from '../../support/terminal-session';

jest.setTimeout(240_000);

const describeNode = describeOnRealNode('test/e2e/features/credential-once.test.ts');
const PASSWORD = 'ke-once-pw-7';
const PROMPT = 'ke-login password: ';

describeNode('one credential per run, whatever the run spawns', () => {
  let ns = '';
  const home = tempDir('ke-e2e-cred-');
  const runtime = join(home.dir, 'runtime');
  const spawnLog = join(home.dir, 'spawned');
  // kubectl as the plugin spawns it, each run logged with its arguments.
  const wrapper = join(home.dir, 'kubectl-logged');
  const env = { XDG_RUNTIME_DIR: runtime, XDG_STATE_HOME: join(home.dir, 'state'), KUBECTL_EPHEMERAL_KUBECTL: wrapper };
  let config = '';
  let loginConfig = '';
  const execDir = join(home.dir, 'exec');
  const runs = () => Number(readFileSync(join(execDir, 'runs'), 'utf8').trim() || '0');
  const spawned = () => readFileSync(spawnLog, 'utf8').split('\n').filter(Boolean);

  /** After a run: every kubectl it spawned used the run's own kubeconfig, and that is gone. */
  const expectChildrenUsedTheRunsKubeconfig = (since: number) => {
    const lines = spawned().slice(since);
    expect(lines.length).toBeGreaterThan(0);
    // The session's first attach may have started while the run waited for its credential: on the relay's kubeconfig beside it.
    for (const l of lines) expect(l).toMatch(new RegExp(`^attach .* --kubeconfig ${runtime}/kubectl-ephemeral-\\w+/kubeconfig(-ahead)? -n ${ns}( |$)`));
    expect(readdirSync(runtime)).toEqual([]);
    return lines;
  };

  beforeAll(async () => {
    requireBuiltPlugin();
    ns = await createTestNamespace('e2e-cred');
    mkdirSync(runtime, { mode: 0o700 });
    mkdirSync(execDir);
    writeFileSync(spawnLog, '');
    writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> '${spawnLog}'\ndate +%s%N >> '${spawnLog}.times'\nexec '${KUBECTL}' "$@"\n`);
    chmodSync(wrapper, 0o755);
    const token = serviceAccountToken(ns, 'once-user');
    writeFileSync(join(execDir, 'token'), token);
    writeExecCredentialScript(join(execDir, 'login'), execDir, 3600);
    writeFileSync(join(execDir, 'runs'), '0');
    const cfg = standaloneKubeconfig('admin');
    cfg.users[0].user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: join(execDir, 'login'), interactiveMode: 'Never' } };
    cfg.contexts[0].context.namespace = ns;
    config = home.file('exec.json', JSON.stringify(cfg));
    // The same user behind a plugin that asks for a password on the terminal (kubelogin-like).
    const login = home.file('login.sh', [
      '#!/bin/sh',
      'stty -echo 2>/dev/null',
      `printf '%s' '${PROMPT}' >&2`,
      'read -r answer',
      'stty echo 2>/dev/null',
      'echo >&2',
      `echo "$answer" >> '${join(home.dir, 'login-runs')}'`,
      `[ "$answer" = '${PASSWORD}' ] || exit 1`,
      `echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${token}"}}'`,
      '',
    ].join('\n'));
    chmodSync(login, 0o755);
    writeFileSync(join(home.dir, 'login-runs'), '');
    const lcfg = standaloneKubeconfig('admin');
    lcfg.users[0].user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: login, interactiveMode: 'IfAvailable' } };
    lcfg.contexts[0].context.namespace = ns;
    loginConfig = home.file('login.json', JSON.stringify(lcfg));
    createObject(aPod('web').withContainer('app', { image: SAMPLE_APP, imagePullPolicy: 'IfNotPresent', securityContext: { runAsUser: 1000 } }).withNodeName(clusterEnv().nodeName).withTerminationGracePeriod(1).build(), { namespace: ns });
    await waitForPodRunning(ns, 'web', 90_000);
  });
  afterAll(() => {
    deleteTestNamespace(ns);
    home.remove();
  });

  /** A shell session on pod web with kubeconfig `config`: a typed command answers, and exit ends it with 0. */
  const shellSession = (kubeconfig: string) =>
    inTerminal({ env }, async (t) => {
      await t.runPlugin(['shell', 'web', '--kubeconfig', kubeconfig]);
      await t.waitForShell();
      expect(await t.command('echo once-$((6*7))')).toMatch(/^once-42$/m);
      expect(await t.endPlugin('exit')).toBe(0);
    });

  it('a session (the early attach and its spare or retries): one run of the plugin, each kubectl attach on the run\'s kubeconfig', async () => {
    const [before, from] = [runs(), spawned().length];
    await shellSession(config);
    const lines = expectChildrenUsedTheRunsKubeconfig(from);
    for (const l of lines) expect(l).toMatch(/^attach -i -t --quiet web -c debugger-[\w-]+ /);
    expect(runs() - before).toBe(1);
  });

  it('a slow credential plugin (1 s): the session\'s kubectl attach starts before it answered, gets the run\'s credential through the relay, and the plugin runs once', async () => {
    const slowDir = join(home.dir, 'slow');
    mkdirSync(slowDir);
    writeFileSync(join(slowDir, 'token'), readFileSync(join(execDir, 'token')));
    const slow = home.file('slow/login', `#!/bin/sh\nsleep 1\ndate +%s%N >> '${slowDir}/answered'\nexec '${join(execDir, 'login')}' "$@"\n`);
    chmodSync(slow, 0o755);
    const cfg = JSON.parse(readFileSync(config, 'utf8'));
    cfg.users[0].user.exec.command = slow;
    const slowConfig = home.file('slow.json', JSON.stringify(cfg));
    const [before, from] = [runs(), spawned().length];
    await shellSession(slowConfig);
    const lines = expectChildrenUsedTheRunsKubeconfig(from);
    // The first on the relay's kubeconfig: it asked the run for the credential.
    expect(lines[0]).toMatch(/ --kubeconfig \S+\/kubeconfig-ahead -n /);
    expect(runs() - before).toBe(1);
    const [firstAttach] = readFileSync(`${spawnLog}.times`, 'utf8').split('\n').filter(Boolean).slice(from).map(BigInt);
    const [answered] = readFileSync(join(slowDir, 'answered'), 'utf8').split('\n').filter(Boolean).map(BigInt);
    expect(firstAttach! < answered!).toBe(true);
  });

  it('capture, collect and cleanup (each spawns kubectl): one run of the plugin each', async () => {
    let [before, from] = [runs(), spawned().length];
    const capture = await runPlugin(['capture', 'web', '--kubeconfig', config, '--duration', '3s', '-w', join(home.dir, 'web.pcap')], { env, timeoutMs: 120_000 });
    expectExit(capture, 0);
    expectChildrenUsedTheRunsKubeconfig(from);
    expect(runs() - before).toBe(1);

    [before, from] = [runs(), spawned().length];
    const collect = await runPlugin(['collect', 'web', '--kubeconfig', config, '-w', join(home.dir, 'web.tar')], { env, timeoutMs: 180_000 });
    expectExit(collect, 0);
    expectChildrenUsedTheRunsKubeconfig(from);
    expect(runs() - before).toBe(1);

    // A debug container left running, which cleanup ends by typing into it.
    const started = await runPlugin(['shell', 'web', '--kubeconfig', config, '--no-attach'], { env, timeoutMs: 90_000 });
    expectExit(started, 0);
    [before, from] = [runs(), spawned().length];
    const cleanup = await runPlugin(['cleanup', 'web', '--kubeconfig', config], { env, timeoutMs: 120_000 });
    expectExit(cleanup, 0);
    expect(cleanup.stdout).toMatch(new RegExp(`debug container ${started.stdout.trim()} of ${ns}/web: ended`));
    expectChildrenUsedTheRunsKubeconfig(from);
    expect(runs() - before).toBe(1);
  });

  it('the run\'s private directory (0700, files 0600) lives while the run does and goes with SIGTERM', async () => {
    const from = spawned().length;
    const { child, done } = startPlugin(['capture', 'web', '--kubeconfig', config, '-w', join(home.dir, 'term.pcap')], { env, timeoutMs: 120_000 });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await eventually(async () => /listening on/.test(stderr), 60_000, `tcpdump to listen; stderr:\n${stderr}`);
    const [own] = readdirSync(runtime);
    expect(statSync(join(runtime, own!)).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(join(runtime, own!))) expect(statSync(join(runtime, own!, f)).mode & 0o777).toBe(0o600);
    child.kill('SIGTERM');
    await done;
    expectChildrenUsedTheRunsKubeconfig(from);
  });

  it('an interactive plugin (interactiveMode IfAvailable) prompts once for a whole session, in a real terminal', async () => {
    const from = spawned().length;
    await inTerminal({ env }, async (t) => {
      const since = t.mark();
      await t.runPlugin(['shell', 'web', '--kubeconfig', loginConfig]);
      await t.waitFor(PROMPT, { since, what: 'the login prompt' });
      t.type(`${PASSWORD}\r`);
      await t.waitForShell();
      expect(await t.command('echo typed-$((6*7))')).toMatch(/^typed-42$/m);
      expect(await t.endPlugin('exit')).toBe(0);
      expect(t.text(since).split(PROMPT).length - 1).toBe(1);
      expect(t.text(since)).not.toContain(PASSWORD);
      await t.expectCookedMode();
    });
    expectChildrenUsedTheRunsKubeconfig(from);
    expect(readFileSync(join(home.dir, 'login-runs'), 'utf8').split('\n').filter(Boolean)).toEqual([PASSWORD]);
  });
});
