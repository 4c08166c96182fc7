/**
 * A running build's log on its way to the store: output gathered and appended in chunks (at most
 * one write per interval, or sooner when a chunk fills), capped at builds.logsize with a last line
 * saying so. Secrets the build holds are replaced before anything is kept, also when a program's
 * output splits one across two writes: the end of what came so far that could begin a secret
 * waits for what follows (or for the last flush).
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
  /** Output held back: it ends with what could be the start of a secret. */
  private held = '';

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

  /** Never write this text into the log (a token, a password), nor the error a build ends with. */
  hide(secret: string): void {
    if (secret.length >= 4 && !this.secrets.includes(secret)) this.secrets.push(secret);
  }

  /** `text` with every secret replaced. */
  mask(text: string): string {
    let clean = text;
    for (const s of this.secrets) clean = clean.split(s).join('****');
    return clean;
  }

  /** How many characters at the end of `text` could begin a secret (those wait for more output). */
  private partial(text: string): number {
    let longest = 0;
    for (const s of this.secrets) {
      const from = Math.max(0, text.length - s.length + 1);
      for (let i = text.indexOf(s[0] ?? '', from); i !== -1 && i < text.length; i = text.indexOf(s[0] ?? '', i + 1)) {
        if (s.startsWith(text.slice(i))) {
          longest = Math.max(longest, text.length - i);
          break;
        }
      }
    }
    return longest;
  }

  write(text: string): void {
    if (this.cut) return;
    const masked = this.mask(this.held + text);
    const wait = this.partial(masked);
    this.held = masked.slice(masked.length - wait);
    this.keep(masked.slice(0, masked.length - wait));
  }

  private keep(clean: string): void {
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
    this.timer = setTimeout(() => void this.drain(), ms);
    this.timer.unref();
  }

  /** The build is done: write everything, what was held back too; resolves once every earlier write is stored. */
  flush(): Promise<void> {
    // What was held back begins a secret: the output ended inside one. A few characters are
    // nothing to hide (and may be the end of a word); more are masked.
    const held = this.held.length >= 4 ? '****' : this.held;
    this.held = '';
    if (held !== '' && !this.cut) this.keep(held);
    return this.drain();
  }

  /** Write what is gathered (not what is held back); resolves once every earlier write is stored. */
  private drain(): Promise<void> {
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
