// The executable's entry. `--version` and `--help` (built-in presets) are answered from text made at
// build time, before any other module loads, and so is `--credential-from SOCKET` (this program as
// the exec credential plugin of a kubectl it started: kube/credential-relay.ts); everything else
// loads main on demand.
import { existsSync } from 'node:fs';
import { CREDENTIAL_FROM_FLAG } from './kube/credential-flag.js';
import { descriptorStreams, processPrinter } from './output/printer.js';
import { userPresetsPath } from './presets/user-presets.js';
import { PREBUILT_HELP, VERSION } from './version.js';

const args = process.argv.slice(2);
const only = args.length === 1 ? args[0] : undefined;
if (args.length === 2 && args[0] === CREDENTIAL_FROM_FLAG) {
  void import('./kube/credential-relay.js')
    .then((relay) => relay.printRelayedCredential(args[1]!, process.stdout, process.stderr))
    .then((code) => (process.exitCode = code));
} else if (only === '--version') {
  processPrinter(false, process.env, descriptorStreams()).out(VERSION);
} else if ((only === '--help' || only === '-h') && PREBUILT_HELP && !existsSync(userPresetsPath(process.env))) {
  processPrinter(false, process.env, descriptorStreams()).out(PREBUILT_HELP);
} else {
  void import('./main.js').then((m) => m.runProcess());
}
