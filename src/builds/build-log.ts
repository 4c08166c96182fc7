/**
 * A running build's log on its way to the store: output gathered and appended in chunks (at most
 * one write per interval, or sooner when a chunk fills), capped at builds.logsize with a last line
 * saying so. Secrets the build holds are replaced before anything is kept.
 */
import type { BuildStore } from './model.ts';

const CHUNK = 16 * 1024;
const FLUSH_MS = 250;

export class BuildLog {
  private pending = '';
  private seq = 0;
  private kept = 0;
  private cut = false;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly secrets: string[] = [];

  /** `seq`: the first chunk's number (a build run again after its node stopped goes on after the chunks it has). */
  constructor(
    private readonly store: BuildStore,
    private readonly buildId: number,
    private readonly limit: number,
    seq = 0,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.seq = seq;
  }

  /** Never write this text into the log (a token, a password). */
  hide(secret: string): void {
    if (secret.length >= 4) this.secrets.push(secret);
  }

  write(text: string): void {
    if (this.cut) return;
    let clean = text;
    for (const s of this.secrets) clean = clean.split(s).join('****');
    const room = this.limit - this.kept - this.pending.length;
    if (clean.length > room) {
      this.pending += clean.slice(0, Math.max(0, room));
      this.pending += `\n[the log was cut at ${this.limit} bytes (builds.logsize)]\n`;
      this.cut = true;
    } else {
      this.pending += clean;
    }
    if (this.pending.length >= CHUNK) this.flushSoon(0);
    else this.flushSoon(FLUSH_MS);
  }

  line(text: string): void {
    this.write(`${text}\n`);
  }

  private flushSoon(ms: number): void {
    if (this.timer !== undefined && ms > 0) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), ms);
    this.timer.unref();
  }

  /** Write what is gathered; resolves once every earlier write is stored. */
  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const text = this.pending;
    this.pending = '';
    if (text !== '') {
      const seq = this.seq++;
      this.kept += text.length;
      this.writing = this.writing.then(() => this.store.appendLog(this.buildId, seq, text)).catch(this.onError);
    }
    return this.writing;
  }
}
