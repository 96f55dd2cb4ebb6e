// The one reader of $KE_STATE_DIR/env, the file `scripts/cluster.sh up` writes (KEY=value lines,
// sourced by the shell scripts). The benchmark imports it as it is; the test support through the
// Jest transform.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the env file is: $KE_STATE_DIR/env, else <root>/.state/cluster/env. */
export function clusterEnvFile(root) {
  return join(process.env.KE_STATE_DIR ?? join(root, '.state', 'cluster'), 'env');
}

/**
 * Reads the cluster's env file into { KEY: value }; throws when the file is missing (naming the
 * command that writes it, `up`) or lacks one of the `required` keys. Starts nothing.
 */
export function readClusterEnv(root, { required = [], up = 'scripts/cluster.sh up' } = {}) {
  const file = clusterEnvFile(root);
  if (!existsSync(file)) throw new Error(`no local cluster: ${file} is missing; run ${up} first`);
  const vars = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]] = m[2];
  }
  for (const k of required) if (vars[k] === undefined) throw new Error(`${file} lacks ${k}`);
  return vars;
}
