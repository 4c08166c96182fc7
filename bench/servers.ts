// Starting the three servers under test: berth, distribution 2.8.2, nginx (static ceiling).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { request, waitForHttp } from './client.ts';
import { berthDirFromEnv } from './config.ts';
import { makeTempDir, startProc, type Proc } from './procs.ts';

export type ServerName = 'berth' | 'distribution' | 'nginx';

export interface Server {
  name: ServerName;
  base: URL;
  proc: Proc;
  /** Storage root (registries) or document root (nginx). */
  root: string;
}

export const REPO_ROOT = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
export const BERTH_SOURCE = join(REPO_ROOT, 'src', 'main.ts');
/** A private build to measure (BENCH_BERTH_DIR), else this checkout. */
export const BERTH_DIR = berthDirFromEnv();
export const BERTH_HOME = BERTH_DIR ?? REPO_ROOT;
/** berth runs as deployed: the compiled build (`npm run build`), not through the tsx loader. */
export const BERTH_MAIN = join(BERTH_HOME, 'bin', 'berth.js');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

function deadCheck(proc: Proc): () => string | null {
  return () => {
    if (!proc.exited()) return null;
    const { exitCode, signalCode } = proc.child;
    const how = signalCode ? `signal ${signalCode}` : `exit code ${exitCode}`;
    return `${proc.name} (${how}): ${proc.tail().trim().slice(-2000) || '(no output)'}`;
  };
}

export function berthAvailable(): boolean {
  return BERTH_DIR !== undefined || existsSync(BERTH_SOURCE);
}

/** Compile berth (tsc) so that the bench measures the build, as `npm start` runs it; BENCH_BERTH_DIR is built already. */
export function buildBerth(): void {
  if (BERTH_DIR !== undefined) return;
  execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO_ROOT, 'tsconfig.build.json')], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
}

/** berth from its build; `opts` for another instance beside it (its data directory, more environment). */
export async function startBerth(work: string, opts: { dataDir?: string; env?: NodeJS.ProcessEnv; label?: string } = {}): Promise<Server> {
  const root = join(work, opts.dataDir ?? 'berth-data');
  mkdirSync(root, { recursive: true });
  const port = await freePort();
  // Spawn node directly (not npm) so proc.pid is the server process whose VmHWM we read, with the
  // young-generation cap that `npm start`, bin/berth.js and the image give it.
  const proc = startProc(opts.label ?? 'berth', process.execPath, ['--max-semi-space-size=8', BERTH_MAIN, 'serve'], {
    cwd: BERTH_HOME,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      REGISTRY_HTTP_ADDR: `127.0.0.1:${port}`,
      REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root,
      REGISTRY_LOG_LEVEL: 'warn',
      REGISTRY_LOG_ACCESSLOG_DISABLED: 'true',
      ...opts.env,
    },
  });
  const base = new URL(`http://127.0.0.1:${port}/`);
  await waitForHttp(new URL('/v2/', base), 60_000, deadCheck(proc));
  return { name: 'berth', base, proc, root };
}

/** distribution 2.8.2 on its filesystem driver in `work`. */
export async function startDistribution(work: string): Promise<Server> {
  const root = join(work, 'distribution-data');
  mkdirSync(root, { recursive: true });
  return startDistributionWith(work, 'distribution', ['  filesystem:', `    rootdirectory: ${root}`], root);
}

/**
 * distribution 2.8.2 with these `storage:` lines (its driver), named `label`, in the shape of
 * upstream's config-example.yml (delete on, the in-memory blob descriptor cache, logs quiet); no
 * REGISTRY_* or AWS_* variable of ours reaches it.
 */
export async function startDistributionWith(work: string, label: string, storage: string[], root = ''): Promise<Server> {
  const port = await freePort();
  const cfg = join(work, `${label}.yml`);
  const yaml = ['version: 0.1', 'log:', '  level: error', '  accesslog:', '    disabled: true', 'storage:', ...storage];
  yaml.push('  delete:', '    enabled: true', '  cache:', '    blobdescriptor: inmemory', 'http:', `  addr: 127.0.0.1:${port}`, '');
  writeFileSync(cfg, yaml.join('\n'));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('REGISTRY_') && !k.startsWith('AWS_')) env[k] = v;
  const proc = startProc(label, '/usr/bin/docker-registry', ['serve', cfg], { env });
  const base = new URL(`http://127.0.0.1:${port}/`);
  await waitForHttp(new URL('/v2/', base), 30_000, deadCheck(proc));
  return { name: 'distribution', base, proc, root };
}

export async function startNginx(work: string): Promise<Server> {
  const prefix = join(work, 'nginx');
  const root = join(prefix, 'html');
  mkdirSync(root, { recursive: true });
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(prefix, 'tmp', d), { recursive: true });
  // Workers may drop to an unprivileged user: make the tree readable.
  chmodSync(work, 0o755);
  chmodSync(prefix, 0o755);
  chmodSync(root, 0o755);
  const port = await freePort();
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
user root;
worker_processes auto;
pid ${prefix}/nginx.pid;
error_log stderr error;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  default_type application/octet-stream;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location / { }
  }
}
`,
  );
  writeFileSync(join(root, 'ready'), 'ok\n');
  const proc = startProc('nginx', '/usr/sbin/nginx', ['-e', 'stderr', '-p', prefix, '-c', conf]);
  const base = new URL(`http://127.0.0.1:${port}/`);
  await waitForHttp(new URL('/ready', base), 15_000, deadCheck(proc));
  return { name: 'nginx', base, proc, root };
}

export function tempWorkDir(): string {
  return makeTempDir('berth-bench-');
}

/** First non-empty output line of a version command, for the header; never throws. */
export function toolVersion(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
  const line = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').find((l) => l.trim() !== '');
  return line?.trim() ?? 'unknown';
}

export async function checkGet(srv: Server, path: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await request('GET', new URL(path, srv.base), { headers });
  return res.status;
}
