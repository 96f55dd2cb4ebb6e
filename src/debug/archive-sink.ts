import { Writable } from 'node:stream';
import { CollectArchive, type CollectHeader, type CollectSummary } from '../plan/collect-archive.js';

/** The collect stream's receiving end: what kubectl attach writes in, the tar archive out. */
export interface ArchiveSink {
  /** What streamAttach writes the container's stdout into. */
  input: Writable;
  /** Ends the archive (manifest, end blocks) and resolves once `out` took every byte. */
  finish(problem?: string): Promise<CollectSummary>;
}

/**
 * Wires a CollectArchive between the attach and `out`, with backpressure both ways: a slow `out`
 * (a pipe, a slow disk) holds the attach's stream until it drains. `endOut` closes `out` at the end
 * (a file; never stdout).
 */
export function archiveSink(header: CollectHeader, out: Writable, endOut: boolean): ArchiveSink {
  let full = false;
  const archive = new CollectArchive(header, (bytes) => {
    if (!out.write(bytes)) full = true;
  });
  const drained = () => (full ? new Promise<void>((resolve) => out.once('drain', () => ((full = false), resolve()))) : Promise.resolve());
  const input = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      archive.push(chunk);
      drained().then(() => callback(), callback);
    },
  });
  return {
    input,
    async finish(problem) {
      const summary = archive.finish(problem);
      if (endOut) await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      else await drained();
      return summary;
    },
  };
}
