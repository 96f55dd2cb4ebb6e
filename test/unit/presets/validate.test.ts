import { capabilityProblem, checkFlagValues, envNameProblem, imageReferenceProblem, MAX_ID, runAsProblem } from '../../../src/presets/validate';

describe('imageReferenceProblem: the reference grammar the kubelet parses images with', () => {
  it.each([
    'busybox',
    'busybox:1.36',
    'library/busybox:1.36',
    'docker.io/library/busybox:1.36',
    'registry.k8s.io/e2e-test-images/agnhost:2.53',
    'localhost:5000/tools/netshoot',
    'localhost/tools',
    'nicolaka/netshoot@sha256:' + 'a'.repeat(64),
    'ghcr.io/org/img:v1.2.3-rc.1@sha256:' + 'b'.repeat(64),
    '[::1]:5000/a/b:c',
    'Registry.Example.com/team/img',
    'UPPER/case:1',
    'a__b/c---d.e_f:TAG_1',
  ])('%s is a reference', (image) => {
    expect(imageReferenceProblem(image)).toBeUndefined();
  });

  it.each([
    ['', 'it is empty'],
    ['busybox:1.36 --privileged', 'it holds whitespace or a control character'],
    ['busybox:1.36\n', 'it holds whitespace or a control character'],
    [' busybox', 'it holds whitespace or a control character'],
    ['UPPER/Case::bad', 'it does not follow the reference grammar [registry[:port]/]name[:tag][@digest], with a lowercase name'],
    ['Busybox', 'it does not follow the reference grammar [registry[:port]/]name[:tag][@digest], with a lowercase name'],
    ['busybox:', 'it does not follow the reference grammar [registry[:port]/]name[:tag][@digest], with a lowercase name'],
    ['busybox@sha256:abc', 'it does not follow the reference grammar [registry[:port]/]name[:tag][@digest], with a lowercase name'],
    ['busybox:' + 't'.repeat(129), 'it does not follow the reference grammar [registry[:port]/]name[:tag][@digest], with a lowercase name'],
    ['a'.repeat(64).replace(/a/g, 'f'), 'a 64-character hexadecimal string is an image ID, not a reference'],
    ['x/'.repeat(130) + 'y', 'its name is longer than 255 characters'],
    ['a'.repeat(2000), 'it is longer than 1020 characters'],
  ])('%j: %s', (image, problem) => {
    expect(imageReferenceProblem(image)).toBe(problem);
  });

  it('long hostile inputs are answered at once (no backtracking blow-up)', () => {
    for (const image of ['a'.repeat(1019) + '!', 'a-'.repeat(509) + '!', 'a.'.repeat(509) + '/', ('a' + '-'.repeat(50)).repeat(19) + '!'])
      expect(imageReferenceProblem(image)).toEqual(expect.any(String));
  });
});

describe('runAsProblem: uid and gid in the range Kubernetes accepts', () => {
  it.each([
    [{ kind: 'uid', uid: 0 }, undefined],
    [{ kind: 'uid', uid: MAX_ID, gid: MAX_ID }, undefined],
    [{ kind: 'uid', uid: 4294967296 }, 'uid 4294967296 is out of range (0 to 2147483647)'],
    [{ kind: 'uid', uid: 1000, gid: 2 ** 31 }, 'gid 2147483648 is out of range (0 to 2147483647)'],
    [{ kind: 'uid', uid: Number('1'.repeat(30)) }, `uid ${Number('1'.repeat(30))} is out of range (0 to 2147483647)`],
    [{ kind: 'root' }, undefined],
  ] as const)('%j', (runAs, problem) => {
    expect(runAsProblem(runAs)).toBe(problem);
  });
});

describe('capabilityProblem: names from capabilities(7), ALL only to drop', () => {
  it.each([
    ['NET_RAW', 'add', undefined],
    ['ALL', 'drop', undefined],
    ['ALL', 'add', '"ALL" only drops capabilities; the plugin drops ALL first: name the ones to add, or use --privileged'],
    ['ALL', 'keep', '"ALL" only drops capabilities; the plugin drops ALL first: name the ones to keep, or use --privileged'],
    ['CAP_NET_RAW', 'add', 'unknown capability "CAP_NET_RAW" (write NET_RAW) (names as in capabilities(7) without CAP_, e.g. NET_RAW)'],
    ['NET_RAWR', 'add', 'unknown capability "NET_RAWR" (names as in capabilities(7) without CAP_, e.g. NET_RAW)'],
  ] as const)('%s to %s', (name, use, problem) => {
    expect(capabilityProblem(name, use)).toBe(problem);
  });
});

describe('envNameProblem', () => {
  it.each([
    ['CAPTURE_IFACE', undefined],
    ['my.var-1', undefined],
    ['', 'an environment variable name is empty'],
    ['A=B', 'environment variable name "A=B" must be printable ASCII without "="'],
    ['A\nB', 'environment variable name "A\nB" must be printable ASCII without "="'],
    ['É', 'environment variable name "É" must be printable ASCII without "="'],
  ])('%j', (name, problem) => {
    expect(envNameProblem(name)).toBe(problem);
  });
});

describe('checkFlagValues: --image and --run-as refused with exit 64 before anything is sent', () => {
  it.each([
    [{ image: 'busybox:1.36 --privileged' }, '--image "busybox:1.36 --privileged" is not an image reference: it holds whitespace or a control character; for example --image busybox:1.36'],
    [{ image: 'UPPER/Case::bad' }, '--image "UPPER/Case::bad" is not an image reference: it does not follow the reference grammar [registry[:port]/]name[:tag][@digest], with a lowercase name; for example --image busybox:1.36'],
    [{ runAs: '4294967296' }, 'invalid --run-as "4294967296": uid 4294967296 is out of range (0 to 2147483647)'],
    [{ image: 'busybox:1.36\nx' }, '--image "busybox:1.36\\nx" is not an image reference: it holds whitespace or a control character; for example --image busybox:1.36'],
  ])('%j', (flags, message) => {
    expect(() => checkFlagValues(flags)).toThrow(expect.objectContaining({ kind: 'usage', exitCode: 64, message }));
  });

  it('good values and absent ones pass', () => {
    expect(() => checkFlagValues({ image: 'busybox:1.36', runAs: '1000:3000' })).not.toThrow();
    expect(() => checkFlagValues({})).not.toThrow();
  });
});
