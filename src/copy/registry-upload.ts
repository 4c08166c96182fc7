/**
 * A blob upload to a registry that an interruption does not lose (issue 17). The blob goes in
 * chunks (PATCH with Content-Range, `chunkSize` bytes each), and after every chunk the session's
 * URL and the bytes the registry accepted are saved (upload-state.ts): a copy cut short, even the
 * process killed, loses at most the chunk in flight (berth keeps even that; distribution 2.8 drops
 * the whole session when a chunk was cut mid-way). The next upload of the same digest to the same
 * repository asks the session its offset (GET: 204 with `Range: 0-N`) and sends from N+1 only,
 * through `open(offset)`; a session the registry no longer knows (404; distribution cancels one
 * resumed at another offset than its `_state` says, which is the case after a chunk cut mid-way)
 * starts over. A chunk that fails on the connection, 429 or 5xx is tried again from the offset the
 * registry reports, with the client's backoff and bound; a 401 mid-upload (a token expired) is
 * answered and the chunk retried. The final PUT names the digest, and the registry's
 * Docker-Content-Digest must be that digest.
 *
 * A blob no larger than one chunk goes as POST then PUT with the body (no session to keep).
 * Memory stays at a few stream buffers whatever the blob's size: bytes are written to the request
 * as they are read, with backpressure.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { header, push, TransientError, type RegistryClient } from './registry-client.ts';
import type { UploadStateDir } from './upload-state.ts';
import { CopyError, type BlobRef } from './transport.ts';

/**
 * 32 MiB per PATCH. On loopback to a berth (256 MiB blobs, two runs of 5 interleaved rounds, a
 * busy 2-core machine) 16, 32 and 64 MiB chunks and one request for the whole blob were within
 * the noise of each other (medians 1.24-1.64 s, the order differing between runs): a chunk costs
 * a request and the server's flush, not measurable at this size. Smaller chunks lose less where
 * a cut chunk is lost whole: berth keeps the bytes of a PATCH cut mid-way, distribution 2.8
 * refuses the session then (its `_state` offset no longer matches) and the blob starts over.
 */
export const DEFAULT_CHUNK_SIZE = 32 * 1024 * 1024;

export interface UploadOptions {
  /** Bytes per PATCH (default DEFAULT_CHUNK_SIZE); Infinity: one PATCH for the whole blob. */
  chunkSize?: number;
  /** Where sessions are kept between runs; without it an upload resumes only within this call. */
  state?: UploadStateDir;
}

/** The source failed (not the registry): never retried here. */
class SourceError extends Error {}

/** Reads exactly the bytes asked for, in pieces, from a stream opened at some offset. */
class ByteReader {
  private readonly it: AsyncIterator<unknown>;
  private pending: Buffer | undefined;

  constructor(readonly stream: Readable) {
    this.it = stream[Symbol.asyncIterator]();
  }

  async next(max: number): Promise<Buffer> {
    let buf = this.pending;
    this.pending = undefined;
    if (buf === undefined) {
      let r: IteratorResult<unknown>;
      try {
        r = await this.it.next();
      } catch (e) {
        throw new SourceError(`the source failed: ${(e as Error).message}`);
      }
      if (r.done === true) throw new SourceError('the source ended before the blob did');
      buf = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    }
    if (buf.length > max) {
      this.pending = buf.subarray(max);
      return buf.subarray(0, max);
    }
    return buf;
  }
}

interface Session {
  location: URL;
  /** Bytes the registry holds. */
  offset: number;
}

export async function uploadBlob(
  client: RegistryClient,
  repository: string,
  ref: BlobRef,
  open: (offset: number) => Promise<Readable>,
  sent: (bytes: number) => void,
  opts: UploadOptions = {},
): Promise<void> {
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const state = opts.state;
  const scopes = [push(repository)];
  let reported = 0;
  const progress = (position: number): void => {
    if (position > reported) {
      sent(position - reported);
      reported = position;
    }
  };

  let session: Session | undefined;
  const saved = await state?.load(client.host, repository, ref.digest);
  if (saved !== undefined) {
    session = await status(client, new URL(saved.location), scopes).catch(() => undefined);
    if (session === undefined) await state?.remove(client.host, repository, ref.digest);
  }
  if (session === undefined && ref.size <= chunkSize) {
    await monolithic(client, repository, ref, open, progress);
    return;
  }
  session ??= await start(client, repository, scopes);
  const save = (s: Session) => state?.save({ registry: client.host, repository, digest: ref.digest, location: s.location.href, offset: s.offset });
  await save(session);
  progress(session.offset);

  let reader: ByteReader | undefined;
  let readerAt = -1;
  let failures = 0;
  try {
    for (;;) {
      let res: IncomingMessage;
      const finishing = session.offset >= ref.size;
      try {
        if (finishing) {
          const url = new URL(session.location);
          url.searchParams.set('digest', ref.digest);
          res = await client.send('PUT', url, { scopes, body: Buffer.alloc(0) }, authFor(client, url, scopes));
        } else {
          if (reader === undefined || readerAt !== session.offset) {
            reader?.stream.destroy();
            reader = new ByteReader(await open(session.offset));
            readerAt = session.offset;
          }
          const n = Math.min(chunkSize, ref.size - session.offset);
          const r = reader;
          readerAt = -1; // unknown until the chunk is accepted
          res = await patch(client, session, n, scopes, r, progress);
          readerAt = session.offset + n;
        }
      } catch (e) {
        if (!(e instanceof TransientError) || failures >= client.maxRetries) throw client.unreachable(e, finishing ? 'PUT' : 'PATCH', session.location);
        await client.backoff(failures++, undefined);
        session = await resume(client, repository, ref, session, scopes, finishing);
        if (session === undefined) return done(state, client, repository, ref);
        continue;
      }
      const code = res.statusCode ?? 0;
      if (finishing && code === 201) {
        res.resume();
        const stored = header(res.headers, 'docker-content-digest');
        if (stored !== undefined && stored !== ref.digest) {
          throw new CopyError('BERTH_COPY_DIGEST_MISMATCH', `${client.host}: stored blob ${ref.digest} of ${repository} as ${stored}`);
        }
        return done(state, client, repository, ref);
      }
      if (!finishing && code === 202) {
        const location = header(res.headers, 'location');
        res.resume();
        const accepted = rangeEnd(header(res.headers, 'range'));
        session = { location: location === undefined ? session.location : new URL(location, session.location), offset: accepted ?? readerAt };
        failures = 0;
        await save(session);
        continue;
      }
      if (code === 401 && failures < client.maxRetries) {
        failures++;
        await client.answer(res, scopes);
        session = await resume(client, repository, ref, session, scopes, finishing);
        if (session === undefined) return done(state, client, repository, ref);
        continue;
      }
      // 400 to a PATCH: distribution refused the session (it is gone: resume() starts over), or
      // berth is still writing a chunk cut mid-way ("another request is writing to this upload").
      if ((code === 416 || code === 429 || code >= 500 || (code === 400 && !finishing)) && failures < client.maxRetries) {
        res.resume();
        await client.backoff(failures++, header(res.headers, 'retry-after'));
        session = await resume(client, repository, ref, session, scopes, finishing);
        if (session === undefined) return done(state, client, repository, ref);
        continue;
      }
      if (code === 404 && failures < client.maxRetries) {
        // The session is gone: start over.
        res.resume();
        failures++;
        session = await start(client, repository, scopes);
        await save(session);
        continue;
      }
      if (finishing) await state?.remove(client.host, repository, ref.digest);
      throw await client.failure(res, `${finishing ? 'PUT' : 'PATCH'} blob upload ${ref.digest} to ${repository}`);
    }
  } catch (e) {
    if (e instanceof SourceError) throw new CopyError('BERTH_COPY_SOURCE', `${ref.digest}: ${e.message}`);
    throw e;
  } finally {
    reader?.stream.destroy();
  }
}

async function done(state: UploadStateDir | undefined, client: RegistryClient, repository: string, ref: BlobRef): Promise<void> {
  await state?.remove(client.host, repository, ref.digest);
}

/** After a failed step: where the session stands; a new one if it is gone; undefined if the blob got in. */
async function resume(client: RegistryClient, repository: string, ref: BlobRef, session: Session, scopes: string[], finishing: boolean): Promise<Session | undefined> {
  if (finishing && (await client.hasBlob(repository, ref.digest))) return undefined;
  const now = await status(client, session.location, scopes);
  if (now !== undefined) return now;
  if (await client.hasBlob(repository, ref.digest)) return undefined;
  return start(client, repository, scopes);
}

/** The session's offset (GET: 204 with Range), or undefined when the registry no longer knows it. */
async function status(client: RegistryClient, location: URL, scopes: string[]): Promise<Session | undefined> {
  const res = await client.call('GET', location, { scopes });
  res.resume();
  if (res.statusCode === 404 || res.statusCode === 400) return undefined;
  if (res.statusCode !== 204 && res.statusCode !== 202) throw await client.failure(res, 'GET blob upload status');
  const next = header(res.headers, 'location');
  return { location: next === undefined ? location : new URL(next, location), offset: rangeEnd(header(res.headers, 'range')) ?? 0 };
}

async function start(client: RegistryClient, repository: string, scopes: string[]): Promise<Session> {
  const url = client.url(`${repository}/blobs/uploads/`);
  const res = await client.call('POST', url, { scopes, body: Buffer.alloc(0) });
  const location = header(res.headers, 'location');
  if (res.statusCode !== 202 || location === undefined) throw await client.failure(res, `POST blob upload to ${repository}`);
  res.resume();
  return { location: new URL(location, url), offset: 0 };
}

/** A blob of one chunk or less: POST, then PUT with the body and the digest. */
async function monolithic(client: RegistryClient, repository: string, ref: BlobRef, open: (offset: number) => Promise<Readable>, progress: (n: number) => void): Promise<void> {
  const scopes = [push(repository)];
  for (let attempt = 0; ; attempt++) {
    const session = await start(client, repository, scopes);
    const url = new URL(session.location);
    url.searchParams.set('digest', ref.digest);
    const reader = new ByteReader(await open(0));
    let res: IncomingMessage;
    try {
      res = await stream(client, 'PUT', url, scopes, { 'Content-Length': String(ref.size) }, ref.size, reader, progress, 0);
    } catch (e) {
      if (e instanceof SourceError) throw new CopyError('BERTH_COPY_SOURCE', `${ref.digest}: ${e.message}`);
      if (!(e instanceof TransientError) || attempt >= client.maxRetries) throw client.unreachable(e, 'PUT', url);
      await client.backoff(attempt, undefined);
      if (await client.hasBlob(repository, ref.digest)) return;
      continue;
    } finally {
      reader.stream.destroy();
    }
    const code = res.statusCode ?? 0;
    if (code === 201) {
      res.resume();
      const stored = header(res.headers, 'docker-content-digest');
      if (stored !== undefined && stored !== ref.digest) throw new CopyError('BERTH_COPY_DIGEST_MISMATCH', `${client.host}: stored blob ${ref.digest} of ${repository} as ${stored}`);
      return;
    }
    if ((code === 401 || code === 429 || code >= 500) && attempt < client.maxRetries) {
      if (code === 401) await client.answer(res, scopes);
      else {
        res.resume();
        await client.backoff(attempt, header(res.headers, 'retry-after'));
      }
      continue;
    }
    throw await client.failure(res, `PUT blob ${ref.digest} to ${repository}`);
  }
}

function patch(client: RegistryClient, session: Session, n: number, scopes: string[], reader: ByteReader, progress: (position: number) => void): Promise<IncomingMessage> {
  const headers = { 'Content-Length': String(n), 'Content-Range': `${session.offset}-${session.offset + n - 1}` };
  return stream(client, 'PATCH', session.location, scopes, headers, n, reader, progress, session.offset);
}

/** Write `n` bytes of the reader as the request's body; resolves with the response. */
async function stream(
  client: RegistryClient,
  method: 'PATCH' | 'PUT',
  url: URL,
  scopes: string[],
  extra: Record<string, string>,
  n: number,
  reader: ByteReader,
  progress: (position: number) => void,
  from: number,
): Promise<IncomingMessage> {
  const headers: Record<string, string> = { 'User-Agent': 'berth-copy', 'Content-Type': 'application/octet-stream', ...extra };
  const auth = authFor(client, url, scopes);
  if (auth !== undefined) headers['Authorization'] = auth;
  let writing: Promise<void> | undefined;
  const response = client.exchange(method, url, headers, (req) => {
    writing = write(req, n, reader, progress, from);
    // A body cut short by the source: abort the request and report the source's failure.
    writing.catch((e: unknown) => req.destroy(e instanceof SourceError ? new CopyError('BERTH_COPY_SOURCE', e.message) : (e as Error)));
  });
  try {
    const res = await response;
    return res;
  } catch (e) {
    const failed = await writing?.then(
      () => undefined,
      (w: unknown) => w,
    );
    if (failed instanceof SourceError) throw failed;
    throw e;
  }
}

/**
 * The body: `n` bytes of the reader, each piece written once the request has drained the one before.
 * One 'drain' and one 'close' listener for the whole body, not a race per piece against a promise
 * of the close: each race leaves a reaction on that promise until the request ends (about 300 bytes
 * a 64 KiB piece, 5 MiB for a 1 GiB body sent in one PATCH).
 */
async function write(req: ClientRequest, n: number, reader: ByteReader, progress: (position: number) => void, from: number): Promise<void> {
  let left = n;
  // 'error' or 'close': either way the body is over.
  let over = false;
  let wake: ((drained: boolean) => void) | undefined;
  const onDrain = (): void => wake?.(true);
  const onOver = (): void => {
    over = true;
    wake?.(false);
  };
  req.on('drain', onDrain);
  req.on('close', onOver);
  req.on('error', onOver);
  try {
    while (left > 0) {
      if (over || req.destroyed) return;
      const buf = await reader.next(left);
      left -= buf.length;
      if (!req.write(buf)) {
        if (over) return;
        const drained = await new Promise<boolean>((resolve) => (wake = resolve));
        wake = undefined;
        if (!drained) return;
      }
      progress(from + n - left);
    }
    req.end();
  } finally {
    req.off('drain', onDrain);
    req.off('close', onOver);
    req.off('error', onOver);
  }
}

function authFor(client: RegistryClient, url: URL, scopes: string[]): string | undefined {
  return url.origin === client.base.origin ? client.authorization(scopes) : undefined;
}

/** `0-N` -> N+1 bytes held; `0-0` is read as none (registries send it for an empty session too). */
function rangeEnd(range: string | undefined): number | undefined {
  const m = /^(?:bytes=)?0-(\d+)$/.exec(range?.trim() ?? '');
  if (m === null) return undefined;
  const end = Number(m[1]);
  return end === 0 ? 0 : end + 1;
}

/**
 * A blob whose digest is known only once its bytes went by (a legacy `docker save` layer): one
 * session, the body in one PATCH as it streams, then the PUT naming the digest `digest` resolves
 * to. Not resumable and not retried (the body can be read once, and no digest names a session to
 * keep); the engine tries the entry again from its source if it can.
 */
export async function uploadUnnamedBlob(
  client: RegistryClient,
  repository: string,
  size: number,
  body: Readable,
  digest: Promise<string>,
  sent: (bytes: number) => void,
): Promise<BlobRef> {
  const scopes = [push(repository)];
  const reader = new ByteReader(body);
  let reported = 0;
  const progress = (position: number): void => {
    if (position > reported) {
      sent(position - reported);
      reported = position;
    }
  };
  try {
    let session = await start(client, repository, scopes);
    if (size > 0) {
      const res = await patch(client, session, size, scopes, reader, progress).catch((e: unknown) => {
        throw e instanceof SourceError ? new CopyError('BERTH_COPY_SOURCE', e.message) : client.unreachable(e, 'PATCH', session.location);
      });
      if (res.statusCode !== 202) throw await client.failure(res, `PATCH blob upload to ${repository}`);
      res.resume();
      const location = header(res.headers, 'location');
      session = { location: location === undefined ? session.location : new URL(location, session.location), offset: size };
    }
    const named = await digest;
    const url = new URL(session.location);
    url.searchParams.set('digest', named);
    const res = await client.send('PUT', url, { scopes, body: Buffer.alloc(0) }, authFor(client, url, scopes)).catch((e: unknown) => {
      throw client.unreachable(e, 'PUT', url);
    });
    if (res.statusCode !== 201) throw await client.failure(res, `PUT blob ${named} to ${repository}`);
    res.resume();
    const stored = header(res.headers, 'docker-content-digest');
    if (stored !== undefined && stored !== named) throw new CopyError('BERTH_COPY_DIGEST_MISMATCH', `${client.host}: stored blob ${named} of ${repository} as ${stored}`);
    return { digest: named, size };
  } finally {
    body.destroy();
  }
}
