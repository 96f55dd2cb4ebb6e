import { formatAge, parseDuration } from '../../../src/input/duration';
import { debugContainerName, isDnsLabel, podCopyName, randomSuffix } from '../../../src/plan/names';

describe('names', () => {
  it('random suffixes are 5 characters of kubectl alphabet, and vary', () => {
    const seen = new Set(Array.from({ length: 200 }, randomSuffix));
    for (const s of seen) expect(s).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(seen.size).toBeGreaterThan(190);
  });

  it.each([
    ['network', 'abcde', 'debugger-network-abcde'],
    ['a'.repeat(80), 'abcde', `debugger-${'a'.repeat(48)}-abcde`],
  ])('debugContainerName(%s) is a DNS label', (preset, suffix, expected) => {
    const name = debugContainerName(preset, suffix);
    expect(name).toBe(expected);
    expect(isDnsLabel(name)).toBe(true);
  });

  it('podCopyName keeps 63 characters', () => {
    expect(podCopyName('web', 'abcde')).toBe('web-debug-abcde');
    expect(podCopyName('w'.repeat(100), 'abcde')).toHaveLength(63);
  });
});

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1.5s', 1500],
  ])('%s → %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it('takes a bare number as seconds only where kubectl does (--request-timeout), where 0 is no timeout', () => {
    expect(parseDuration('10', '--request-timeout', { bareSeconds: true })).toBe(10_000);
    expect(parseDuration('0', '--request-timeout', { bareSeconds: true })).toBe(0);
  });

  it.each(['0s', '0m0s', '0ms'])('refuses %j: a wait of nothing', (text) => {
    expect(() => parseDuration(text)).toThrow(`--timeout must be longer than zero (got "${text}")`);
  });

  it.each(['', 'abc', '5x', '2m junk', '-1s', '10'])('refuses %j with a usage error naming the flag', (text) => {
    expect(() => parseDuration(text)).toThrow(/invalid duration .* for --timeout; use a number with a unit/);
  });

  it('formats ages like kubectl', () => {
    expect([formatAge(5_000), formatAge(600_000), formatAge(7_200_000 * 3), formatAge(86_400_000 * 3)]).toEqual(['5s', '10m', '6h', '3d']);
  });
});
