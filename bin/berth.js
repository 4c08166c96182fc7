#!/usr/bin/env -S node --max-semi-space-size=8
// The `berth` command: runs the compiled build (dist/) when it is current, else the TypeScript
// sources via tsx. In a clone, dist/ is current when no source file changed since `npm start` last
// built it (the stamp scripts/build-if-changed.mjs writes); a source edited since then runs from
// source, so a linked `berth` never runs old code. BERTH_FROM_SOURCE=1 always runs the sources (as
// the tests do). The container image has dist/ and no src/: it runs dist/.
// --max-semi-space-size=8 (the line above, `npm start` and the image's ENTRYPOINT): V8's young
// generation grows to 32 MiB under request load and V8 reads its cap only at start. 8 MiB took the
// server's peak RSS under wrk -c64 on manifests from 130 to 115 MiB, req/s no lower (4 interleaved rounds).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const built = path.join(root, 'dist', 'cli', 'index.js');

/** Whether a source file of the server is newer than the last build's stamp (mtimes only: a few ms). */
function editedSinceBuild() {
  let stamp;
  try {
    stamp = statSync(path.join(root, 'node_modules', '.cache', 'berth', 'server.json')).mtimeMs;
  } catch {
    return false; // built by `npm run build` or `npm pack`, or not a clone: the build is what there is
  }
  const newer = (dir) =>
    readdirSync(dir, { withFileTypes: true }).some((entry) => {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) return newer(file);
      return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && statSync(file).mtimeMs > stamp;
    });
  return existsSync(path.join(root, 'src')) && newer(path.join(root, 'src'));
}

let runCli;
if (existsSync(built) && process.env.BERTH_FROM_SOURCE !== '1' && !editedSinceBuild()) {
  ({ runCli } = await import(pathToFileURL(built).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ runCli } = await import(pathToFileURL(path.join(root, 'src', 'cli', 'index.ts')).href));
}
process.exitCode = await runCli(process.argv.slice(2));
