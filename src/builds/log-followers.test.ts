import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { SqliteBuildStore } from '../meta/sqlite/build-store.ts';
import { SqliteMetaStore } from '../meta/sqlite/sqlite-store.ts';
import type { App, RequestContext } from '../http/context.ts';
import { mapError, sendError } from '../http/errors.ts';
import { buildLog } from '../http/handlers/api-builds.ts';
import { LogFollowers, type DropReason, type Following, type LogFollowersOptions, type LogSink, type Refusal, type Schedule } from './log-followers.ts';
import type { Build, BuildStore, LogChunk } from './model.ts';
import { MemorySealingKey, SecretBox } from '../secrets/secret-box.ts';
import { ServedBuildService } from './setup.ts';
import { rule } from './store-conformance.ts';

const T0 = 1_700_000_000_000;
const REPO = 'alice/app';

/** Timers fired by hand: `fire()` runs every armed tick and waits for it. */
class Timers {
  private readonly armed = new Set<() => Promise<void>>();
  readonly schedule: Schedule = (fn) => {
    this.armed.add(fn);
    return () => void this.armed.delete(fn);
  };
  get pending(): number {
    return this.armed.size;
  }
  async fire(): Promise<void> {
    const due = [...this.armed];
    this.armed.clear();
    await Promise.all(due.map((fn) => fn()));
  }
}

/** A store that counts its reads, and can hold readLog until released. */
class CountingStore implements Pick<BuildStore, 'get' | 'readLog'> {
  gets = 0;
  reads: number[] = [];
  failNext = 0;
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  constructor(private readonly inner: BuildStore) {}
  async get(repository: string, id: number): Promise<Build | undefined> {
    this.gets++;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('the database is away');
    }
    return this.inner.get(repository, id);
  }
  async readLog(id: number, fromSeq?: number): Promise<LogChunk[]> {
    this.reads.push(fromSeq ?? 0);
    await this.gate;
    return this.inner.readLog(id, fromSeq);
  }
  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  release(): void {
    this.gate = undefined;
    this.open?.();
  }
}

/** A follower's end: what it got, and (not reading) how much waits for it. */
class Sink implements LogSink {
  seqs: number[] = [];
  text = '';
  ended: Build | undefined;
  dropped: DropReason | undefined;
  waiting = 0;
  constructor(private readonly reading = true) {}
  send(chunks: readonly LogChunk[]): void {
    for (const c of chunks) {
      this.seqs.push(c.seq);
      this.text += c.text;
      if (!this.reading) this.waiting += Buffer.byteLength(c.text);
    }
  }
  end(build: Build): void {
    this.ended = build;
  }
  unsent(): number {
    return this.waiting;
  }
  drop(reason: DropReason): void {
    this.dropped = reason;
    this.waiting = 0;
  }
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

function admitted(f: Following | Refusal): Following {
  if ('refused' in f) assert.fail(`refused: ${f.refused}`);
  return f;
}

interface Fixture {
  raw: SqliteBuildStore;
  store: CountingStore;
  timers: Timers;
  build: Build;
  seq: number;
  append(n: number, size?: number): Promise<void>;
  finish(): Promise<void>;
  followers(options?: Omit<LogFollowersOptions, 'schedule'>): LogFollowers;
  /** What the handler does first: read the log, then follow from after it. */
  join(followers: LogFollowers, sink: Sink): Promise<Following | Refusal>;
}

let dir = '';
let meta: SqliteMetaStore | undefined;
let fx: Fixture;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-log-followers-'));
  meta = new SqliteMetaStore(path.join(dir, 'meta.db'));
  const raw = new SqliteBuildStore(meta.database);
  await raw.putRule(rule());
  await raw.enqueue({ repository: REPO, ruleId: 'r1', ref: 'main', commit: null, tag: 'latest', trigger: 'manual', requestedBy: 'alice' }, T0, 10);
  const build = await raw.claim('node-a', T0, T0 + 60_000);
  assert.ok(build);
  const timers = new Timers();
  const store = new CountingStore(raw);
  fx = {
    raw,
    store,
    timers,
    build,
    seq: 0,
    async append(n, size = 8) {
      for (let i = 0; i < n; i++) {
        const seq = fx.seq++;
        await raw.appendLog(build.id, seq, `${String(seq).padStart(size - 1, '.')}\n`);
      }
    },
    async finish() {
      assert.equal(await raw.finish(build.id, 'node-a', { status: 'succeeded', digest: `sha256:${'a'.repeat(64)}` }, T0 + 1000), true);
    },
    followers: (options = {}) => new LogFollowers(store, { ...options, schedule: timers.schedule }),
    async join(followers, sink) {
      const chunks = await raw.readLog(build.id);
      sink.send(chunks);
      return followers.follow(build, (chunks.at(-1)?.seq ?? -1) + 1, sink);
    },
  };
});

afterEach(async () => {
  await meta?.close();
  meta = undefined;
  await fs.rm(dir, { recursive: true, force: true });
});

describe('LogFollowers', () => {
  it('reads the store once per tick however many follow one build, and hands each every chunk once, in order', async () => {
    const followers = fx.followers();
    const sinks = Array.from({ length: 20 }, () => new Sink());
    for (const s of sinks) admitted(await fx.join(followers, s));
    assert.deepEqual(followers.stats(), { builds: 1, followers: 20 });
    for (let tick = 0; tick < 5; tick++) {
      await fx.append(3);
      fx.store.gets = 0;
      fx.store.reads = [];
      await fx.timers.fire();
      assert.equal(fx.store.gets, 1, 'one status read per tick');
      assert.deepEqual(fx.store.reads, [tick * 3], 'one log read per tick, from where the followers are');
    }
    for (const s of sinks) assert.deepEqual(s.seqs, range(0, 15));
    assert.equal(fx.timers.pending, 1, 'one poller for the build');
  });

  it('gives a late joiner the chunks it has not seen, then the live ones, without gaps or duplicates', async () => {
    const followers = fx.followers();
    const early = new Sink();
    admitted(await fx.join(followers, early));
    await fx.append(2);
    await fx.timers.fire();
    await fx.append(1);
    const late = new Sink();
    admitted(await fx.join(followers, late));
    assert.deepEqual(late.seqs, [0, 1, 2], 'what was there when it came');
    await fx.append(2);
    await fx.timers.fire();
    // one more joins while a read is under way, with less than that read covers
    await fx.append(1);
    fx.store.hold();
    const ticking = fx.timers.fire();
    const during = new Sink();
    admitted(followers.follow(fx.build, 0, during));
    fx.store.release();
    await ticking;
    assert.deepEqual(during.seqs, [], 'not served from a read that starts after its place');
    await fx.append(1);
    await fx.timers.fire();
    assert.deepEqual(fx.store.reads.at(-1), 0, 'the next read starts from its place');
    for (const s of [early, late]) assert.deepEqual(s.seqs, range(0, 7));
    assert.deepEqual(during.seqs, range(0, 7));
  });

  it('sends the last chunks and the final build when it ends, then stops polling', async () => {
    const followers = fx.followers();
    const a = new Sink();
    const b = new Sink();
    const fa = admitted(await fx.join(followers, a));
    const fb = admitted(await fx.join(followers, b));
    await fx.append(2);
    await fx.finish();
    fx.store.reads = [];
    await fx.timers.fire();
    assert.deepEqual(fx.store.reads, [0, 0], 'read once more when it ended');
    for (const s of [a, b]) {
      assert.deepEqual(s.seqs, [0, 1]);
      assert.equal(s.ended?.status, 'succeeded');
      assert.equal(s.dropped, undefined);
    }
    await Promise.all([fa.done, fb.done]);
    assert.deepEqual(followers.stats(), { builds: 0, followers: 0 });
    assert.equal(fx.timers.pending, 0);
  });

  it('refuses followers beyond the caps, per build and per node', async () => {
    const followers = fx.followers({ limits: { total: 3, perBuild: 2 } });
    admitted(followers.follow(fx.build, 0, new Sink()));
    const second = admitted(followers.follow(fx.build, 0, new Sink()));
    assert.deepEqual(followers.follow(fx.build, 0, new Sink()), { refused: 'build', limit: 2 });
    const other = { id: fx.build.id + 1, repository: REPO };
    admitted(followers.follow(other, 0, new Sink()));
    assert.deepEqual(followers.follow({ id: fx.build.id + 2, repository: REPO }, 0, new Sink()), { refused: 'node', limit: 3 });
    second.leave();
    admitted(followers.follow(fx.build, 0, new Sink()));
  });

  it('drops a follower whose client does not read once more than maxUnsent waits, and the others get everything', async () => {
    const followers = fx.followers({ limits: { maxUnsent: 1024 } });
    const readers = [new Sink(), new Sink()];
    const stalled = new Sink(false);
    for (const s of [...readers, stalled]) admitted(await fx.join(followers, s));
    for (let tick = 0; tick < 4; tick++) {
      await fx.append(4, 200);
      await fx.timers.fire();
    }
    assert.equal(stalled.dropped, 'slow');
    assert.ok(stalled.seqs.length < 16, 'nothing more was sent to it once over the bound');
    assert.deepEqual(followers.stats(), { builds: 1, followers: 2 });
    await fx.append(1);
    await fx.finish();
    await fx.timers.fire();
    for (const s of readers) {
      assert.deepEqual(s.seqs, range(0, 17));
      assert.equal(s.ended?.status, 'succeeded');
    }
  });

  it('keeps a follower whose client is still taking a first read larger than maxUnsent, and drops it once it takes nothing', async () => {
    const followers = fx.followers({ limits: { maxUnsent: 1024 } });
    const catching = new Sink(false);
    admitted(await fx.join(followers, catching));
    // the log so far, written to it when it came, is still going out
    catching.waiting = 8 * 1024;
    for (let tick = 0; tick < 3; tick++) {
      await fx.append(1, 100);
      await fx.timers.fire();
      assert.equal(catching.dropped, undefined, `tick ${tick}: its client is taking what it was sent`);
      catching.waiting -= 2 * 1024;
    }
    await fx.append(1, 100);
    await fx.timers.fire();
    assert.equal(catching.dropped, undefined);
    await fx.append(1, 100);
    await fx.timers.fire();
    assert.equal(catching.dropped, 'slow', 'over the bound and taking nothing since the last tick');
    assert.deepEqual(catching.seqs, range(0, 4));
    assert.deepEqual(followers.stats(), { builds: 0, followers: 0 });
  });

  it('stops polling when the last follower leaves, also during a read', async () => {
    const followers = fx.followers();
    const a = admitted(await fx.join(followers, new Sink()));
    const b = admitted(await fx.join(followers, new Sink()));
    a.leave();
    assert.equal(fx.timers.pending, 1);
    b.leave();
    b.leave();
    await Promise.all([a.done, b.done]);
    assert.equal(fx.timers.pending, 0, 'no tick armed');
    assert.deepEqual(followers.stats(), { builds: 0, followers: 0 });

    const c = admitted(await fx.join(followers, new Sink()));
    fx.store.hold();
    const ticking = fx.timers.fire();
    c.leave();
    fx.store.release();
    await ticking;
    assert.equal(fx.timers.pending, 0, 'not armed again after the read');
    assert.deepEqual(followers.stats(), { builds: 0, followers: 0 });
  });

  it('keeps its followers through store failures, reported once in a row', async () => {
    const errors: unknown[] = [];
    const followers = fx.followers({ onError: (err) => errors.push(err) });
    const s = new Sink();
    admitted(await fx.join(followers, s));
    await fx.append(2);
    fx.store.failNext = 3;
    for (let i = 0; i < 3; i++) await fx.timers.fire();
    assert.equal(errors.length, 1);
    await fx.timers.fire();
    assert.deepEqual(s.seqs, [0, 1]);
  });

  it('drops every follower and refuses new ones when berth stops', async () => {
    const followers = fx.followers();
    const s = new Sink();
    const f = admitted(await fx.join(followers, s));
    followers.close();
    await f.done;
    assert.equal(s.dropped, 'stopping');
    assert.equal(fx.timers.pending, 0);
    assert.deepEqual(followers.follow(fx.build, 0, new Sink()), { refused: 'stopping', limit: 0 });
  });
});

describe('GET .../_builds/{id}/log as server-sent events', () => {
  let server: http.Server | undefined;
  let url = '';
  let followers: LogFollowers;

  let handled: Promise<void>[] = [];
  let responses: http.ServerResponse[] = [];

  async function serve(options: Omit<LogFollowersOptions, 'schedule'>, store: BuildStore = fx.raw): Promise<void> {
    followers = fx.followers(options);
    handled = [];
    responses = [];
    const service = new ServedBuildService(
      { store, box: new SecretBox(new MemorySealingKey()), wake: () => undefined, scratch: () => Promise.reject(new Error('unused')) },
      followers,
    );
    const app: Pick<App, 'builds'> = { builds: service };
    server = http.createServer((req, res) => {
      responses.push(res);
      const ctx: Pick<RequestContext, 'req' | 'res' | 'params' | 'route'> = { req, res, params: { name: REPO, id: String(fx.build.id) }, route: 'api-repository-build-log' };
      handled.push(buildLog(ctx as RequestContext, app as App).catch((err: unknown) => sendError(res, mapError(err, 'berth'))));
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/log`;
  }

  afterEach(async () => {
    followers.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  /** Read the stream until `until` is in it, or it ends. */
  async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, seen: { text: string }, until: string): Promise<void> {
    while (!seen.text.includes(until)) {
      const next = await reader.read();
      if (next.done) return;
      seen.text += Buffer.from(next.value).toString();
    }
  }

  it('follows a running build with ids, refuses a follower over the cap with 429 TOOMANYREQUESTS, and resumes after Last-Event-ID', async () => {
    await serve({ limits: { perBuild: 1 } });
    await fx.append(2);
    const res = await fetch(url, { headers: { accept: 'text/event-stream' } });
    assert.equal(res.status, 200);
    const reader = res.body?.getReader();
    assert.ok(reader);
    const seen = { text: '' };
    await readUntil(reader, seen, 'id: 1\n');
    assert.equal(seen.text, 'event: log\nid: 0\ndata: ......0\ndata: \n\nevent: log\nid: 1\ndata: ......1\ndata: \n\n');

    const refused = await fetch(url, { headers: { accept: 'text/event-stream' } });
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '10');
    assert.equal(((await refused.json()) as { errors: { code: string }[] }).errors[0]?.code, 'TOOMANYREQUESTS');

    await fx.raw.appendLog(fx.build.id, fx.seq++, 'a\rforged\nevent: status\n');
    await fx.timers.fire();
    await readUntil(reader, seen, 'id: 2\n');
    await fx.finish();
    await fx.timers.fire();
    await readUntil(reader, seen, '"status":"succeeded"');
    assert.ok((await reader.read()).done, 'the stream ends after the status');
    assert.match(seen.text, /event: log\nid: 2\ndata: a\ndata: forged\ndata: event: status\ndata: \n\nevent: status\ndata: \{/);
    assert.equal(seen.text.match(/^event: status$/gm)?.length, 1, 'no line of the log starts an event of its own');

    const resumed = await (await fetch(url, { headers: { accept: 'text/event-stream', 'last-event-id': '1' } })).text();
    assert.match(resumed, /^event: log\nid: 2\n/);
    assert.equal(resumed.match(/^event: log$/gm)?.length, 1);
    assert.deepEqual(followers.stats(), { builds: 0, followers: 0 });
  });

  it('cuts off a client that does not read, and releases its place', async () => {
    await serve({ limits: { maxUnsent: 64 * 1024 } });
    await fx.append(1);
    const stalled = net.connect((server?.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => stalled.once('connect', resolve));
    stalled.pause();
    const closed = new Promise((resolve) => stalled.once('close', resolve));
    stalled.write('GET /log HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
    while (followers.stats().followers === 0) await new Promise((resolve) => setImmediate(resolve));
    const reader = new Sink();
    admitted(followers.follow(fx.build, 1, reader));
    // the kernel's buffers take some first: write until the server holds more than the bound
    for (let tick = 0; tick < 200 && followers.stats().followers > 1; tick++) {
      await fx.append(4, 256 * 1024);
      await fx.timers.fire();
    }
    assert.deepEqual(followers.stats(), { builds: 1, followers: 1 }, 'the stalled client was dropped');
    assert.deepEqual(reader.seqs, range(1, fx.seq));
    stalled.resume();
    await closed;
  });

  it('does not keep a follower whose client left while the log was read', { timeout: 10_000 }, async () => {
    let opened!: () => void;
    const gate = new Promise<void>((resolve) => (opened = resolve));
    let asked!: () => void;
    const reading = new Promise<void>((resolve) => (asked = resolve));
    const raw = fx.raw;
    const gated: BuildStore = new Proxy(raw, {
      get: (target, key): unknown => {
        if (key === 'get') {
          return async (repository: string, id: number) => {
            asked();
            await gate;
            return raw.get(repository, id);
          };
        }
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(raw) : value;
      },
    });
    await serve({}, gated);
    const client = net.connect((server?.address() as AddressInfo).port, '127.0.0.1');
    client.write('GET /log HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
    await reading;
    const closed = new Promise((resolve) => client.once('close', resolve));
    // a reset: the server sees the connection gone before the handler has followed
    client.resetAndDestroy();
    await closed;
    const res = responses[0];
    assert.ok(res);
    if (!res.closed) await new Promise((resolve) => res.once('close', resolve));
    opened();
    await handled[0];
    assert.deepEqual(followers.stats(), { builds: 0, followers: 0 });
    assert.equal(fx.timers.pending, 0);
  });
});
