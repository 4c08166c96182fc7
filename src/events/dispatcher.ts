/**
 * Sends queued deliveries to their endpoints: one worker per endpoint takes the head of that
 * endpoint's queue (up to `batchSize` events, in order), POSTs them in one envelope with the
 * endpoint's headers, a timeout and, with a `secret`, an X-Berth-Signature HMAC; any 2xx or 3xx
 * answer is acceptance, as in distribution. On failure the batch waits `backoff`, doubled for each
 * further consecutive failure up to `maxBackoffMs`, and stays at the head: later events queue
 * behind it, so an endpoint sees events in order and nothing is dropped (retries never give up).
 * Crossing the endpoint's `threshold` of consecutive failures is logged at warn, recovery at info.
 *
 * Workers run beside request handling and never block it: a request only enqueues (sink.ts) and
 * wakes the worker. stop() lets in-flight POSTs finish up to a deadline, then aborts them; an
 * aborted batch stays queued and goes out after the next start (at-least-once).
 */
import type { Logger } from 'pino';
import type { EndpointSettings } from './endpoint.ts';
import { EVENTS_MEDIA_TYPE, SIGNATURE_HEADER, envelopeBody, signBody } from './event.ts';
import type { Delivery, EventQueue } from './queue.ts';

export interface DispatcherOptions {
  queue: EventQueue;
  endpoints: readonly EndpointSettings[];
  log: Logger;
  /** Most events in one request. Default 10. */
  batchSize?: number;
  /** The longest wait between retries. Default 5 minutes (or the endpoint's backoff if longer). */
  maxBackoffMs?: number;
  /** How often an idle worker looks at the queue without being woken. Default 5 s. */
  idlePollMs?: number;
  /** How long delivered rows are kept (for `berth events` and debugging). Default 1 hour. */
  retentionMs?: number;
  /** Injected in tests; the global fetch otherwise. */
  fetch?: typeof fetch;
}

type Outcome = { ok: true } | { ok: false; error: string; stopped: boolean };

/** Credentials in an endpoint URL stay out of the logs. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.username !== '' || u.password !== '') {
    u.username = '***';
    u.password = '';
  }
  return u.toString();
}

class EndpointWorker {
  private failures = 0;
  private stopping = false;
  private woken = false;
  private wakeSleeper: ((stopping: boolean) => void) | undefined;
  private inflight: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly endpoint: EndpointSettings,
    private readonly opts: Required<Omit<DispatcherOptions, 'endpoints'>>,
  ) {}

  start(): void {
    this.stopping = false;
    this.loop ??= this.run().finally(() => {
      this.loop = undefined;
    });
  }

  /** New deliveries are queued: look now rather than at the next poll. */
  wake(): void {
    this.woken = true;
    this.wakeSleeper?.(false);
  }

  async stop(deadline: number): Promise<void> {
    this.stopping = true;
    this.wakeSleeper?.(true);
    const loop = this.loop;
    if (loop === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    });
    await Promise.race([loop, expired]);
    clearTimeout(timer);
    this.inflight?.abort();
    await loop;
  }

  private async run(): Promise<void> {
    const { queue, log, batchSize, idlePollMs } = this.opts;
    while (!this.stopping) {
      this.woken = false;
      try {
        const claim = await queue.claim(this.endpoint.name, batchSize, Date.now());
        if (claim.deliveries.length > 0) await this.deliver(claim.deliveries);
        // Backing off: new events queue behind the head, so only time (or stop) ends the wait.
        else if (claim.nextDueAt !== undefined) await this.sleep(claim.nextDueAt - Date.now(), false);
        else await this.sleep(idlePollMs, true);
      } catch (err) {
        log.error({ err, endpoint: this.endpoint.name }, 'notification queue error');
        await this.sleep(idlePollMs, false);
      }
    }
  }

  private async deliver(batch: Delivery[]): Promise<void> {
    const { queue, log, maxBackoffMs } = this.opts;
    const { name, threshold, backoffMs } = this.endpoint;
    const ids = batch.map((d) => d.id);
    const outcome = await this.post(envelopeBody(batch.map((d) => d.event)));
    if (outcome.ok) {
      await queue.markDelivered(ids, Date.now());
      if (this.failures >= threshold) log.info({ endpoint: name, failures: this.failures }, 'notification endpoint recovered');
      this.failures = 0;
      return;
    }
    if (outcome.stopped) return; // still queued: sent after the next start
    this.failures++;
    const delay = Math.min(backoffMs * 2 ** Math.min(this.failures - 1, 30), Math.max(maxBackoffMs, backoffMs));
    await queue.markFailed(ids, outcome.error, Date.now() + delay);
    const fields = { endpoint: name, error: outcome.error, failures: this.failures, events: ids.length, retryInMs: delay };
    if (this.failures === threshold) log.warn(fields, 'notification endpoint failing: reached its failure threshold, backing off');
    else log.debug(fields, 'notification delivery failed');
  }

  private async post(body: string): Promise<Outcome> {
    const { url, headers, timeoutMs, secret } = this.endpoint;
    const request = new Headers();
    for (const [key, values] of Object.entries(headers)) for (const v of values) request.append(key, v);
    request.set('Content-Type', EVENTS_MEDIA_TYPE);
    if (secret !== undefined) request.set(SIGNATURE_HEADER, signBody(body, secret));
    const controller = new AbortController();
    this.inflight = controller;
    try {
      const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(timeoutMs)]);
      const res = await this.opts.fetch(url, { method: 'POST', headers: request, body, signal, redirect: 'manual' });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status >= 200 && res.status < 400) return { ok: true };
      return { ok: false, error: `HTTP ${res.status}`, stopped: false };
    } catch (err) {
      const stopped = controller.signal.aborted;
      const timedOut = err instanceof Error && err.name === 'TimeoutError';
      return { ok: false, error: timedOut ? `timed out after ${timeoutMs} ms` : describe(err), stopped };
    } finally {
      this.inflight = undefined;
    }
  }

  /** Wait `ms`, or less if stopped (or, when wakeable, woken). One sleeper at a time: the worker's loop. */
  private sleep(ms: number, wakeable: boolean): Promise<void> {
    if (this.stopping || (wakeable && this.woken) || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.wakeSleeper = undefined;
        resolve();
      };
      // Unref'd: a waiting worker alone does not keep the process alive (the server does).
      const timer = setTimeout(finish, ms).unref();
      this.wakeSleeper = (stopping) => {
        if (stopping || wakeable) finish();
      };
    });
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause : undefined;
  const code = cause !== undefined && 'code' in cause ? String(cause.code) : undefined;
  return cause === undefined ? err.message : `${err.message}: ${code ?? cause.message}`;
}

export class Dispatcher {
  private readonly workers = new Map<string, EndpointWorker>();
  private readonly opts: Required<Omit<DispatcherOptions, 'endpoints'>>;
  private readonly endpoints: readonly EndpointSettings[];
  private pruner: NodeJS.Timeout | undefined;

  constructor(options: DispatcherOptions) {
    this.opts = {
      queue: options.queue,
      log: options.log,
      batchSize: options.batchSize ?? 10,
      maxBackoffMs: options.maxBackoffMs ?? 5 * 60_000,
      idlePollMs: options.idlePollMs ?? 5_000,
      retentionMs: options.retentionMs ?? 60 * 60_000,
      fetch: options.fetch ?? fetch,
    };
    this.endpoints = options.endpoints;
    for (const endpoint of options.endpoints) this.workers.set(endpoint.name, new EndpointWorker(endpoint, this.opts));
  }

  start(): void {
    for (const e of this.endpoints) this.opts.log.info({ endpoint: e.name, url: redactUrl(e.url) }, 'notification endpoint configured');
    for (const worker of this.workers.values()) worker.start();
    this.pruner ??= setInterval(() => void this.prune(), Math.min(this.opts.retentionMs, 60_000)).unref();
  }

  /** Tell the workers of these endpoints (default: all) that deliveries are waiting. */
  wake(endpoints?: readonly string[]): void {
    if (endpoints === undefined) for (const w of this.workers.values()) w.wake();
    else for (const name of endpoints) this.workers.get(name)?.wake();
  }

  /** Stop the workers: in-flight POSTs may finish until `deadlineMs` from now, then are aborted. */
  async stop(deadlineMs = 5_000): Promise<void> {
    clearInterval(this.pruner);
    this.pruner = undefined;
    const deadline = Date.now() + deadlineMs;
    await Promise.all([...this.workers.values()].map((w) => w.stop(deadline)));
  }

  private async prune(): Promise<void> {
    try {
      await this.opts.queue.prune(Date.now() - this.opts.retentionMs);
    } catch (err) {
      this.opts.log.error({ err }, 'could not prune delivered notification events');
    }
  }
}
