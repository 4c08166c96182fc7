import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BuildLog } from './build-log.ts';
import type { BuildStore } from './model.ts';

function recorder(): { store: BuildStore; text: () => string; chunks: string[] } {
  const chunks: string[] = [];
  const store = { appendLog: async (_id: number, _seq: number, text: string) => void chunks.push(text) } as unknown as BuildStore;
  return { store, chunks, text: () => chunks.join('') };
}

describe('BuildLog', () => {
  it('masks a secret that a program writes across several outputs', async () => {
    const r = recorder();
    const log = new BuildLog(r.store, 1, 1 << 20);
    const secret = 'berth_pat_0123456789abcdef';
    log.hide(secret);
    log.write('pushing with berth_p');
    log.write('at_01234');
    log.write('56789abcdef and done\n');
    // a prefix that turns out not to be the secret is kept as it was
    log.write('berth_pat_01 is not it\nlast berth_pat');
    await log.flush();
    assert.equal(r.text(), 'pushing with **** and done\nberth_pat_01 is not it\nlast ****', 'a log that ends inside a secret ends masked');
    assert.ok(!r.text().includes(secret));
  });

  it('holds back only what could begin a secret until the build is done', async () => {
    const r = recorder();
    const log = new BuildLog(r.store, 1, 1 << 20);
    log.hide('s3cr3t-token');
    log.write('step 1\nstep 2 s3c');
    await (log as unknown as { drain(): Promise<void> }).drain();
    assert.equal(r.text(), 'step 1\nstep 2 ', 'a periodic write keeps back the possible start of a secret');
    log.write('r3t-token\n');
    await log.flush();
    assert.equal(r.text(), 'step 1\nstep 2 ****\n');
  });

  it('masks an error text, and cuts the log at its size', async () => {
    const r = recorder();
    const log = new BuildLog(r.store, 1, 20);
    log.hide('hunter22');
    assert.equal(log.mask('fatal: hunter22 was refused (hunter22)'), 'fatal: **** was refused (****)');
    log.write('x'.repeat(30));
    log.write('more');
    await log.flush();
    assert.equal(r.text(), `${'x'.repeat(20)}\n[the log was cut at 20 bytes (builds.logsize)]\n`);
  });
});
