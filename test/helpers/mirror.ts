/**
 * Helpers for the mirror suites: an upstream (a second berth, or distribution 2.8.2 from Debian's
 * `docker-registry`), counting what reached it, and pushing images to it with plain HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashSync } from 'bcryptjs';
import { pino } from 'pino';
import { configSchema, type ConfigInput } from '../../src/config/schema.ts';
import { startRegistry, type RunningRegistry } from '../../src/main.ts';
import type { BuiltImage } from '../fixtures/oci.ts';
import { freePort, tempDir } from './process.ts';

/** `berth_http_requests_total` of a berth, summed over statuses: `route method` -> count. */
export async function requestCounts(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const m of text.matchAll(/^berth_http_requests_total\{route="([^"]+)",method="([^"]+)",status="\d+"\} (\d+)$/gm)) {
    const key = `${m[1]} ${m[2]}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(m[3]));
  }
  return counts;
}

/** How many more requests of each `route method` the upstream saw since `before`. */
export function delta(before: Map<string, number>, after: Map<string, number>, key: string): number {
  return (after.get(key) ?? 0) - (before.get(key) ?? 0);
}

/**
 * Resolves once the mirror holds the blob. A client gets a blob's last bytes as soon as they are
 * verified; the cached copy is committed (made durable, linked) a moment later.
 */
export async function blobCached(registry: { blobs: { bytesPresent(digest: string): Promise<boolean> } }, digest: string, ms = 20_000): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
    if (await registry.blobs.bytesPresent(digest)) return true;
  }
  return false;
}

/** Push one blob with POST then PUT (what every registry supports). */
export async function pushBlobTwoStep(base: string, repo: string, data: Buffer, headers: Record<string, string> = {}): Promise<string> {
  const { createHash } = await import('node:crypto');
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers });
  if (start.status !== 202) throw new Error(`POST upload: ${start.status} ${await start.text()}`);
  const location = new URL(start.headers.get('location') ?? '', base);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', body: new Uint8Array(data), headers: { ...headers, 'Content-Type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`PUT upload: ${put.status} ${await put.text()}`);
  return digest;
}

/** Push a fixture image (its blobs, then its manifest under `tag`). */
export async function pushBuiltImage(base: string, repo: string, tag: string, image: BuiltImage, headers: Record<string, string> = {}): Promise<void> {
  for (const data of image.blobs.values()) await pushBlobTwoStep(base, repo, data, headers);
  const res = await fetch(`${base}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    body: new Uint8Array(image.manifest),
    headers: { ...headers, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
  });
  if (res.status !== 201) throw new Error(`PUT manifest: ${res.status} ${await res.text()}`);
}

export interface Distribution {
  url: string;
  root: string;
  port: number;
  /** Basic credentials it requires (htpasswd). */
  user: string;
  password: string;
  process: ChildProcess;
  /** Start it again on the same port and storage (after kill). */
  restart(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

async function waitReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited ${child.exitCode}\n${output()}`);
    try {
      const res = await fetch(`${url}/v2/`);
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not answer\n${output()}`);
}

/** distribution 2.8.2 on a loopback port, filesystem storage, htpasswd (Basic) auth. */
export async function startDistribution(): Promise<Distribution> {
  const root = await tempDir('distribution');
  const port = await freePort();
  const user = 'mirror';
  const password = 'upstream-secret';
  await writeFile(join(root, 'htpasswd'), `${user}:${hashSync(password, 5)}\n`);
  const config = join(root, 'config.yml');
  await writeFile(
    config,
    `version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage:
  filesystem: { rootdirectory: ${join(root, 'data')} }
  delete: { enabled: true }
http: { addr: "127.0.0.1:${port}" }
auth:
  htpasswd: { realm: upstream, path: ${join(root, 'htpasswd')} }
`,
  );
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess;
  let output = '';
  const launch = async () => {
    child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await waitReady(url, child, () => output);
  };
  await launch();
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  };
  return {
    url,
    root,
    port,
    user,
    password,
    get process() {
      return child;
    },
    restart: launch,
    kill,
    async stop() {
      await kill('SIGTERM');
      await rm(root, { recursive: true, force: true });
    },
  };
}

export function basicAuth(user: string, password: string): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

/** An in-process berth on a root directory of the caller's, to start it again on the same data with another config. */
export async function startBerthOn(root: string, config: ConfigInput = {}): Promise<{ url: string; running: RunningRegistry }> {
  const parsed = configSchema.parse({
    ...config,
    http: { ...config.http, addr: '127.0.0.1:0' },
    log: { level: 'warn', ...config.log },
    storage: { ...config.storage, filesystem: { rootdirectory: root } },
  });
  const running = await startRegistry(parsed, pino({ level: 'warn' }));
  return { url: `http://127.0.0.1:${running.address.port}`, running };
}

/** What GET and HEAD of a blob answer (statuses; the GET's error code, if any), with these headers. */
export async function probeBlob(
  base: string,
  repo: string,
  digest: string,
  headers: Record<string, string> = {},
): Promise<{ get: number; head: number; code: string | undefined }> {
  const head = await fetch(`${base}/v2/${repo}/blobs/${digest}`, { method: 'HEAD', headers });
  const get = await fetch(`${base}/v2/${repo}/blobs/${digest}`, { headers });
  const text = await get.text();
  const code = get.status === 200 ? undefined : (JSON.parse(text) as { errors?: { code: string }[] }).errors?.[0]?.code;
  return { get: get.status, head: head.status, code };
}
