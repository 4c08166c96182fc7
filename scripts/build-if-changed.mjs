#!/usr/bin/env node
// `npm start`'s build step: compiles the server (tsc -p tsconfig.build.json -> dist/) and builds the
// web UI (vite build -> ui/dist/) only when their inputs changed since this script last built them.
//
//   node scripts/build-if-changed.mjs [server] [ui]     (no argument: both, server first)
//
// A stamp per target (node_modules/.cache/berth/<target>.json) holds a SHA-256 of the inputs' paths and
// contents at the last successful build, and a fingerprint (paths, sizes, mtimes) of the outputs as
// that build left them. The target is rebuilt when either differs: an edit, a new or deleted file, a
// checkout, `npm ci` (which empties node_modules/.cache), a deleted dist/ or a build run by hand.
// Nothing changed: neither compiler runs. Touching a file without changing it rebuilds nothing.
//
// tsc runs incrementally (its .tsbuildinfo beside the stamp) only while dist/ is exactly as this
// script's last tsc run left it; otherwise the .tsbuildinfo is dropped first, as tsc would not re-emit
// an output that was deleted or overwritten behind its back.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.dirname(path.dirname(SELF));
const CACHE = path.join(ROOT, 'node_modules', '.cache', 'berth');
const SHARED_INPUTS = ['package.json', 'package-lock.json', path.relative(ROOT, SELF)];

/**
 * What each target reads and writes. `inputs` are files or directories (walked recursively) relative to
 * the root; `ignore(rel)` drops a path below them; `entry` must exist for the build to count as present.
 */
const TARGETS = {
  server: {
    inputs: ['src', 'tsconfig.json', 'tsconfig.build.json', ...SHARED_INPUTS],
    // Tests are not compiled (tsconfig.build.json excludes them); editing one rebuilds nothing.
    ignore: (rel) => rel.endsWith('.test.ts'),
    output: 'dist',
    entry: 'dist/main.js',
    tool: 'node_modules/typescript/bin/tsc',
    args: ['-p', 'tsconfig.build.json'],
  },
  ui: {
    inputs: ['ui', ...SHARED_INPUTS],
    ignore: (rel) => rel === 'ui/dist' || rel === 'ui/node_modules',
    output: 'ui/dist',
    entry: 'ui/dist/index.html',
    tool: 'node_modules/vite/bin/vite.js',
    args: ['build', '--config', 'ui/vite.config.ts'],
  },
};

/** Every regular file below `rel` (or `rel` itself), as sorted paths relative to the root. */
function walk(rel, ignore, into = []) {
  if (ignore(rel)) return into;
  const abs = path.join(ROOT, rel);
  let stat;
  try {
    stat = statSync(abs);
  } catch (err) {
    if (err.code === 'ENOENT') return into;
    throw err;
  }
  if (stat.isFile()) {
    into.push(rel);
  } else if (stat.isDirectory()) {
    for (const name of readdirSync(abs).sort()) walk(path.posix.join(rel, name), ignore, into);
  }
  return into;
}

/** SHA-256 of the inputs' paths and contents. */
function hashInputs(target) {
  const hash = createHash('sha256');
  for (const input of target.inputs) {
    for (const rel of walk(input, target.ignore)) {
      const bytes = readFileSync(path.join(ROOT, rel));
      hash.update(`${rel}\0${bytes.length}\0`).update(bytes);
    }
  }
  return hash.digest('hex');
}

/** The outputs as they are on disk (paths, sizes, mtimes); null when the entry file is missing. */
function fingerprintOutputs(target) {
  const files = walk(target.output, () => false);
  if (!files.includes(target.entry)) return null;
  const hash = createHash('sha256');
  for (const rel of files) {
    const { size, mtimeMs } = statSync(path.join(ROOT, rel));
    hash.update(`${rel}\0${size}\0${mtimeMs}\n`);
  }
  return hash.digest('hex');
}

function readStamp(name) {
  try {
    return JSON.parse(readFileSync(path.join(CACHE, `${name}.json`), 'utf8'));
  } catch {
    return {};
  }
}

function writeStamp(name, stamp) {
  mkdirSync(CACHE, { recursive: true });
  const file = path.join(CACHE, `${name}.json`);
  const temp = `${file}.${process.pid}`;
  writeFileSync(temp, `${JSON.stringify(stamp)}\n`);
  renameSync(temp, file);
}

/**
 * Whether `name` needs a build, and why: `{ stale: false }`, or `{ stale: true, reason, outputsAsLeft }`
 * where `outputsAsLeft` says the outputs are those of this script's last run (so tsc may go incremental).
 */
function check(name) {
  const target = TARGETS[name];
  const stamp = readStamp(name);
  const inputs = hashInputs(target);
  const outputs = fingerprintOutputs(target);
  const outputsAsLeft = outputs !== null && outputs === stamp.outputs;
  const stale = (reason) => ({ stale: true, inputs, outputsAsLeft, reason });
  if (outputs === null) return stale(`${target.entry} is missing`);
  if (stamp.outputs === undefined) return stale('no earlier build of it recorded');
  if (!outputsAsLeft) return stale(`${target.output}/ changed since the last build: deleted, or built by another command`);
  if (inputs !== stamp.inputs) return stale('its sources changed since the last build');
  return { stale: false, inputs, outputsAsLeft };
}

/** Builds `name` when stale; returns the compiler's exit status (0 when nothing needed doing). */
function buildIfChanged(name) {
  const target = TARGETS[name];
  const state = check(name);
  if (!state.stale) {
    // The stamp's time says "current as of now" to bin/berth.js, which compares source mtimes with
    // it: a file touched without a change must not send the `berth` command to the sources for good.
    const now = new Date();
    utimesSync(path.join(CACHE, `${name}.json`), now, now);
    return 0;
  }
  const args = [...target.args];
  if (name === 'server') {
    const buildInfo = path.join(CACHE, 'server.tsbuildinfo');
    if (!state.outputsAsLeft) rmSync(buildInfo, { force: true });
    args.push('--incremental', '--tsBuildInfoFile', buildInfo);
  }
  process.stderr.write(`build-if-changed: building ${name} (${state.reason})\n`);
  const run = spawnSync(process.execPath, [path.join(ROOT, target.tool), ...args], { cwd: ROOT, stdio: 'inherit' });
  const status = run.status ?? 1;
  // tsc writes its outputs even when it reports errors; recording them keeps the next run incremental,
  // while the missing input hash keeps that run from counting the failed build as done.
  writeStamp(name, { inputs: status === 0 ? state.inputs : null, outputs: fingerprintOutputs(target) });
  return status;
}

const names = process.argv.slice(2);
const unknown = names.filter((name) => !Object.hasOwn(TARGETS, name));
if (unknown.length > 0) {
  process.stderr.write(`build-if-changed: unknown target ${unknown.join(', ')} (targets: ${Object.keys(TARGETS).join(', ')})\n`);
  process.exit(2);
}
for (const name of names.length > 0 ? names : Object.keys(TARGETS)) {
  const status = buildIfChanged(name);
  if (status !== 0) process.exit(status);
}
