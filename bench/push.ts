// Blob transfer measurements: monolithic push, chunked push, pull, many small pushes.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import { expectStatus, location, request } from './client.ts';
import { payloadStream, smallBlob, type Payload } from './payload.ts';
import type { Server } from './servers.ts';

const OCTET = 'application/octet-stream';

/** What a push needs of a server: where it is and what to call it in errors (a bare server of section 15 too). */
export type PushTarget = Pick<Server, 'base'> & { name: string };

function uploadsUrl(srv: PushTarget, repo: string): URL {
  return new URL(`/v2/${repo}/blobs/uploads/`, srv.base);
}

async function startUpload(srv: PushTarget, repo: string, agent?: http.Agent): Promise<URL> {
  const what = `${srv.name}: POST ${repo} upload`;
  const res = expectStatus(await request('POST', uploadsUrl(srv, repo), { agent }), [202], what);
  return location(res, srv.base, what);
}

function withDigest(loc: URL, digest: string): URL {
  const u = new URL(loc);
  u.searchParams.set('digest', digest);
  return u;
}

/**
 * POST + PUT ?digest= with the whole body streamed. Returns elapsed seconds. `opts.agent`: a
 * connection of the caller's own; `opts.bufferBytes`: the read size from the source file.
 */
export async function pushMonolithic(srv: Server, repo: string, p: Payload, opts: { agent?: http.Agent; bufferBytes?: number } = {}): Promise<number> {
  const t0 = performance.now();
  const loc = await startUpload(srv, repo, opts.agent);
  const res = await request('PUT', withDigest(loc, p.digest), {
    headers: { 'content-type': OCTET, 'content-length': p.size },
    body: payloadStream(p, 0, p.size, opts.bufferBytes),
    timeoutMs: 300_000,
    agent: opts.agent,
  });
  expectStatus(res, [201], `${srv.name}: PUT monolithic ${p.size} bytes`);
  return (performance.now() - t0) / 1000;
}

/** POST, PATCH each chunk (Content-Range start-end, following Location), PUT ?digest=. */
export async function pushChunked(srv: Server, repo: string, p: Payload, chunkSize: number): Promise<number> {
  const t0 = performance.now();
  let loc = await startUpload(srv, repo);
  for (let off = 0; off < p.size; off += chunkSize) {
    const end = Math.min(off + chunkSize, p.size);
    const what = `${srv.name}: PATCH ${off}-${end - 1}`;
    const res = await request('PATCH', loc, {
      headers: { 'content-type': OCTET, 'content-range': `${off}-${end - 1}`, 'content-length': end - off },
      body: payloadStream(p, off, end),
      timeoutMs: 300_000,
    });
    expectStatus(res, [202], what);
    loc = location(res, srv.base, what);
  }
  const res = await request('PUT', withDigest(loc, p.digest), { headers: { 'content-length': 0 } });
  expectStatus(res, [201], `${srv.name}: PUT chunked commit`);
  return (performance.now() - t0) / 1000;
}

export interface PullResult {
  seconds: number;
  bytes: number;
}

let curlPresent: boolean | undefined;
export function haveCurl(): boolean {
  curlPresent ??= existsSync('/usr/bin/curl');
  return curlPresent;
}

/** Run curl with `-w '%{http_code} <size> %{time_total}'` appended; resolves with those three numbers. */
function curl(args: string[], sizeVar: 'size_download' | 'size_upload'): Promise<{ status: number; bytes: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/curl', ['-s', '-o', '/dev/null', '--max-time', '300', '-w', `%{http_code} %{${sizeVar}} %{time_total}`, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('error', reject);
    // 'close', not 'exit': curl's output may still be in the pipe when it exits (16 at once lost one).
    child.on('close', (code) => {
      const [status, bytes, seconds] = out.trim().split(' ').map(Number);
      if (status === undefined || bytes === undefined || seconds === undefined || Number.isNaN(seconds)) {
        reject(new Error(`curl ${args.join(' ')} exited ${code} with output "${out}"`));
      } else {
        resolve({ status, bytes, seconds });
      }
    });
  });
}

function curlGet(url: URL): Promise<{ status: number; bytes: number; seconds: number }> {
  return curl([url.href], 'size_download');
}

/**
 * POST (node:http), then `curl -T file -X PUT '<Location>&digest=...'` with Content-Type
 * application/octet-stream, as a user pushes a layer by hand. Returns the POST's time plus
 * curl's own time_total (no process start-up in the figure).
 */
export async function pushWithCurl(srv: Server, repo: string, file: string, size: number, digest: string): Promise<number> {
  const t0 = performance.now();
  const loc = await startUpload(srv, repo);
  const post = (performance.now() - t0) / 1000;
  const r = await curl(['-T', file, '-X', 'PUT', '-H', `Content-Type: ${OCTET}`, withDigest(loc, digest).href], 'size_upload');
  if (r.status !== 201) throw new Error(`${srv.name}: curl -T PUT answered ${r.status}`);
  if (r.bytes !== size) throw new Error(`${srv.name}: curl -T sent ${r.bytes} bytes, expected ${size}`);
  return post + r.seconds;
}

/** GET, discarding the body. curl when present (so the client is not the bottleneck), else node:http. */
export async function pull(url: URL, expectedBytes: number, what: string): Promise<PullResult> {
  let status: number;
  let bytes: number;
  let seconds: number;
  if (haveCurl()) {
    ({ status, bytes, seconds } = await curlGet(url));
  } else {
    const t0 = performance.now();
    const res = await request('GET', url, { maxBody: 0, timeoutMs: 300_000 });
    seconds = (performance.now() - t0) / 1000;
    status = res.status;
    bytes = res.bytes;
  }
  if (status !== 200) throw new Error(`${what}: GET ${url.pathname} answered ${status}`);
  if (bytes !== expectedBytes) throw new Error(`${what}: pulled ${bytes} bytes, expected ${expectedBytes}`);
  return { seconds, bytes };
}

/** Untimed: GET the blob with node:http and check length and sha256. */
export async function verifyBlob(srv: Server, repo: string, p: Payload): Promise<void> {
  const hash = createHash('sha256');
  const res = await request('GET', new URL(`/v2/${repo}/blobs/${p.digest}`, srv.base), {
    maxBody: 0,
    timeoutMs: 300_000,
    onData: (c) => hash.update(c),
  });
  const got = `sha256:${hash.digest('hex')}`;
  if (res.status !== 200 || res.bytes !== p.size || got !== p.digest) {
    throw new Error(`${srv.name}: blob verify failed: status ${res.status}, ${res.bytes}/${p.size} bytes, ${got} vs ${p.digest}`);
  }
}

/** POST + PUT ?digest= of each blob in turn (on `agent`'s connection, else the shared agent). */
export async function pushBlobsInTurn(srv: PushTarget, repo: string, blobs: { data: Buffer; digest: string }[], agent?: http.Agent): Promise<void> {
  for (const b of blobs) {
    const loc = await startUpload(srv, repo, agent);
    const res = await request('PUT', withDigest(loc, b.digest), {
      headers: { 'content-type': OCTET, 'content-length': b.data.length },
      body: b.data,
      agent,
    });
    expectStatus(res, [201], `${srv.name}: PUT small blob`);
  }
}

/** `count` sequential POST + PUT ?digest= pushes of distinct random blobs. Returns pushes/s. */
export async function pushSmallBlobs(srv: PushTarget, repo: string, count: number, size: number): Promise<number> {
  const blobs = Array.from({ length: count }, () => smallBlob(size));
  const t0 = performance.now();
  await pushBlobsInTurn(srv, repo, blobs);
  return count / ((performance.now() - t0) / 1000);
}
