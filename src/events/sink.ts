/**
 * The EventSink: what the stores' decorator (emitting-stores.ts) calls after a change
 * (distribution's bridge, notifications/bridge.go). QueueSink turns each call into an event, keeps
 * it for every endpoint whose ignore rules let it through, and enqueues all of them in one
 * transaction before the call that made the change returns (so before any response); the
 * dispatcher is then woken to send them. NoopSink, when no endpoint is configured, does nothing.
 *
 * A sink never fails a request: the operation has already succeeded, so an enqueue error is
 * logged (at error level, with the event) and the response goes out.
 */
import type { Logger } from 'pino';
import { parseManifest } from '../registry/manifest-parse.ts';
import { accepts, type EndpointSettings } from './endpoint.ts';
import {
  BLOB_MEDIA_TYPE,
  SYSTEM_CLOCK,
  createEvent,
  type Descriptor,
  type EventAction,
  type EventClock,
  type BuildRecord,
  type ReplicationRecord,
  type EventTarget,
  type RequestInfo,
  type SourceRecord,
} from './event.ts';
import type { EventQueue, NewDelivery } from './queue.ts';

export interface ManifestTarget {
  repository: string;
  digest: string;
  mediaType: string;
  size: number;
  /** The tag the client named, when it named one. */
  tag?: string;
  url?: string;
  /** The manifest's bytes, read only for `includereferences`. */
  content?: Buffer;
}

export interface BlobTarget {
  repository: string;
  digest: string;
  size: number;
  url?: string;
}

export interface MountTarget extends BlobTarget {
  /** The repository the client asked to mount from (`from`), when it named one. */
  fromRepository?: string;
}

export interface EventSink {
  manifestPushed(target: ManifestTarget, request: RequestInfo): Promise<void>;
  manifestPulled(target: ManifestTarget, request: RequestInfo): Promise<void>;
  manifestDeleted(target: { repository: string; digest: string }, request: RequestInfo): Promise<void>;
  blobPushed(target: BlobTarget, request: RequestInfo): Promise<void>;
  blobPulled(target: BlobTarget, request: RequestInfo): Promise<void>;
  blobMounted(target: MountTarget, request: RequestInfo): Promise<void>;
  blobDeleted(target: { repository: string; digest: string }, request: RequestInfo): Promise<void>;
  tagDeleted(target: { repository: string; tag: string }, request: RequestInfo): Promise<void>;
  /** An automated build ended (succeeded, failed or cancelled): `digest` and `tag` when it pushed. */
  buildCompleted(target: BuildTarget, request: RequestInfo): Promise<void>;
  /** A replication run ended (succeeded, partial or failed). */
  replicationCompleted(target: ReplicationTarget, request: RequestInfo): Promise<void>;
}

export interface ReplicationTarget {
  /** The repository an onpush run copied; empty for a run of the whole rule. */
  repository: string;
  tag?: string;
  replication: ReplicationRecord;
}

export interface BuildTarget {
  repository: string;
  tag: string;
  digest: string | null;
  mediaType?: string;
  build: BuildRecord;
}

const done = Promise.resolve();

/** The sink when notifications are off. */
export const NoopSink: EventSink = {
  manifestPushed: () => done,
  manifestPulled: () => done,
  manifestDeleted: () => done,
  blobPushed: () => done,
  blobPulled: () => done,
  blobMounted: () => done,
  blobDeleted: () => done,
  tagDeleted: () => done,
  buildCompleted: () => done,
  replicationCompleted: () => done,
};

export interface QueueSinkOptions {
  queue: EventQueue;
  endpoints: readonly EndpointSettings[];
  source: SourceRecord;
  log: Logger;
  /** notifications.events.includereferences: list a manifest's references in its events. */
  includeReferences?: boolean;
  /** Told which endpoints got new deliveries (the dispatcher's wake-up). */
  onEnqueued?: (endpoints: readonly string[]) => void;
  clock?: EventClock;
}

export class QueueSink implements EventSink {
  constructor(private readonly opts: QueueSinkOptions) {}

  manifestPushed(target: ManifestTarget, request: RequestInfo): Promise<void> {
    return this.emit('push', this.manifestTarget(target), request);
  }

  manifestPulled(target: ManifestTarget, request: RequestInfo): Promise<void> {
    return this.emit('pull', this.manifestTarget(target), request);
  }

  manifestDeleted(target: { repository: string; digest: string }, request: RequestInfo): Promise<void> {
    return this.emit('delete', { repository: target.repository, digest: target.digest }, request);
  }

  blobPushed(target: BlobTarget, request: RequestInfo): Promise<void> {
    return this.emit('push', blobTarget(target), request);
  }

  blobPulled(target: BlobTarget, request: RequestInfo): Promise<void> {
    return this.emit('pull', blobTarget(target), request);
  }

  blobMounted(target: MountTarget, request: RequestInfo): Promise<void> {
    return this.emit('mount', { ...blobTarget(target), fromRepository: target.fromRepository }, request);
  }

  blobDeleted(target: { repository: string; digest: string }, request: RequestInfo): Promise<void> {
    return this.emit('delete', { repository: target.repository, digest: target.digest }, request);
  }

  tagDeleted(target: { repository: string; tag: string }, request: RequestInfo): Promise<void> {
    return this.emit('delete', { repository: target.repository, tag: target.tag }, request);
  }

  buildCompleted(target: BuildTarget, request: RequestInfo): Promise<void> {
    const { repository, tag, digest, mediaType, build } = target;
    return this.emit('build.completed', { repository, tag, ...(digest !== null && { digest }), ...(mediaType !== undefined && { mediaType }), build }, request);
  }

  replicationCompleted(target: ReplicationTarget, request: RequestInfo): Promise<void> {
    const { repository, tag, replication } = target;
    return this.emit('replication.completed', { repository, ...(tag !== undefined && { tag }), replication }, request);
  }

  private manifestTarget(t: ManifestTarget): EventTarget {
    const target: EventTarget = {
      mediaType: t.mediaType,
      size: t.size,
      digest: t.digest,
      length: t.size,
      repository: t.repository,
      url: t.url,
      tag: t.tag,
    };
    if (this.opts.includeReferences === true && t.content !== undefined) target.references = references(t.content, t.mediaType);
    return target;
  }

  private async emit(action: EventAction, target: EventTarget, request: RequestInfo): Promise<void> {
    const event = createEvent(action, target, request, this.opts.source, this.opts.clock ?? SYSTEM_CLOCK);
    const deliveries: NewDelivery[] = this.opts.endpoints.filter((e) => accepts(e, event)).map((e) => ({ endpoint: e.name, event }));
    if (deliveries.length === 0) return;
    try {
      await this.opts.queue.enqueue(deliveries);
    } catch (err) {
      this.opts.log.error({ err, event, endpoints: deliveries.map((d) => d.endpoint) }, 'could not queue a notification event');
      return;
    }
    this.opts.onEnqueued?.(deliveries.map((d) => d.endpoint));
  }
}

function blobTarget(t: BlobTarget): EventTarget {
  return { mediaType: BLOB_MEDIA_TYPE, size: t.size, digest: t.digest, length: t.size, repository: t.repository, url: t.url };
}

/** A stored manifest's references (config and layers, or an index's manifests); none if it does not parse. */
function references(content: Buffer, mediaType: string): Descriptor[] {
  try {
    const parsed = parseManifest(content, mediaType);
    return [...parsed.blobs, ...parsed.children].map((d) => ({ mediaType: d.mediaType, digest: d.digest, size: d.size }));
  } catch {
    return [];
  }
}
