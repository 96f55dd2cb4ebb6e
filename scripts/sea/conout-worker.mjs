// node-pty on Windows drains ConPTY's output pipe on a worker thread that it starts from a file,
// lib/worker/conoutSocketWorker.js beside its own lib/. A single executable has no such file: the
// bundle starts the same worker from its source instead (`eval: true`, built-in modules only).
// scripts/build-binary.mjs swaps this into node-pty's lib/windowsConoutConnection.js; the packaging
// test runs the patched connection over Unix sockets, where node's net speaks paths as on Windows
// it speaks pipe names.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const WORKER_FROM_FILE = "new worker_threads_1.Worker(path_1.join(scriptPath, 'worker/conoutSocketWorker.js'), { workerData: workerData })";
const SHARED_REQUIRE = 'require("../shared/conout")';

/** The worker's source with its one relative require (lib/shared/conout.js) inlined. */
export function conoutWorkerSource(libDir) {
  const worker = readFileSync(join(libDir, 'worker', 'conoutSocketWorker.js'), 'utf8');
  const shared = readFileSync(join(libDir, 'shared', 'conout.js'), 'utf8');
  if (!worker.includes(SHARED_REQUIRE)) throw new Error(`node-pty's conoutSocketWorker.js no longer has ${SHARED_REQUIRE}: update scripts/sea/conout-worker.mjs`);
  return worker.replace(SHARED_REQUIRE, `(function () { var exports = {}; ${shared.replace(/\/\/# sourceMappingURL=.*$/m, '')}\nreturn exports; })()`);
}

/** windowsConoutConnection.js (its source and its lib directory) starting the worker from source. */
export function patchConoutConnection(source, libDir) {
  if (!source.includes(WORKER_FROM_FILE)) throw new Error(`node-pty's windowsConoutConnection.js no longer has ${WORKER_FROM_FILE}: update scripts/sea/conout-worker.mjs`);
  return source.replace(WORKER_FROM_FILE, `new worker_threads_1.Worker(${JSON.stringify(conoutWorkerSource(libDir))}, { eval: true, workerData: workerData })`);
}
