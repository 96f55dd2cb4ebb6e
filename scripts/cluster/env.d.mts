/** Where the env file is: $KE_STATE_DIR/env, else <root>/.state/cluster/env. */
export function clusterEnvFile(root: string): string;
/** Reads the cluster's env file into { KEY: value }; throws when it is missing or lacks a required key. */
export function readClusterEnv(root: string, opts?: { required?: string[]; up?: string }): Record<string, string | undefined>;
