import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';

/** A non-TTY `kubectl attach -i` whose stdout is streamed, byte for byte, into a sink. */
export interface StreamAttach {
  /** Writes a line to the container's stdin. */
  send(line: string): void;
  /** Resolves with kubectl's exit code once it exited and the sink is flushed. */
  done: Promise<number>;
  /** Kills kubectl (after a grace period the caller chose). */
  kill(): void;
  /** Bytes written to the sink so far. */
  bytes(): number;
}

/**
 * Spawns `kubectl attach -i` (no TTY, so binary output such as pcap is not mangled) into sink.
 * The container's stderr (tcpdump's messages) comes back line by line through onStderr, so the
 * printer escapes it like everything else from the cluster.
 */
export function streamAttach(kubectl: string, args: string[], env: NodeJS.ProcessEnv, sink: Writable, closeSink: boolean, onStderr: (line: string) => void): StreamAttach {
  const child = spawn(kubectl, ['attach', '-i', '--quiet', ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let partial = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    lines.forEach(onStderr);
  });
  child.stderr.on('end', () => partial && onStderr(partial));
  let count = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    count += chunk.length;
    // Backpressure: a slow sink (a pipe into wireshark) pauses kubectl's stream.
    if (!sink.write(chunk)) {
      child.stdout.pause();
      sink.once('drain', () => child.stdout.resume());
    }
  });
  // The container reads stdin to know when to start and stop; EPIPE after it exits is fine.
  child.stdin.on('error', () => undefined);
  const done = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const exit = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
      if (!closeSink) return resolve(exit);
      sink.end(() => resolve(exit));
    });
  });
  return {
    send: (line) => void child.stdin.write(`${line}\n`),
    done,
    kill: () => void child.kill('SIGKILL'),
    bytes: () => count,
  };
}
