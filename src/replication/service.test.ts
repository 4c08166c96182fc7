/**
 * The replication service with ends of its own making: pushes followed one run at a time per rule
 * (each tag once however often it came meanwhile), and a rule's runs stopped when it is deleted.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { SqliteReplicationRuleStore } from '../meta/sqlite/replication-rule-store.ts';
import { SqliteReplicationStore } from '../meta/sqlite/replication-store.ts';
import { SqliteMetaStore } from '../meta/sqlite/sqlite-store.ts';
import { MemorySealingKey, SecretBox } from '../secrets/secret-box.ts';
import type { ImageDestination, ImageSource } from '../copy/transport.ts';
import type { ReplicationRun } from './model.ts';
import { RuleBook } from './rule-book.ts';
import { Replication } from './service.ts';
import type { Side } from './sides.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

/** What the remote sides of a test share: the tags asked for, held until released. */
class Gate {
  readonly asked: string[] = [];
  held = true;
  readonly waiting = new Set<{ what: string; resolve: (d: string) => void; reject: (e: Error) => void }>();
  private onAsk: (() => void) | undefined;

  /** Resolves once `digest` was asked `n` times in all. */
  asks(n: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.asked.length >= n) resolve();
        else this.onAsk = check;
      };
      check();
    });
  }

  ask(what: string): void {
    this.asked.push(what);
    const notify = this.onAsk;
    this.onAsk = undefined;
    notify?.();
  }

  /** Answer the asks for `what` only, the gate still held for the rest. */
  releaseOnly(what: string): void {
    for (const w of this.waiting) {
      if (w.what !== what) continue;
      this.waiting.delete(w);
      w.resolve(DIGEST);
    }
  }

  release(): void {
    this.held = false;
    for (const w of this.waiting) w.resolve(DIGEST);
    this.waiting.clear();
  }
}

/** A side (one a run) whose `digest` waits while its gate is held, and fails once closed. */
class HeldSide implements Side {
  readonly description = 'held';
  closed = false;
  private readonly mine = new Set<{ what: string; resolve: (d: string) => void; reject: (e: Error) => void }>();

  constructor(private readonly gate: Gate) {}

  async repositories(): Promise<string[]> {
    return ['a/b'];
  }
  async tags(): Promise<string[]> {
    return ['1'];
  }
  digest(repository: string, tag: string): Promise<string | undefined> {
    this.gate.ask(`${repository}:${tag}`);
    if (this.closed) return Promise.reject(new Error('closed'));
    if (!this.gate.held) return Promise.resolve(DIGEST);
    return new Promise((resolve, reject) => {
      const w = { what: `${repository}:${tag}`, resolve, reject };
      this.mine.add(w);
      this.gate.waiting.add(w);
    });
  }
  async source(): Promise<ImageSource> {
    throw new Error('nothing to copy: the digests are the same');
  }
  async destination(): Promise<ImageDestination> {
    throw new Error('nothing to copy: the digests are the same');
  }
  async deleteTag(): Promise<void> {}
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.mine) {
      this.gate.waiting.delete(w);
      w.reject(new Error('closed'));
    }
    this.mine.clear();
  }
}

/** The local end: every tag there, with DIGEST. */
const local = (): Side => {
  const gate = new Gate();
  gate.release();
  return new HeldSide(gate);
};

describe('replication service', () => {
  let dir: string;
  let meta: SqliteMetaStore;
  let runs: SqliteReplicationStore;
  let gate: Gate;
  let remotes: HeldSide[];
  let service: Replication;
  let ended: ReplicationRun[];
  let onEnded: (() => void) | undefined;
  const endedCount = (n: number): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (ended.length >= n) resolve();
        else onEnded = check;
      };
      check();
    });

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-replication-service-'));
    meta = new SqliteMetaStore(path.join(dir, 'meta.db'));
    runs = new SqliteReplicationStore(meta.database);
    gate = new Gate();
    remotes = [];
    ended = [];
    const log = pino({ level: 'silent' });
    service = new Replication({
      book: new RuleBook({ configured: [], store: new SqliteReplicationRuleStore(meta.database), box: new SecretBox(new MemorySealingKey()), log }),
      store: runs,
      node: 'node-a',
      local,
      remote: () => {
        const side = new HeldSide(gate);
        remotes.push(side);
        return side;
      },
      log,
      retryMs: 1,
      ended: async (_rule, run) => {
        ended.push(run);
        const notify = onEnded;
        onEnded = undefined;
        notify?.();
      },
    });
    await service.create({ name: 'dr', direction: 'push', remote: { url: 'http://127.0.0.1:1' }, trigger: { onpush: true } }, 'admin');
  });

  afterEach(async () => {
    await service.stop();
    await meta.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('follows pushes one run at a time per rule, each tag once however often it came meanwhile', { timeout: 20_000 }, async () => {
    for (let i = 0; i < 5; i++) service.pushed('a/b', '1');
    for (let i = 0; i < 3; i++) service.pushed('a/b', '2');
    service.pushed('other', undefined); // a push by digest: nothing to follow
    await gate.asks(1);
    assert.deepEqual((await runs.list('dr')).map((r) => [r.status, r.scope]), [['running', 'a/b:1']], 'one run at a time');
    gate.release();
    await endedCount(3);
    // the first push of 1 ran; 1 (again) and 2 waited, each once
    assert.deepEqual(ended.map((r) => [r.trigger, r.scope, r.status, r.counts.skipped]), [
      ['onpush', 'a/b:1', 'succeeded', 1],
      ['onpush', 'a/b:1', 'succeeded', 1],
      ['onpush', 'a/b:2', 'succeeded', 1],
    ]);
    assert.equal((await runs.list('dr')).length, 3);
  });

  it('drops what waits to be followed once the rule follows pushes no more', { timeout: 20_000 }, async () => {
    service.pushed('a/b', '1');
    await gate.asks(1);
    service.pushed('a/b', '2');
    // now a pull rule that deletes: a push waiting to be copied must not become a pull deleting it here
    await service.replace('dr', { direction: 'pull', remote: { url: 'http://127.0.0.1:1' }, deletes: true });
    gate.release();
    await endedCount(1);
    const manual = await service.trigger('dr', 'manual');
    await manual.done;
    assert.deepEqual((await runs.list('dr')).map((r) => [r.trigger, r.scope]).reverse(), [
      ['onpush', 'a/b:1'],
      ['manual', null],
    ]);
  });

  it('past 1,000 waiting keeps repositories, past 2,000 a full run, tried again while one started before runs', { timeout: 30_000 }, async () => {
    const before = await service.trigger('dr', 'manual');
    await gate.asks(1);
    for (let i = 0; i <= 2001; i++) service.pushed(`r${i}`, '1');
    await gate.asks(2);
    // r0's run ends while the manual one still runs: the full run is refused, and tried again
    gate.releaseOnly('r0:1');
    await endedCount(1);
    assert.equal((await runs.list('dr', { limit: 10 })).filter((r) => r.scope === null && r.trigger === 'onpush').length, 0);
    gate.release();
    await before.done;
    await endedCount(3);
    // r0 ran at once; the rest overflowed into one full run, which waited for the manual one to end
    const all = await runs.list('dr', { limit: 200 });
    const full = all.filter((r) => r.scope === null && r.trigger === 'onpush');
    assert.equal(full.length, 1, JSON.stringify(all.map((r) => [r.trigger, r.scope])));
    assert.ok((full[0]?.startedAt ?? 0) >= ((await runs.get(before.id))?.finishedAt ?? Infinity), 'after the run that started before the pushes');
    assert.deepEqual(all.filter((r) => r.scope !== null).map((r) => r.scope), ['r0:1']);
  });

  it('lists a rule whose password no longer opens with why, never runs it, and takes its password again', { timeout: 20_000 }, async () => {
    const body = { name: 'locked', direction: 'push', remote: { url: 'https://dr.example.com', username: 'robot', password: 'robot-password-1' } };
    await service.create(body, 'admin');
    // the same database with another sealing key (the key file lost, say)
    const log = pino({ level: 'silent' });
    const other = new Replication({
      book: new RuleBook({ configured: [], store: new SqliteReplicationRuleStore(meta.database), box: new SecretBox(new MemorySealingKey()), log }),
      store: runs,
      node: 'node-b',
      local,
      remote: () => new HeldSide(gate),
      log,
    });
    const locked = (await other.views()).find((v) => v.name === 'locked');
    assert.match(locked?.problem ?? '', /cannot be used/);
    assert.equal(locked?.remote.username, 'robot');
    assert.equal((await other.views()).find((v) => v.name === 'dr')?.problem, null);
    await assert.rejects(other.trigger('locked', 'manual'), (err: Error) => (err as { code?: string }).code === 'BERTH_REPLICATION_UNUSABLE');
    const { password: _password, ...remote } = body.remote;
    await assert.rejects(other.replace('locked', { ...body, remote }), /give remote\.password again: the kept one does not open/);
    const mended = await other.replace('locked', body);
    assert.equal(mended.problem, null);
    assert.equal(mended.remote.password, true);
    await other.delete('locked');
    await other.stop();
  });

  it("stops a rule's runs when the rule is deleted: its remote is closed at once, and no run of it is left", { timeout: 20_000 }, async () => {
    const run = await service.trigger('dr', 'manual');
    await gate.asks(1);
    await service.delete('dr');
    await run.done;
    assert.equal(remotes.length, 1);
    assert.equal(remotes[0]?.closed, true);
    assert.deepEqual(await runs.list('dr'), []);
    assert.deepEqual(ended, [], 'a run whose rule is gone is not reported');
  });
});
