// Two projects: unit tests (no cluster) and the API/e2e suites (need scripts/cluster.sh up).
// TypeScript and the ESM-only dependencies (yargs 18, client-node 2) go through one esbuild transform.
const transform = { '^.+\\.(ts|js|mjs)$': '<rootDir>/test/support/esbuild-transform.cjs' };
const transformIgnorePatterns = ['/node_modules/(?!(yargs|yargs-parser|y18n|cliui|escalade|get-caller-file|string-width|strip-ansi|ansi-regex|ansi-styles|wrap-ansi|emoji-regex|get-east-asian-width)/)'];
const moduleNameMapper = { '^(\\.{1,2}/.*)\\.js$': '$1' };
// Cluster state (etcd's *.snap files read as obsolete Jest snapshots and fail the run), the API
// suite's plugin copies and benchmark work trees stay out of Jest's file map.
const modulePathIgnorePatterns = ['<rootDir>/.state/', '<rootDir>/bench-results/', '<rootDir>/dist/'];
const common = { transform, transformIgnorePatterns, moduleNameMapper, modulePathIgnorePatterns, moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'], testEnvironment: 'node' };
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
};
