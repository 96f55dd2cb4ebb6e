import { parseDuration } from '../input/duration.js';
import { ChildConnection } from './child-connection.js';
import { CredentialSource } from './credentials.js';
import type { OwnCommand } from './credential-relay.js';
import { KubeHttpClient } from './http-client.js';
import type { KubeFlags } from './kube-flags.js';
import { loadKubeTarget, type KubeTarget } from './kubeconfig.js';

// Loaded with the connection (one chunk less to read at startup): main.ts keeps one per process.
export { WarningCollector } from './warnings.js';

/** What a connection reports to the user: request lines under -v, and an exec plugin's stderr. */
export interface ConnectionIo {
  userAgent: string;
  debug?: (line: string) => void;
  /** Each stderr line of an exec credential plugin (shown to the user, as kubectl does). */
  stderrLine: (line: string) => void;
  stdinIsTerminal?: boolean;
  /** Takes the `Warning` header values of every response. */
  onWarnings?: (values: string[]) => void;
  /** How a spawned kubectl runs this program as its credential relay (credential-relay.ts); default: this process's own command line. */
  self?: OwnCommand;
}

/**
 * Reads the kubeconfig and flags as kubectl would and opens the transport to that cluster; `child`
 * hands the same connection and credential to the kubectl processes the run spawns.
 */
export async function openConnection(flags: KubeFlags, env: NodeJS.ProcessEnv, io: ConnectionIo): Promise<{ target: KubeTarget; http: KubeHttpClient; child: ChildConnection }> {
  const target = await loadKubeTarget(flags, env);
  const credentials = new CredentialSource(target, { stdinIsTerminal: io.stdinIsTerminal ?? process.stdin.isTTY === true, stderrLine: io.stderrLine });
  // kubectl: a bare number is seconds, and 0 (the default) means no deadline.
  const timeout = flags.requestTimeout ? parseDuration(flags.requestTimeout, '--request-timeout', { bareSeconds: true }) : undefined;
  const http = new KubeHttpClient(target, { credentials, userAgent: io.userAgent, requestTimeoutMs: timeout || undefined, env, debug: io.debug, onWarnings: io.onWarnings });
  return { target, http, child: new ChildConnection(target, credentials, env, io.self) };
}
