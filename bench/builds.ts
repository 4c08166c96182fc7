// 17. Automated builds (berth only, issue 16): the time from a signed GitHub push webhook to the
// image pushed into berth, for a small Dockerfile (FROM scratch, COPY of one file), against the
// same build and push done by buildah alone from a checkout (the machine's limit), interleaved.
// berth's overhead is what the webhook, the queue, the fetch and the bookkeeping add.
// Also runnable alone: node --import tsx bench/builds.ts
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readConfig } from './config.ts';
import { errMsg, log } from './context.ts';
import { installCleanupHandlers, makeTempDir, runMain, stopProc } from './procs.ts';
import { buildBerth, startBerth } from './servers.ts';
import { Section } from './table.ts';

const REPO = 'bench/built';

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).trim().slice(-300)}`);
  return r.stdout.trim();
}

const git = (dir: string, ...args: string[]): string => run('git', ['-c', 'user.email=bench@example.com', '-c', 'user.name=bench', ...args], dir);

function haveTools(): string | undefined {
  for (const tool of ['buildah', 'git']) if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} not installed`;
  return undefined;
}

/** Section 17; `started` is the bench's start (for its log lines). */
export async function buildsSection(ctx: { started: number; runs: number }, work: string): Promise<Section> {
  const sec = new Section('17. Automated builds: webhook to pushed image (berth only)', [
    { key: 'buildah', label: 'buildah alone (build + push)' },
    { key: 'berth', label: 'berth, webhook to pushed' },
  ], { num: 'berth', den: 'buildah', label: 'berth/buildah' });
  const metric = 'seconds, FROM scratch + COPY of one file';
  sec.notes.push(
    'berth: a commit, then a signed GitHub push webhook (the rule reads the repository over file://), timed from the webhook sent ' +
      "to the build's recorded end (the image pushed, the build finished in the database). buildah alone: `buildah build` (vfs, chroot) of the same checkout into a " +
      'fresh store and `buildah push` into the same berth, as berth runs it. Interleaved, median. The difference is what berth adds.',
  );
  const missing = haveTools();
  if (missing !== undefined) {
    sec.fail(metric, 'berth', missing);
    return sec;
  }
  const repo = join(work, 'build-repo');
  mkdirSync(repo, { recursive: true });
  git(repo, 'init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'Dockerfile'), 'FROM scratch\nCOPY app.txt /app.txt\n');
  const commit = (n: number): string => {
    writeFileSync(join(repo, 'app.txt'), `build ${n}\n`);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', `build ${n}`);
    return git(repo, 'rev-parse', 'HEAD');
  };
  commit(0);
  const berth = await startBerth(work, { dataDir: 'builds-data', label: 'berth-builds', env: { REGISTRY_BUILDS_ENABLED: 'true', REGISTRY_BUILDS_WORKDIR: join(work, 'builds-work') } });
  try {
    const base = berth.base.href.replace(/\/$/, '');
    const res = await fetch(`${base}/api/v1/repositories/${REPO}/_builds/rules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ gitUrl: `file://${repo}`, source: 'main', tag: 'latest' }),
    });
    if (res.status !== 201) throw new Error(`adding the rule answered ${res.status}: ${await res.text()}`);
    const rule = (await res.json()) as { hookUrl: string; hookSecret: string };
    const hook = new URL(rule.hookUrl).pathname;
    const host = berth.base.host;
    for (let i = 1; i <= ctx.runs; i++) {
      try {
        const head = commit(i);
        const body = JSON.stringify({ ref: 'refs/heads/main', after: head });
        const sent = Date.now();
        const answer = await fetch(base + hook, {
          method: 'POST',
          headers: { 'x-github-event': 'push', 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', rule.hookSecret).update(body).digest('hex')}` },
          body,
        });
        const id = ((await answer.json()) as { builds: { id: number }[] }).builds[0]?.id;
        if (id === undefined) throw new Error(`the webhook queued no build (${answer.status})`);
        const events = await (await fetch(`${base}/api/v1/repositories/${REPO}/_builds/${id}/log`, { headers: { accept: 'text/event-stream' } })).text();
        const end = JSON.parse(/^event: status\ndata: (.*)$/m.exec(events)?.[1] ?? '{}') as { status?: string; finished?: string };
        if (end.status !== 'succeeded' || end.finished === undefined) throw new Error(`build ${id} did not succeed: ${events.slice(-300)}`);
        // to the moment the build was recorded as finished (same machine, same clock), not to when the log's follower noticed
        const seconds = (Date.parse(end.finished) - sent) / 1000;
        sec.add(metric, 'berth', seconds);
        log(ctx, `builds run ${i}/${ctx.runs} berth: ${seconds.toFixed(2)} s`);
      } catch (err) {
        sec.fail(metric, 'berth', errMsg(err));
      }
      const dir = join(work, `buildah-alone-${i}`);
      try {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'registries.conf'), `[[registry]]\nlocation = "${host}"\ninsecure = true\n`);
        const env = { ...process.env, CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'), HOME: dir };
        const storage = ['--root', join(dir, 'store'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs'];
        const t0 = performance.now();
        run('buildah', [...storage, 'build', '--isolation', 'chroot', '-f', join(repo, 'Dockerfile'), '-t', `${host}/bench/alone:latest`, repo], dir, env);
        run('buildah', [...storage, 'push', `${host}/bench/alone:latest`], dir, env);
        const seconds = (performance.now() - t0) / 1000;
        sec.add(metric, 'buildah', seconds);
        log(ctx, `builds run ${i}/${ctx.runs} buildah alone: ${seconds.toFixed(2)} s`);
      } catch (err) {
        sec.fail(metric, 'buildah', errMsg(err));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await stopProc(berth.proc);
  }
  return sec;
}

/** Alone: build berth, run section 17, print it. */
async function main(): Promise<void> {
  installCleanupHandlers();
  const cfg = readConfig();
  const started = Date.now();
  const work = makeTempDir('berth-bench-builds-');
  buildBerth();
  const sec = await buildsSection({ started, runs: Math.max(cfg.runs, 5) }, work);
  process.stdout.write(`\n${sec.render()}\n`);
}

runMain(main, import.meta.url);
