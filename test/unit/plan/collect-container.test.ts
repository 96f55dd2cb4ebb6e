import type { V1Pod } from '@kubernetes/client-node';
import { COLLECT_SCRIPT } from '../../../src/plan/collect-script';
import { buildCollectContainer, DEFAULT_COLLECT_PATHS, parseSize, validateCollectPath, type CollectRequest } from '../../../src/plan/collect-container';
import { evaluatePodSecurity } from '../../../src/plan/pod-security';
import { PresetRegistry } from '../../../src/presets/registry';
import { aPod, restrictedContainer } from '../../support/builders';

const forensics = PresetRegistry.from().get('forensics');
const request = (extra: Partial<CollectRequest> = {}): CollectRequest => ({ preset: forensics, paths: [], env: false, maxBytes: 1024, stamp: { user: 'alice', reason: 'INC-42' }, ...extra });
const build = (pod: Record<string, any>, extra: Partial<CollectRequest> = {}) => buildCollectContainer(pod as V1Pod, request(extra), 'abcde');

const env = (paths: string[], collectEnv = '', max = '1024') => [
  { name: 'KUBECTL_EPHEMERAL_PRESET', value: 'collect' },
  { name: 'KUBECTL_EPHEMERAL_USER', value: 'alice' },
  { name: 'KUBECTL_EPHEMERAL_REASON', value: 'INC-42' },
  { name: 'COLLECT_PID', value: '1' },
  { name: 'COLLECT_PATHS', value: paths.join('\n') },
  { name: 'COLLECT_ENV', value: collectEnv },
  { name: 'COLLECT_MAX', value: max },
];
const common = {
  name: 'debugger-collect-abcde',
  image: 'docker.io/library/busybox:1.36',
  command: ['sh', '-c', COLLECT_SCRIPT],
  stdin: true,
  stdinOnce: true,
  tty: false,
  terminationMessagePolicy: 'File',
  targetContainerName: 'app',
};
const rootReader = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsGroup: 0, runAsNonRoot: false, runAsUser: 0, seccompProfile: { type: 'RuntimeDefault' } };
const userReader = (uid: number, gid?: number) => ({
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: uid,
  ...(gid !== undefined ? { runAsGroup: gid } : {}),
  seccompProfile: { type: 'RuntimeDefault' },
});

describe('buildCollectContainer', () => {
  it.each([
    ['a root target (no user in the spec) is read as root with the runtime default capabilities', aPod('web').withContainer('app'), {}, rootReader, true],
    ['runAsUser 0 is root too', aPod('web').withContainer('app', { securityContext: { runAsUser: 0 } }), {}, rootReader, true],
    [
      'capabilities the target adds are added, so the reader holds a superset of its',
      aPod('web').withContainer('app', { securityContext: { capabilities: { add: ['NET_ADMIN'] } } }),
      {},
      { ...rootReader, capabilities: { add: ['NET_ADMIN'] } },
      true,
    ],
    ['a non-root target is read as its own uid and gid with no capability', aPod('web').withContainer('app', { securityContext: { runAsUser: 1000, runAsGroup: 3000 } }), {}, userReader(1000, 3000), false],
    ['the pod-level user counts', aPod('web').withPodSecurityContext({ runAsUser: 2000 }).withContainer('app'), {}, userReader(2000), false],
    ['--run-as names the user the spec does not', aPod('web').withContainer('app', { securityContext: { runAsNonRoot: true } }), { runAs: { kind: 'uid', uid: 1001, gid: 1001 } }, userReader(1001, 1001), false],
  ] as const)('%s', (_name, pod, extra, securityContext, asRoot) => {
    const plan = build(pod.build(), extra as Partial<CollectRequest>);
    expect(plan).toEqual({
      container: { ...common, env: env([...DEFAULT_COLLECT_PATHS]), securityContext },
      target: 'app',
      notices: [],
      paths: [...DEFAULT_COLLECT_PATHS],
      asRoot,
    });
  });

  it('adds --path after the defaults once, and passes --env, --max-size, -c and --image', () => {
    const pod = aPod('web').withContainer('app').withContainer('worker', { securityContext: { runAsUser: 1000 } }).build();
    const plan = build(pod, { container: 'worker', image: 'docker.io/library/busybox:1.37', paths: ['/app/logs', '/tmp'], env: true, maxBytes: 5 });
    expect(plan.container).toEqual({
      ...common,
      image: 'docker.io/library/busybox:1.37',
      targetContainerName: 'worker',
      env: env([...DEFAULT_COLLECT_PATHS, '/app/logs'], '1', '5'),
      securityContext: userReader(1000),
    });
  });

  it('root reader: baseline allows it, restricted refuses it; the user reader passes restricted', () => {
    const root = aPod('web').withContainer('app').build() as V1Pod;
    const rootPlan = build(root);
    expect(evaluatePodSecurity(root, rootPlan.container, 'baseline')).toEqual([]);
    expect([...new Set(evaluatePodSecurity(root, rootPlan.container, 'restricted').filter((v) => v.isNew).map((v) => v.check))].sort()).toEqual(['capabilities', 'runAsNonRoot', 'runAsUser']);
    const restricted = aPod('web').withRestrictedSecurity().withContainer('app', restrictedContainer({ securityContext: { runAsUser: 1000 } })).build() as V1Pod;
    expect(evaluatePodSecurity(restricted, build(restricted).container, 'restricted')).toEqual([]);
  });

  it.each([
    ['runAsNonRoot without a uid', aPod('web').withContainer('app', { securityContext: { runAsNonRoot: true } }), /^container "app" runs as a non-root user its pod spec does not name .*pass --run-as UID\[:GID\]/],
    ['a shared process namespace', aPod('web').withShareProcessNamespace().withContainer('app'), /^pod "web" shares one process namespace .*PID 1 is the pause process/],
    ['an unknown -c', aPod('web').withContainer('app'), /^container "nope" not found in pod "web"; choose one of: app$/],
  ])('refuses %s', (_name, pod, message) => {
    expect(() => build(pod.build(), _name === 'an unknown -c' ? { container: 'nope' } : {})).toThrow(message);
  });

  it('the script has no $$ (Kubernetes makes it $) and no $(VAR) of its own env (Kubernetes would expand it)', () => {
    expect(COLLECT_SCRIPT).not.toContain('$$');
    expect(COLLECT_SCRIPT).not.toMatch(/\$\((COLLECT_|KUBECTL_EPHEMERAL_)/);
    expect(COLLECT_SCRIPT).not.toContain('$\\{');
  });
});

describe('validateCollectPath', () => {
  it.each([
    ['/app/logs', '/app/logs'],
    ['/app//logs/', '/app/logs'],
    ['/', '/'],
    ['/with space', '/with space'],
  ])('%j is %j', (input, out) => expect(validateCollectPath(input)).toBe(out));

  it.each([
    ['app/logs', 'is not absolute'],
    ['', 'is not absolute'],
    ['/app/../etc', 'has a "." or ".." part'],
    ['/app/./x', 'has a "." or ".." part'],
    ['/a\nb', 'holds a control character'],
  ])('%j is refused: %s', (input, problem) => {
    expect(() => validateCollectPath(input)).toThrow(`--path ${JSON.stringify(input)} ${problem}; give an absolute path in the target container, such as /var/log/app`);
  });
});

describe('parseSize', () => {
  it.each([
    ['1000', 1000],
    ['10k', 10 * 1024],
    ['10Ki', 10 * 1024],
    ['256Mi', 256 * 1024 ** 2],
    ['256M', 256 * 1024 ** 2],
    ['2G', 2 * 1024 ** 3],
    ['3gib', 3 * 1024 ** 3],
  ])('%s is %d bytes', (text, bytes) => expect(parseSize(text)).toBe(bytes));

  it.each(['0', '-1', '1T', 'lots', '', '1.5M'])('%j is refused', (text) => {
    expect(() => parseSize(text)).toThrow(`invalid --max-size "${text}"; use bytes or a number with k, M or G, such as 256M`);
  });
});
