/**
 * Chunked uploads across nodes: two UploadService instances ("nodes") sharing one PostgreSQL
 * upload state, one meta store and one storage (a MemoryDriver, seen by each node through a
 * wrapper that counts its reads of upload data). Each PATCH may reach either node and the one
 * finishing reads no bytes back; a missing, stale or unloadable state falls back to re-reading;
 * two requests of one session on two nodes at once never both write; a wrong digest is refused.
 *
 * The meta store is SQLite's (the PostgreSQL one is another piece of work); its createUpload
 * also inserts the session's `uploads` row into PostgreSQL, which upload_state references.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { PG_SKIP, pgDatabase, type PgFixture } from '../../test/helpers/pg-database.ts';
import type { PgDatabase } from '../meta/postgres/database.ts';
import { PgUploadStateStore } from '../meta/postgres/upload-state.ts';
import { SqliteMetaStore } from '../meta/sqlite/sqlite-store.ts';
import type { UploadSession } from '../meta/store.ts';
import type { FileInfo, FileWriter, OpenFile, PutOptions, ReadOptions, StorageDriver, WriterOptions } from '../storage/driver.ts';
import { MemoryDriver } from '../storage/drivers/memory.ts';
import { blobDataPath, UPLOADS_ROOT } from '../storage/paths.ts';
import { BlobJournal } from './blob-journal.ts';
import { DigestInvalidError, UploadRangeError, UploadUnknownError } from './errors.ts';
import { RegistryPolicy } from './policy.ts';
import { UploadService, type UploadServiceOptions } from './uploads.ts';

const REPO = 'library/layers';
const CHUNK = 512 * 1024;

/** The shared meta store; sessions are mirrored into PostgreSQL's `uploads` for upload_state's foreign key. */
class MirroringMetaStore extends SqliteMetaStore {
  constructor(private readonly pg: PgDatabase) {
    super(':memory:');
  }
  override async createUpload(session: UploadSession): Promise<void> {
    await super.createUpload(session);
    await this.pg.query('INSERT INTO uploads (id, repository, started_at) VALUES ($1, $2, $3)', [session.id, session.repo, session.startedAt]);
  }
}

/** One node's view of the shared storage: counts the upload bytes it reads, tells when it writes them. */
class CountingDriver implements StorageDriver {
  readonly name = 'counting';
  uploadBytesRead = 0;
  uploadBytesWritten = 0;
  readonly events = new EventEmitter();

  constructor(private readonly inner: StorageDriver) {}

  async reader(path: string, opts?: ReadOptions): Promise<Readable> {
    const stream = await this.inner.reader(path, opts);
    if (!path.startsWith(`${UPLOADS_ROOT}/`)) return stream;
    return stream.on('data', (chunk: Buffer) => void (this.uploadBytesRead += chunk.length));
  }
  async writer(path: string, append: boolean, opts?: WriterOptions): Promise<FileWriter> {
    const inner = await this.inner.writer(path, append, opts);
    const events = this.events;
    const count = (n: number) => void (this.uploadBytesWritten += n);
    return {
      get size() {
        return inner.size;
      },
      write: async (chunk) => {
        await inner.write(chunk);
        count(chunk.length);
        events.emit('write', chunk.length);
      },
      commit: () => inner.commit(),
      close: () => inner.close(),
      cancel: () => inner.cancel(),
    };
  }
  getContent(path: string): Promise<Buffer> {
    return this.inner.getContent(path);
  }
  putContent(path: string, content: Buffer, opts?: PutOptions): Promise<void> {
    return this.inner.putContent(path, content, opts);
  }
  flush(paths: string[]): Promise<string[]> {
    return this.inner.flush(paths);
  }
  stat(path: string): Promise<FileInfo> {
    return this.inner.stat(path);
  }
  list(path: string): Promise<string[]> {
    return this.inner.list(path);
  }
  move(src: string, dst: string): Promise<void> {
    return this.inner.move(src, dst);
  }
  delete(path: string): Promise<void> {
    return this.inner.delete(path);
  }
  openFile(path: string): Promise<OpenFile | undefined> {
    return this.inner.openFile(path);
  }
  redirectURL(path: string, method: 'GET' | 'HEAD'): Promise<string | undefined> {
    return this.inner.redirectURL(path, method);
  }
  walk(path: string, visit: (info: FileInfo) => Promise<void> | void): Promise<void> {
    return this.inner.walk(path, visit);
  }
}

interface Node {
  uploads: UploadService;
  driver: CountingDriver;
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

describe('chunked uploads across nodes', { skip: PG_SKIP }, () => {
  let fixture: PgFixture;
  let meta: MirroringMetaStore;
  let storage: MemoryDriver;
  let state: PgUploadStateStore;

  before(async () => {
    fixture = await pgDatabase();
    state = new PgUploadStateStore(fixture.db);
  });
  after(async () => {
    await fixture.cleanup();
  });

  /** Two nodes on fresh shared storage and meta store; `opts[i]` for node i. */
  function nodes(...opts: UploadServiceOptions[]): [Node, Node] {
    meta = new MirroringMetaStore(fixture.db);
    storage = new MemoryDriver();
    const node = (o: UploadServiceOptions = {}): Node => {
      const driver = new CountingDriver(storage);
      const policy = new RegistryPolicy({ deleteEnabled: true, readOnly: false });
      const journal = new BlobJournal(driver, meta, undefined, { checkpointDelayMs: 60_000 });
      return { driver, uploads: new UploadService(driver, meta, policy, journal, { state, ...o }) };
    };
    return [node(opts[0]), node(opts[1])];
  }

  /** PATCH the chunks of `data` alternately to the nodes, the first to nodes[0]; returns the session id. */
  async function pushChunks(pair: [Node, Node], data: Buffer): Promise<string> {
    const { id } = await pair[0].uploads.start(REPO);
    for (let at = 0, i = 0; at < data.length; at += CHUNK, i++) {
      const chunk = data.subarray(at, at + CHUNK);
      const status = await pair[i % 2]!.uploads.append(REPO, id, Readable.from([chunk]), { start: at, end: at + chunk.length - 1 });
      assert.equal(status.size, at + chunk.length);
    }
    return id;
  }

  it('PATCHes alternate between the nodes; the node that did not get the last chunk finishes without reading a byte', async () => {
    const pair = nodes();
    const data = randomBytes(8 * CHUNK); // 4 MiB; chunks 0,2,4,6 to node 0, 1,3,5,7 to node 1
    const id = await pushChunks(pair, data);
    const saved = await state.get(id);
    assert.equal(saved?.size, data.length);
    assert.ok(saved.hashState !== undefined, 'the hash state is saved with the chunk');
    const blob = await pair[0].uploads.finish(REPO, id, sha256(data));
    assert.deepEqual(blob, { digest: sha256(data), size: data.length });
    assert.equal(pair[0].driver.uploadBytesRead, 0, 'the finishing node read no upload bytes');
    assert.equal(pair[1].driver.uploadBytesRead, 0, 'nor did the other one');
    assert.ok((await storage.getContent(blobDataPath('sha256', sha256(data).slice(7)))).equals(data));
    assert.equal(await state.get(id), undefined, 'the state goes with the session');
    await assert.rejects(pair[1].uploads.status(REPO, id), UploadUnknownError);
    meta.close();
  });

  it('finishing with a final chunk on the other node reads nothing either', async () => {
    const pair = nodes();
    const data = randomBytes(5 * CHUNK + 1234);
    const head = data.subarray(0, 4 * CHUNK);
    const id = await pushChunks(pair, head); // the last chunk to node 1
    const tail = data.subarray(head.length);
    const blob = await pair[0].uploads.finish(REPO, id, sha256(data), { body: Readable.from([tail]), range: { start: head.length }, length: tail.length });
    assert.deepEqual(blob, { digest: sha256(data), size: data.length });
    assert.equal(pair[0].driver.uploadBytesRead + pair[1].driver.uploadBytesRead, 0);
    meta.close();
  });

  it('a missing state, one of another size, or one hash-wasm cannot load: the finishing node re-reads, and the digest is right', async () => {
    for (const spoil of [
      "UPDATE upload_state SET hash_state = NULL WHERE id = $1",
      'UPDATE upload_state SET size = size - 1 WHERE id = $1',
      "UPDATE upload_state SET hash_state = '\\x00010203'::bytea WHERE id = $1",
      'DELETE FROM upload_state WHERE id = $1',
    ]) {
      const pair = nodes();
      const data = randomBytes(3 * CHUNK + 17);
      const id = await pushChunks(pair, data);
      await fixture.db.query(spoil, [id]);
      const blob = await pair[1].uploads.finish(REPO, id, sha256(data));
      assert.deepEqual(blob, { digest: sha256(data), size: data.length }, spoil);
      assert.equal(pair[1].driver.uploadBytesRead, data.length, `${spoil}: re-read once`);
      meta.close();
    }
  });

  it('a PATCH that failed half-way on one node: the next, on the other node, cannot hash, and finishing re-reads what the upload holds', async () => {
    const pair = nodes();
    const data = randomBytes(4 * CHUNK);
    const id = await pushChunks(pair, data.subarray(0, 2 * CHUNK));
    const broken = new PassThrough();
    const failing = pair[0].uploads.append(REPO, id, broken, { start: 2 * CHUNK });
    broken.write(data.subarray(2 * CHUNK, 2 * CHUNK + 1000));
    await once(pair[0].driver.events, 'write');
    broken.destroy(new Error('client went away'));
    await assert.rejects(failing, /client went away/);
    const { size } = await pair[1].uploads.status(REPO, id);
    assert.equal(size, 2 * CHUNK + 1000, 'the partial bytes stay, as on a single node');
    await pair[1].uploads.append(REPO, id, Readable.from([data.subarray(size)]), { start: size });
    assert.equal((await state.get(id))?.hashState, undefined, 'no node hashed every byte');
    const blob = await pair[0].uploads.finish(REPO, id, sha256(data));
    assert.equal(blob.digest, sha256(data));
    assert.equal(pair[0].driver.uploadBytesRead, data.length);
    meta.close();
  });

  it('a wrong digest is refused: the session and its state are discarded', async () => {
    const pair = nodes();
    const data = randomBytes(2 * CHUNK + 5);
    const id = await pushChunks(pair, data);
    const wrong = sha256(Buffer.from('something else'));
    await assert.rejects(pair[0].uploads.finish(REPO, id, wrong), (e: unknown) => {
      assert.ok(e instanceof DigestInvalidError);
      assert.deepEqual(e.detail, { expected: wrong, actual: sha256(data) });
      return true;
    });
    assert.equal(pair[0].driver.uploadBytesRead, 0, 'refused from the saved state, without reading');
    assert.equal(await state.get(id), undefined);
    await assert.rejects(pair[1].uploads.status(REPO, id), UploadUnknownError);
    meta.close();
  });

  it('two requests of one session on two nodes at once: the second is an out-of-order chunk (416) and changes nothing', async () => {
    const pair = nodes();
    const data = randomBytes(4 * CHUNK);
    const id = await pushChunks(pair, data.subarray(0, 2 * CHUNK));
    const slow = new PassThrough();
    const first = pair[0].uploads.append(REPO, id, slow, { start: 2 * CHUNK });
    slow.write(data.subarray(2 * CHUNK, 3 * CHUNK));
    await once(pair[0].driver.events, 'write'); // node 0 holds the session and is writing
    const rival = randomBytes(CHUNK);
    const written = pair[1].driver.uploadBytesWritten;
    await assert.rejects(pair[1].uploads.append(REPO, id, Readable.from([rival]), { start: 2 * CHUNK }), (e: unknown) => {
      assert.ok(e instanceof UploadRangeError);
      assert.equal(e.currentSize, 2 * CHUNK, 'the size acknowledged so far');
      return true;
    });
    await assert.rejects(pair[1].uploads.finish(REPO, id, sha256(data)), UploadRangeError, 'nor may it finish meanwhile');
    assert.equal(pair[1].driver.uploadBytesWritten, written, 'node 1 wrote nothing');
    slow.end(data.subarray(3 * CHUNK));
    assert.equal((await first).size, data.length);
    const blob = await pair[1].uploads.finish(REPO, id, sha256(data));
    assert.equal(blob.digest, sha256(data));
    assert.equal(pair[0].driver.uploadBytesRead + pair[1].driver.uploadBytesRead, 0);
    meta.close();
  });

  it('a node whose hold lapsed (stalled past its lease) and was taken over stops before writing another byte', async () => {
    // node 0 renews its hold before every chunk (lease 0); the lapse is forced with SQL
    const pair = nodes({ leaseMs: 0 }, {});
    const data = randomBytes(4 * CHUNK);
    const id = await pushChunks(pair, data.subarray(0, CHUNK));
    const stalled = new PassThrough();
    const first = pair[0].uploads.append(REPO, id, stalled, { start: CHUNK });
    stalled.write(data.subarray(CHUNK, CHUNK + 1000));
    await once(pair[0].driver.events, 'write');
    await fixture.db.query('UPDATE upload_state SET held_until = 0 WHERE id = $1', [id]);
    const { size } = await pair[1].uploads.status(REPO, id);
    assert.equal(size, CHUNK + 1000);
    await pair[1].uploads.append(REPO, id, Readable.from([data.subarray(size)]), { start: size });
    stalled.end(randomBytes(CHUNK)); // the stalled client wakes up
    await assert.rejects(first, UploadRangeError);
    const blob = await pair[0].uploads.finish(REPO, id, sha256(data));
    assert.deepEqual(blob, { digest: sha256(data), size: data.length }, 'no byte of the lapsed request after the takeover');
    meta.close();
  });

  it('cancel and purge remove the state; purge leaves a session another node is writing to', async () => {
    const pair = nodes();
    const data = randomBytes(2 * CHUNK);
    const cancelled = await pushChunks(pair, data);
    await pair[1].uploads.cancel(REPO, cancelled);
    assert.equal(await state.get(cancelled), undefined);
    const idle = await pushChunks(pair, data);
    const busy = await pushChunks(pair, data);
    const slow = new PassThrough();
    const writing = pair[0].uploads.append(REPO, busy, slow, { start: data.length });
    slow.write(data.subarray(0, 100));
    await once(pair[0].driver.events, 'write');
    assert.deepEqual(await pair[1].uploads.purge(Date.now() + 1000), [idle]);
    assert.equal(await state.get(idle), undefined);
    slow.end();
    assert.equal((await writing).size, data.length + 100);
    assert.equal((await state.get(busy))?.size, data.length + 100);
    meta.close();
  });
});
