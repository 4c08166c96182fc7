/**
 * Notifications, assembled: the durable queue the backend gives, the sink the stores'
 * decorator calls (emitting-stores.ts), and the dispatcher sending to the configured endpoints. The composition root
 * builds this once; with no enabled endpoint the sink is the NoopSink and nothing runs (the queue
 * is still there, so deliveries left for an endpoint since removed can be listed).
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import type { NotificationsConfig } from '../config/schema.ts';
import { Dispatcher, type DispatcherOptions } from './dispatcher.ts';
import { endpointsFromConfig } from './endpoint.ts';
import type { EventQueue } from './queue.ts';
import { NoopSink, QueueSink, type EventSink } from './sink.ts';

export interface Notifications {
  sink: EventSink;
  queue: EventQueue;
  /** Start sending (deliveries left from a previous run go first). */
  start(): void;
  /** Stop sending; in-flight requests may finish until the deadline. Before closing the database. */
  stop(deadlineMs?: number): Promise<void>;
}

/**
 * Notifications whose endpoints can change while berth runs (SIGHUP): the sink the stores
 * hold stays the same object and forwards to the current configuration's sink.
 */
export class ReloadableNotifications implements Notifications {
  private current: Notifications;
  private started = false;
  readonly sink: EventSink;

  constructor(private readonly opts: NotificationsOptions) {
    this.current = createNotifications(opts);
    const target = () => this.current.sink;
    this.sink = {
      manifestPushed: (t, r) => target().manifestPushed(t, r),
      manifestPulled: (t, r) => target().manifestPulled(t, r),
      manifestDeleted: (t, r) => target().manifestDeleted(t, r),
      blobPushed: (t, r) => target().blobPushed(t, r),
      blobPulled: (t, r) => target().blobPulled(t, r),
      blobMounted: (t, r) => target().blobMounted(t, r),
      blobDeleted: (t, r) => target().blobDeleted(t, r),
      tagDeleted: (t, r) => target().tagDeleted(t, r),
      buildCompleted: (t, r) => target().buildCompleted(t, r),
      replicationCompleted: (t, r) => target().replicationCompleted(t, r),
    };
  }

  get queue(): EventQueue {
    return this.current.queue;
  }

  start(): void {
    this.started = true;
    this.current.start();
  }

  stop(deadlineMs?: number): Promise<void> {
    this.started = false;
    return this.current.stop(deadlineMs);
  }

  /** Switch to a new `notifications` section: the old dispatcher stops, pending deliveries stay queued. */
  async reload(config: NotificationsConfig | undefined, deadlineMs = 5_000): Promise<void> {
    const next = createNotifications({ ...this.opts, config });
    const previous = this.current;
    this.current = next;
    await previous.stop(deadlineMs);
    if (this.started) next.start();
  }
}

export interface NotificationsOptions {
  /** The validated `notifications` section (undefined: none). */
  config: NotificationsConfig | undefined;
  /** The durable queue (the backend's `events`); shared by every configuration a reload brings. */
  queue: EventQueue;
  log: Logger;
  /** This node's port, for events' source.addr (`<hostname>:<port>`, as distribution). */
  port: number;
  /** Dispatcher tuning (tests). */
  dispatcher?: Omit<DispatcherOptions, 'queue' | 'endpoints' | 'log'>;
}

export function createNotifications(opts: NotificationsOptions): Notifications {
  const { queue } = opts;
  const endpoints = endpointsFromConfig(opts.config);
  if (endpoints.length === 0) return { sink: NoopSink, queue, start: () => undefined, stop: async () => undefined };
  const log = opts.log.child({ component: 'notifications' });
  const dispatcher = new Dispatcher({ ...opts.dispatcher, queue, endpoints, log });
  const sink = queueSink(opts, (names) => dispatcher.wake(names));
  return { sink, queue, start: () => dispatcher.start(), stop: (deadlineMs) => dispatcher.stop(deadlineMs) };
}

/**
 * The sink alone, for a process that sends nothing itself (a CLI command): its events go into the
 * durable queue, and the serving berth's dispatcher, which looks at the queue when idle
 * (DispatcherOptions.idlePollMs), sends them. The NoopSink when no endpoint is enabled.
 */
export function queueSink(opts: Omit<NotificationsOptions, 'dispatcher'>, onEnqueued?: (endpoints: readonly string[]) => void): EventSink {
  const endpoints = endpointsFromConfig(opts.config);
  if (endpoints.length === 0) return NoopSink;
  return new QueueSink({
    queue: opts.queue,
    endpoints,
    log: opts.log.child({ component: 'notifications' }),
    source: { addr: `${os.hostname()}:${opts.port}`, instanceID: randomUUID() },
    includeReferences: opts.config?.events.includereferences ?? false,
    onEnqueued,
  });
}
