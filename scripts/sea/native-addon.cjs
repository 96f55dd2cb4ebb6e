'use strict';
// Stands in for node-pty's lib/utils.js inside the single executable (scripts/build-binary.mjs
// swaps it in). node-pty loads `pty.node` from beside its own package, which an executable does not
// have: the addon travels as an SEA asset instead, is written once per user to
// ${XDG_CACHE_HOME:-~/.cache}/kubectl-ephemeral/native-<platform>-<arch>-<sha256 prefix>/ and is
// loaded from there with process.dlopen. A file is loaded only when its SHA-256 is the one recorded
// at build time (anything else is written again), and only from directories that no other user
// can write to (another user could otherwise swap the file between the check and the load).
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/** Filled in at build time: { dir, files: [{ name, size, mode, sha256 }] }. */
const NATIVE = __KUBECTL_EPHEMERAL_NATIVE__;

let extractedDir;

/** Same contract as node-pty's utils.assign. */
function assign(target, ...sources) {
  for (const source of sources) for (const key of Object.keys(source)) target[key] = source[key];
  return target;
}

/** Same contract as node-pty's utils.loadNativeModule: { dir, module }. */
function loadNativeModule(name) {
  const file = `${name}.node`;
  if (!NATIVE.files.some((f) => f.name === file)) {
    const err = new Error(`${file} is not included in this kubectl-ephemeral executable (${process.platform}-${process.arch})`);
    err.code = 'ERR_KUBECTL_EPHEMERAL_NO_PTY';
    throw err;
  }
  const dir = extractAssets();
  const mod = { exports: {} };
  process.dlopen(mod, path.join(dir, file));
  return { dir, module: mod.exports };
}

function extractAssets() {
  if (extractedDir) return extractedDir;
  const errors = [];
  for (const { root, shared } of cacheRoots()) {
    const dir = path.join(root, NATIVE.dir);
    try {
      if (shared) ensurePrivate(root);
      else makeDirs(root);
      requireUnwritableByOthers(root);
      for (const f of NATIVE.files) ensureFile(dir, f);
      // Subdirectories too (Windows' conpty/): code is loaded from them as well.
      for (const sub of new Set(NATIVE.files.map((f) => path.dirname(path.join(dir, f.name))))) requireUnwritableByOthers(sub);
      return (extractedDir = dir);
    } catch (err) {
      errors.push(`${dir}: ${err.message}`);
    }
  }
  throw new Error(`cannot write the pseudo-terminal addon: ${errors.join('; ')}`);
}

// The per-user cache first; a read-only or absent home falls back to the temp directory.
function cacheRoots() {
  const roots = [];
  const xdg = process.env.XDG_CACHE_HOME;
  const home = os.homedir();
  if (xdg && path.isAbsolute(xdg)) roots.push({ root: path.join(xdg, 'kubectl-ephemeral') });
  else if (home) roots.push({ root: path.join(home, '.cache', 'kubectl-ephemeral') });
  const uid = typeof process.getuid === 'function' ? process.getuid() : os.userInfo().username;
  roots.push({ root: path.join(os.tmpdir(), `kubectl-ephemeral-${uid}`), shared: true });
  return roots;
}

// In a shared temp directory another user could plant a pty.node for us to load: use the
// directory only if we made it, or it is ours and nobody else can write to it.
function ensurePrivate(root) {
  try {
    fs.mkdirSync(root, { mode: 0o700 });
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
  }
  if (typeof process.getuid !== 'function') return;
  const st = fs.lstatSync(root);
  if (!st.isDirectory() || st.uid !== process.getuid() || (st.mode & 0o022) !== 0)
    throw new Error(`${root} is not a private directory of this user`);
}

// Code is loaded from here: a directory that another user can write to (group or other write, or
// not ours) would let them replace pty.node after it was checked.
function requireUnwritableByOthers(dir) {
  if (typeof process.getuid !== 'function') return;
  const st = fs.lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (st.uid !== process.getuid()) throw new Error(`${dir} belongs to another user (uid ${st.uid}): refusing to load code from it`);
  if ((st.mode & 0o022) !== 0) throw new Error(`${dir} is writable by other users (mode ${(st.mode & 0o777).toString(8)}): refusing to load code from it`);
}

// The file is the one built in: same size (cheap) and same SHA-256 (what counts).
function isComplete(target, { size, sha256 }) {
  try {
    const st = fs.lstatSync(target);
    if (!st.isFile() || st.size !== size) return false;
    return crypto.createHash('sha256').update(fs.readFileSync(target)).digest('hex') === sha256;
  } catch {
    return false;
  }
}

// mkdir -p by hand: Node's recursive mkdirSync spins forever on some paths (e.g. under /proc).
function makeDirs(dir) {
  if (fs.existsSync(dir)) return;
  const parent = path.dirname(dir);
  if (parent !== dir) makeDirs(parent);
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
  }
}

// Temp file + rename: a concurrent run sees either no file or the whole file, never half of one.
function ensureFile(dir, file) {
  const { name, mode } = file;
  const target = path.join(dir, name);
  if (isComplete(target, file)) return;
  // A name may hold a subdirectory (conpty/conpty.dll): the layout the addon expects on disk.
  makeDirs(path.dirname(target));
  const tmp = `${target}.${process.pid}.${Date.now().toString(36)}.tmp`;
  try {
    fs.writeFileSync(tmp, new Uint8Array(require('node:sea').getRawAsset(name)), { mode });
    fs.chmodSync(tmp, mode);
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    // Windows refuses to replace a file another process has loaded: that one is complete.
    if (!isComplete(target, file)) throw err;
  }
}

module.exports = { assign, loadNativeModule };
