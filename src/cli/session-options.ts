import type { Argv } from 'yargs';
import type { SessionFlags } from '../debug/session-streams.js';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../terminal/detach-keys.js';
import { recordMode } from './optional-values.js';

const GROUP = 'Session:';

/**
 * The one definition of the session flags, shared by the preset commands and attach. -i/-t read as
 * in kubectl debug (`-i=false`, `--tty`); --record's optional value is taken only as --record=FILE
 * (see normalizeOptionalValues in optional-values.ts), as kubectl does for flags with a default when given bare.
 */
export function withSessionOptions<T>(y: Argv<T>, opts: { streams: boolean; recordDefault?: boolean }) {
  let out = y
    .option('detach-keys', {
      type: 'string',
      default: DEFAULT_DETACH_KEYS,
      group: GROUP,
      describe: 'Keys that leave the session with the container still running, as in docker ("" disables)',
      coerce: (spec: string) => {
        // Checked while parsing: a bad value must fail before a container exists.
        parseDetachKeys(String(spec));
        return String(spec);
      },
    })
    .option('record', {
      type: 'string',
      group: GROUP,
      describe: `Record the session's output as asciicast: --record (default directory) or --record=FILE; --no-record to disable${opts.recordDefault ? ' (on by default for this preset)' : ''}`,
    })
    .option('record-input', { type: 'boolean', default: false, group: GROUP, describe: 'Record what is typed too (passwords typed at a prompt included)' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, group: GROUP, describe: 'Print only the session itself, errors and warnings' });
  if (opts.streams)
    out = out
      .option('stdin', { alias: 'i', type: 'boolean', group: GROUP, describe: 'Pass stdin to the container (default true; -i=false for none)' })
      .option('tty', { alias: 't', type: 'boolean', group: GROUP, describe: 'Allocate a TTY (default: when stdin is a terminal)' });
  return out;
}

/** The session flags out of a parsed argv. */
export function sessionFlagsFrom(argv: Record<string, unknown>): SessionFlags {
  const flags: SessionFlags = {
    detachKeys: typeof argv['detach-keys'] === 'string' ? argv['detach-keys'] : DEFAULT_DETACH_KEYS,
    record: recordMode(argv.record),
    recordInput: argv['record-input'] === true,
    quiet: argv.quiet === true,
  };
  if (typeof argv.stdin === 'boolean') flags.stdin = argv.stdin;
  if (typeof argv.tty === 'boolean') flags.tty = argv.tty;
  return flags;
}
