import { formatTable } from '../output/printer.js';
import { render } from '../output/render.js';
import type { CommandContext } from '../context.js';

/** Options of `kubectl ephemeral sessions`. */
export interface SessionsOptions {
  output?: 'json' | 'yaml';
  dir?: string;
}

/** `kubectl ephemeral sessions`: the recorded sessions on this machine, newest first. */
export async function runSessions(ctx: CommandContext, opts: SessionsOptions): Promise<number> {
  const [{ listRecordings }, { defaultSessionsDir, sessionsDirProblem }] = await Promise.all([import('../terminal/sessions.js'), import('../terminal/recording.js')]);
  const dir = opts.dir ?? defaultSessionsDir(ctx.env);
  // Others who can write there can plant a recording that lists as yours: said, even under -q.
  const problem = opts.dir === undefined ? sessionsDirProblem(dir) : undefined;
  if (problem) ctx.printer.warn(`warning: the sessions directory is not safely yours (${problem}): a recording listed here may not be yours; chmod 700 it`);
  const list = await listRecordings(dir);
  if (opts.output) {
    ctx.printer.out(await render(list, opts.output));
    return 0;
  }
  if (list.length === 0) {
    ctx.printer.info(`no recorded sessions in ${dir}`);
    return 0;
  }
  const rows = list.map((r) => [
    r.startedAt.toISOString().replace(/\.\d+Z$/, 'Z'),
    r.context ?? '-',
    `${r.namespace}/${r.pod}`,
    r.container,
    r.preset ?? '-',
    r.durationSeconds === undefined ? '-' : `${Math.round(r.durationSeconds)}s`,
    `${Math.ceil(r.sizeBytes / 1024)}K`,
    r.file,
  ]);
  ctx.printer.out(formatTable(['STARTED', 'CONTEXT', 'POD', 'CONTAINER', 'PRESET', 'DURATION', 'SIZE', 'FILE'], rows));
  ctx.printer.info('replay one with: asciinema play FILE');
  return 0;
}
