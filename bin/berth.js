#!/usr/bin/env node
// The `berth` command: runs the compiled build (dist/) when present, else the TypeScript sources
// via tsx; BERTH_FROM_SOURCE=1 runs the sources even when a build is there (as the tests do, so a
// stale dist/ is never what they check).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const built = path.join(root, 'dist', 'cli', 'index.js');
let runCli;
if (existsSync(built) && process.env.BERTH_FROM_SOURCE !== '1') {
  ({ runCli } = await import(pathToFileURL(built).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ runCli } = await import(pathToFileURL(path.join(root, 'src', 'cli', 'index.ts')).href));
}
process.exitCode = await runCli(process.argv.slice(2));
