// One rule for suites whose world (a cluster, a real node, a tool) may be missing: on a developer's
// machine they skip with the reason on stderr; under CI (CI=true) they fail, naming what is missing,
// so a CI run can never pass green with a suite that did not run.

/** `describe` when `missing` is empty; else `describe.skip` locally, or a suite with one failing test under CI. */
export function describeIfAvailable(file: string, missing: string, howToGetIt: string): jest.Describe {
  if (!missing) return describe;
  if (process.env.CI === 'true' || process.env.CI === '1') {
    const failing = ((name: string) =>
      describe(name, () => {
        it(`needs what is missing: ${missing}`, () => {
          throw new Error(`${file}: ${missing} (${howToGetIt}); under CI a missing world fails the suite instead of skipping it`);
        });
      })) as unknown as jest.Describe;
    return failing;
  }
  process.stderr.write(`\n!!! ${file} SKIPPED: ${missing} (${howToGetIt})\n\n`);
  return describe.skip;
}
