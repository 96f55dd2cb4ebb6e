// What each built-in preset's help, `presets -o wide` and the README say it can and cannot do at each
// Pod Security level (its `abilities`, src/presets/builtin.ts), run on the real node: per preset and
// level, one session in a namespace enforcing that level runs the check of every ability, and each
// must succeed exactly where the preset claims the ability. An ability without a check here fails.
import { aPod, restrictedContainer } from '../../support/builders';
import { createObject, createTestNamespace, deleteTestNamespace, waitForPodRunning } from '../../support/cluster';
import { describeRun, runPlugin } from '../../support/plugin';
import { describeOnRealNode, SAMPLE_APP } from '../../support/terminal-session';
import { BUILTIN_PRESETS } from '../../../src/presets/builtin';
import { canAt, POD_SECURITY_LEVELS, type PodSecurityLevel } from '../../../src/presets/preset';

jest.setTimeout(240_000);

/**
 * A shell command per ability id that succeeds exactly when the session has the ability, run against
 * the pod below (the sample app: httpd as PID 1 on :8080, uid 1000, env KE_APP, an emptyDir at /ke-data).
 */
const CHECKS: Record<string, string> = {
  // A packet really captured: the refused connections to 127.0.0.1:1 go on until tcpdump has one
  // (it exits nonzero at once when it may not open its socket, which ends the loop).
  capture: 'tcpdump -Z root -i lo -nn -c 1 tcp port 1 & p=$!; while kill -0 $p 2>/dev/null; do curl -s -m 1 http://127.0.0.1:1/; done; wait $p',
  ping: 'ping -c 1 -W 2 127.0.0.1',
  // Changes that leave the pod as it was: lo's own MTU, a documentation-range route added and removed.
  'net-admin': 'ip link set lo mtu "$(cat /sys/class/net/lo/mtu)" && ip route add 192.0.2.0/24 dev lo && ip route del 192.0.2.0/24 dev lo',
  'pod-network': "curl -sf -o /dev/null http://localhost:8080/ && ss -lnt | grep -q ':8080 ' && ip -4 addr show eth0 | grep -q inet",
  'app-http': 'wget -qO /dev/null http://localhost:8080/',
  // [h]: the check's own command line (PID 1 where processes are not shared) must not match itself.
  'target-processes': "ps -o pid,args | grep -q '^ *1 .*/bin/[h]ttpd'",
  'target-files': 'head -c 1 /proc/1/root/app/VERSION | grep -q 1',
  'change-target': 'touch /proc/1/root/tmp/ke-probe && rm /proc/1/root/tmp/ke-probe && kill -0 1',
  'own-fs-write': 'touch /ke-own-probe',
  'app-volumes-env': 'grep -q " /ke-data " /proc/mounts && [ "$KE_APP" = probe ]',
};

/** The script a session runs: every check of the preset, each printing "ability ID STATUS". */
function checkScript(ids: string[]): string {
  return ids.map((id) => `( ${CHECKS[id]} ) >/dev/null 2>&1; echo "ability ${id} $?"`).join('\n');
}

/** The sample app in a form every level admits, with an env variable and a volume for crashloop's mirror. */
function appPod(): object {
  return aPod('web')
    .withRestrictedSecurity()
    .withPodSecurityContext({ runAsUser: 1000 })
    .withContainer('app', restrictedContainer({ image: SAMPLE_APP, imagePullPolicy: 'IfNotPresent', env: { KE_APP: 'probe' }, volumeMounts: [{ name: 'data', mountPath: '/ke-data' }] }))
    .withVolume({ name: 'data', emptyDir: {} })
    .withTerminationGracePeriod(1)
    .build();
}

describe('every ability of a built-in preset has a check', () => {
  it.each(BUILTIN_PRESETS.map((p) => [p.name, p.abilities.map((a) => a.id)]))('%s', (_name, ids) => {
    expect(ids.filter((id) => !CHECKS[id])).toEqual([]);
    expect(ids.length).toBeGreaterThan(0);
  });
});

describeOnRealNode(__filename)('what each preset can and cannot do at each Pod Security level, on the real node', () => {
  const ns: Partial<Record<PodSecurityLevel, string>> = {};

  beforeAll(async () => {
    for (const level of POD_SECURITY_LEVELS) {
      ns[level] = await createTestNamespace(`e2e-abilities-${level}`, { 'pod-security.kubernetes.io/enforce': level });
      createObject(appPod(), { namespace: ns[level] });
    }
    for (const level of POD_SECURITY_LEVELS) await waitForPodRunning(ns[level]!, 'web', 90_000);
  });
  afterAll(() => {
    for (const n of Object.values(ns)) deleteTestNamespace(n!);
  });

  const cases = BUILTIN_PRESETS.flatMap((p) => POD_SECURITY_LEVELS.map((level) => [p.name, level, p] as const));
  it.each(cases)('%s under %s: each ability works exactly where the preset says', async (name, level, preset) => {
    const ids = preset.abilities.map((a) => a.id);
    // The script is piped into the preset's own shell: it runs once attached, so none of its output
    // can go before the attach (a `-- sh -c` command may start printing before it).
    const r = await runPlugin([name, 'web', '-n', ns[level]!, '--context', 'debugger', '--no-record'], { input: `${checkScript(ids)}\nexit 0\n`, timeoutMs: 180_000 });
    const got = Object.fromEntries([...r.stdout.matchAll(/^ability (\S+) (\d+)$/gm)].map((m) => [m[1]!, m[2] === '0' ? 'can' : 'cannot']));
    const claimed = Object.fromEntries(preset.abilities.map((a) => [a.id, canAt(a, level) ? 'can' : 'cannot']));
    if (Object.keys(got).length !== ids.length) throw new Error(`expected one line per ability, got ${describeRun(r)}`);
    expect(got).toEqual(claimed);
  });
});
