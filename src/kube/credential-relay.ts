import { chmodSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { CREDENTIAL_FROM_FLAG } from './credential-flag.js';
import type { RequestIdentity } from './credentials.js';

/**
 * How a kubectl started before the run holds its credential gets it (the session's first kubectl
 * attach starts while the run waits for its exec plugin or OIDC refresh: debug/attach-ahead.ts). Its
 * kubeconfig names this plugin as its exec credential plugin, run as `kubectl-ephemeral
 * --credential-from SOCKET`; that process connects to SOCKET, where the run answers with the
 * credential it holds, once it holds one, and prints it for kubectl. The secret never touches the
 * disk nor a command line: SOCKET is a Unix socket in the run's private directory (0700), a named
 * pipe on Windows, and is gone with the run.
 */
export { CREDENTIAL_FROM_FLAG };

// What the relay answers with: client-go's exec credential format.
const API_VERSION = 'client.authentication.k8s.io/v1';
// An answer is a few kilobytes (a token, or a certificate and its key); a peer that sends more is not ours.
const MAX_ANSWER_BYTES = 1 << 20;

/** The exec plugin's side: copies what the socket answers to stdout. Resolves with the process's exit code. */
export function printRelayedCredential(socket: string, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Promise<number> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const peer = connect(socket);
    peer.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) peer.destroy(new Error(`answer over ${MAX_ANSWER_BYTES} bytes`));
      else chunks.push(chunk);
    });
    peer.on('error', (err) => {
      stderr.write(`kubectl-ephemeral: no credential from ${socket} (${err.message}): the kubectl-ephemeral run that started this kubectl has ended\n`);
      resolve(1);
    });
    peer.on('end', () => {
      const answer = Buffer.concat(chunks);
      if (answer.length === 0) {
        stderr.write(`kubectl-ephemeral: the run that started this kubectl ended without a credential\n`);
        resolve(1);
        return;
      }
      stdout.write(answer, () => resolve(0));
    });
  });
}

/** How to run this program: its executable, and the script a development build runs it with. */
export interface OwnCommand {
  command: string;
  args: string[];
}

/** This process's own command line (less its arguments). */
export function ownCommand(): OwnCommand {
  // A single executable repeats its own path as argv[1] (there is no script); a development build
  // runs node with the bundle as argv[1].
  const script = process.argv[1];
  return { command: process.execPath, args: script && script !== process.execPath && !isSingleExecutable() ? [script] : [] };
}

/** The exec plugin that prints what the relay on socket answers: this program with CREDENTIAL_FROM_FLAG. */
export function relayCommand(socket: string, self: OwnCommand = ownCommand()): OwnCommand {
  return { command: self.command, args: [...self.args, CREDENTIAL_FROM_FLAG, socket] };
}

function isSingleExecutable(): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('node:sea') as { isSea(): boolean }).isSea();
  } catch {
    return false;
  }
}

/** The ExecCredential a relayed identity reads as: its bearer token and its client certificate. */
export function execCredentialOf(identity: RequestIdentity): string {
  const status: Record<string, string> = {};
  const auth = identity.headers.Authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) status.token = auth.slice('Bearer '.length);
  if (identity.cert && identity.key) Object.assign(status, { clientCertificateData: String(identity.cert), clientKeyData: String(identity.key) });
  return JSON.stringify({ apiVersion: API_VERSION, kind: 'ExecCredential', status });
}

/**
 * The run's side: a server on `socket` that answers every connection with the credential of the
 * moment, or, before there is one, as soon as `provide` is called. A connection is answered once
 * and closed; what a peer sends is ignored.
 */
export class CredentialRelay {
  private identity: RequestIdentity | undefined;
  private readonly waiting = new Set<Socket>();
  private constructor(private readonly server: Server) {}

  /** Listens on socket (a path in a private directory, or a Windows pipe name). */
  static async listen(socket: string): Promise<CredentialRelay> {
    const server = createServer();
    const relay = new CredentialRelay(server);
    server.on('connection', (peer) => relay.serve(peer));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socket, () => (server.off('error', reject), resolve()));
    });
    // The directory (0700) already keeps others out; the socket says so too.
    if (process.platform !== 'win32') chmodSync(socket, 0o600);
    // A kubectl waiting on the relay must not keep the run alive.
    server.unref();
    return relay;
  }

  /** The credential to answer with, from now on; the connections that wait get it now. */
  provide(identity: RequestIdentity): void {
    this.identity = identity;
    for (const peer of this.waiting) this.answer(peer);
  }

  /** Stops listening; connections still waiting are closed without an answer (their kubectl fails). */
  close(): void {
    for (const peer of this.waiting) peer.destroy();
    this.waiting.clear();
    this.server.close();
  }

  private serve(peer: Socket): void {
    peer.on('error', () => this.waiting.delete(peer));
    peer.on('close', () => this.waiting.delete(peer));
    peer.resume();
    if (this.identity) this.answer(peer);
    else this.waiting.add(peer);
  }

  private answer(peer: Socket): void {
    this.waiting.delete(peer);
    peer.end(execCredentialOf(this.identity!));
  }
}
