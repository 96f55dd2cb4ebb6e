'use strict';
// Resolves ws's optional accelerators (bufferutil, utf-8-validate) in the single executable: ws
// requires them inside try/catch and falls back to JavaScript on MODULE_NOT_FOUND, whereas the
// executable's require() of a missing package would print a warning on every run.
const err = new Error('optional module not bundled');
err.code = 'MODULE_NOT_FOUND';
throw err;
