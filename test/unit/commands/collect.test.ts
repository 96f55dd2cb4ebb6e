import { validateCollectOptions, type CollectOptions } from '../../../src/commands/collect';
import { PresetRegistry } from '../../../src/presets/registry';

const forensics = PresetRegistry.from().get('forensics');
const opts = (extra: Partial<CollectOptions> = {}): CollectOptions => ({ pod: 'web', write: 'ev.tar', paths: [], env: false, timeout: '2m', kube: { verbosity: 0 }, ...extra });

describe('validateCollectOptions (before the file or the cluster is touched)', () => {
  it('defaults: 256 MiB, 2 minutes, no extra path, no user override', () => {
    expect(validateCollectOptions(opts(), forensics)).toEqual({ preset: forensics, paths: [], maxBytes: 256 * 1024 * 1024, timeoutMs: 120_000, runAs: undefined });
  });

  it('normalizes paths and parses size, timeout and --run-as', () => {
    expect(validateCollectOptions(opts({ paths: ['/app//logs/'], maxSize: '10M', timeout: '30s', runAs: '1000:2000' }), forensics)).toEqual({
      preset: forensics,
      paths: ['/app/logs'],
      maxBytes: 10 * 1024 * 1024,
      timeoutMs: 30_000,
      runAs: { kind: 'uid', uid: 1000, gid: 2000 },
    });
  });

  it.each([
    ['a preset that requires a reason', opts(), { ...forensics, requireReason: true, source: '/home/a/presets.yaml' }, 'config', 'preset "forensics" requires --reason "..." (/home/a/presets.yaml); say why you are debugging this pod'],
    ['a blank reason where one is required', opts({ reason: '  ' }), { ...forensics, requireReason: true }, 'config', /^preset "forensics" requires --reason/],
    ['an image outside allowedImages', opts({ image: 'evil.io/busybox' }), { ...forensics, allowedImages: ['registry.corp/'] }, 'config', /^image "evil.io\/busybox" is not allowed for preset "forensics"/],
    ['a relative path', opts({ paths: ['tmp'] }), forensics, 'usage', /^--path "tmp" is not absolute/],
    ['a bad size', opts({ maxSize: '1T' }), forensics, 'usage', /^invalid --max-size "1T"/],
    ['a bad --run-as', opts({ runAs: 'alice' }), forensics, 'usage', /^invalid --run-as "alice"/],
  ])('refuses %s', (_name, o, preset, kind, message) => {
    expect(() => validateCollectOptions(o, preset)).toThrow(expect.objectContaining({ kind, message: typeof message === 'string' ? message : expect.stringMatching(message) }));
  });
});
