/**
 * `npm start`'s build step (scripts/build-if-changed.mjs): a start with nothing changed runs no
 * compiler, and any change that alters what would be served (an edit, a new or deleted source, a new
 * lockfile, a deleted or hand-built dist/) rebuilds before the server starts.
 *
 * The script runs on a copy of itself in a small temporary tree whose tsc and vite are stand-ins
 * that record each call and write the outputs the real ones would (dist/main.js, ui/dist/index.html),
 * so the test takes seconds and checks exactly which builds ran.
 */
import assert from 'node:assert/strict';
import { appendFile, copyFile, mkdir, readFile, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, run, tempDir } from '../helpers/process.ts';

const SCRIPT = 'scripts/build-if-changed.mjs';

/** A stand-in for tsc or vite (CommonJS): logs its call, then writes what the real tool would. */
function standIn(tool: 'tsc' | 'vite'): string {
  const write =
    tool === 'tsc'
      ? `fs.mkdirSync('dist', { recursive: true });
fs.writeFileSync('dist/main.js', fs.readFileSync('src/main.ts'));
if (info !== undefined) { fs.mkdirSync(path.dirname(info), { recursive: true }); fs.writeFileSync(info, '{}'); }
process.exitCode = Number(process.env.FAKE_TSC_STATUS ?? 0);`
      : `fs.rmSync('ui/dist', { recursive: true, force: true });
fs.mkdirSync('ui/dist', { recursive: true });
fs.writeFileSync('ui/dist/index.html', fs.readFileSync('ui/index.html'));`;
  return `const fs = require('node:fs');
const path = require('node:path');
const args = process.argv.slice(2);
const at = args.indexOf('--tsBuildInfoFile');
const info = at >= 0 ? args[at + 1] : undefined;
const call = { tool: '${tool}', incremental: args.includes('--incremental'), hadBuildInfo: info !== undefined && fs.existsSync(info) };
fs.appendFileSync(process.env.FAKE_LOG, JSON.stringify(call) + '\\n');
${write}
`;
}

const TREE: Record<string, string> = {
  'package.json': '{ "name": "tree", "type": "module" }\n',
  'package-lock.json': '{ "lockfileVersion": 3 }\n',
  'tsconfig.json': '{}\n',
  'tsconfig.build.json': '{ "extends": "./tsconfig.json" }\n',
  'src/main.ts': 'export const version = 1;\n',
  'src/main.test.ts': "import './main.ts';\n",
  'ui/index.html': '<!doctype html><title>v1</title>\n',
  'ui/vite.config.ts': 'export default {};\n',
  'ui/src/app.tsx': 'export const App = () => null;\n',
  'node_modules/typescript/package.json': '{}\n',
  'node_modules/typescript/bin/tsc': standIn('tsc'),
  'node_modules/vite/package.json': '{}\n',
  'node_modules/vite/bin/vite.js': standIn('vite'),
};

interface Call {
  tool: 'tsc' | 'vite';
  incremental: boolean;
  hadBuildInfo: boolean;
}

describe("npm start's build step (scripts/build-if-changed.mjs)", () => {
  let root: string;
  let log: string;

  /** Runs the build step with `args`; returns its exit code and the builds it ran. */
  async function start(args: string[] = [], env: Record<string, string> = {}): Promise<{ code: number | null; calls: Call[]; stderr: string }> {
    await writeFile(log, '');
    const result = await run(process.execPath, [join(root, SCRIPT), ...args], { cwd: root, env: { FAKE_LOG: log, ...env }, timeout: 30_000 });
    const calls = (await readFile(log, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as Call);
    return { code: result.code, calls, stderr: result.stderr };
  }

  async function tools(args: string[] = [], env: Record<string, string> = {}): Promise<string[]> {
    const { code, calls, stderr } = await start(args, env);
    assert.equal(code, 0, stderr);
    return calls.map((c) => c.tool);
  }

  before(async () => {
    root = await tempDir('start-build');
    log = join(root, 'calls.log');
    for (const [rel, text] of Object.entries(TREE)) {
      await mkdir(dirname(join(root, rel)), { recursive: true });
      await writeFile(join(root, rel), text);
    }
    await mkdir(join(root, 'scripts'));
    await copyFile(join(REPO_ROOT, SCRIPT), join(root, SCRIPT));
  });

  after(async () => {
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  it('npm start runs it before the server', async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts.start, `node ${SCRIPT} && node --max-semi-space-size=8 bin/berth.js serve`);
  });

  it('builds both on the first start, then nothing on the second', async () => {
    assert.deepEqual(await tools(), ['tsc', 'vite']);
    assert.deepEqual(await tools(), []);
    assert.equal(await readFile(join(root, 'dist/main.js'), 'utf8'), TREE['src/main.ts']);
  });

  it('rebuilds nothing for a touched file, or an edited test', async () => {
    const later = new Date(Date.now() + 60_000);
    await utimes(join(root, 'src/main.ts'), later, later);
    await appendFile(join(root, 'src/main.test.ts'), '// more\n');
    assert.deepEqual(await tools(), []);
  });

  it('an edited server source rebuilds the server only, incrementally', async () => {
    await writeFile(join(root, 'src/main.ts'), 'export const version = 2;\n');
    const { code, calls } = await start();
    assert.equal(code, 0);
    assert.deepEqual(calls, [{ tool: 'tsc', incremental: true, hadBuildInfo: true }]);
    assert.equal(await readFile(join(root, 'dist/main.js'), 'utf8'), 'export const version = 2;\n');
    assert.deepEqual(await tools(), []);
  });

  it('an edited UI file rebuilds the UI only', async () => {
    await writeFile(join(root, 'ui/index.html'), '<!doctype html><title>v2</title>\n');
    assert.deepEqual(await tools(), ['vite']);
    assert.match(await readFile(join(root, 'ui/dist/index.html'), 'utf8'), /v2/);
    assert.deepEqual(await tools(), []);
  });

  it('a new or a deleted source rebuilds', async () => {
    await writeFile(join(root, 'src/extra.ts'), 'export {};\n');
    assert.deepEqual(await tools(), ['tsc']);
    await unlink(join(root, 'src/extra.ts'));
    assert.deepEqual(await tools(), ['tsc']);
    await writeFile(join(root, 'ui/src/extra.tsx'), 'export {};\n');
    assert.deepEqual(await tools(), ['vite']);
  });

  it('a new lockfile rebuilds both', async () => {
    await writeFile(join(root, 'package-lock.json'), '{ "lockfileVersion": 3, "packages": {} }\n');
    assert.deepEqual(await tools(), ['tsc', 'vite']);
  });

  it('a deleted output rebuilds it in full (tsc would not re-emit it incrementally)', async () => {
    await unlink(join(root, 'dist/main.js'));
    const { calls } = await start();
    assert.deepEqual(calls, [{ tool: 'tsc', incremental: true, hadBuildInfo: false }]);
    await rm(join(root, 'ui/dist'), { recursive: true });
    assert.deepEqual(await tools(), ['vite']);
  });

  it('a build by another command, then a revert, still rebuilds: dist/ is never older than the sources', async () => {
    // As `npm run build` after an edit, then the edit undone: the sources match the last build
    // again, but dist/ holds the edit.
    await writeFile(join(root, 'dist/main.js'), 'export const version = "edited";\n');
    const { calls } = await start();
    assert.deepEqual(calls, [{ tool: 'tsc', incremental: true, hadBuildInfo: false }]);
    assert.equal(await readFile(join(root, 'dist/main.js'), 'utf8'), 'export const version = 2;\n');
  });

  it('a failed build stops the start, and the next start builds again', async () => {
    await writeFile(join(root, 'src/main.ts'), 'export const version: number = "3";\n');
    await writeFile(join(root, 'ui/index.html'), '<!doctype html><title>v3</title>\n');
    const failed = await start([], { FAKE_TSC_STATUS: '2' });
    assert.equal(failed.code, 2);
    assert.deepEqual(failed.calls.map((c) => c.tool), ['tsc'], 'the UI is not built after the server failed');
    const { code, calls } = await start();
    assert.equal(code, 0);
    assert.deepEqual(calls, [
      { tool: 'tsc', incremental: true, hadBuildInfo: true },
      { tool: 'vite', incremental: false, hadBuildInfo: false },
    ]);
  });

  it('builds only the targets it is given, and refuses an unknown one', async () => {
    await writeFile(join(root, 'src/main.ts'), 'export const version = 4;\n');
    await writeFile(join(root, 'ui/index.html'), '<!doctype html><title>v4</title>\n');
    assert.deepEqual(await tools(['ui']), ['vite']);
    assert.deepEqual(await tools(['server']), ['tsc']);
    const unknown = await start(['web']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown target web/);
  });
});
