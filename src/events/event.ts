/**
 * Registry events as distribution's notifications send them (notifications/event.go): an event per
 * push, pull, delete or mount, with its target, the request that caused it, the actor and the
 * source node, carried in a `{"events":[...]}` envelope. Pure builders; the clock and the id are
 * parameters so tests can pin them.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

/** The envelope's Content-Type (distribution 2.x, what `registry:2` sends). */
export const EVENTS_MEDIA_TYPE = 'application/vnd.docker.distribution.events.v1+json';
/** berth's signature header: `sha256=<hex HMAC-SHA256 of the body>` with the endpoint's secret. */
export const SIGNATURE_HEADER = 'X-Berth-Signature';
/** The media type distribution gives blobs in events (it does not know a layer's type). */
export const BLOB_MEDIA_TYPE = 'application/octet-stream';

export const EVENT_ACTIONS = ['push', 'pull', 'delete', 'mount', 'build.completed', 'replication.completed'] as const;
export type EventAction = (typeof EVENT_ACTIONS)[number];

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

/** What the event is about; fields absent from a kind of event are omitted (delete has no mediaType). */
export interface EventTarget {
  mediaType?: string;
  size?: number;
  digest?: string;
  /** Same as size, kept by distribution for older consumers. */
  length?: number;
  repository: string;
  /** The repository a mounted blob came from, when the client named it. */
  fromRepository?: string;
  url?: string;
  tag?: string;
  /** A manifest's references, with `notifications.events.includereferences`. */
  references?: Descriptor[];
  /** build.completed: the automated build that ended (builds/model.ts); digest and tag are what it pushed. */
  build?: BuildRecord;
  /** replication.completed: the run of a replication rule that ended (replication/model.ts). */
  replication?: ReplicationRecord;
}

/** A replication run in a replication.completed event (its repository: the one tag an onpush run copied, else empty). */
export interface ReplicationRecord {
  rule: string;
  run: number;
  direction: 'pull' | 'push';
  /** The other registry's URL. */
  remote: string;
  trigger: string;
  status: 'succeeded' | 'failed' | 'partial';
  copied: number;
  skipped: number;
  failed: number;
  deleted: number;
  bytes: number;
  /** The first failures (what, and why). */
  failures: { what: string; reason: string }[];
  startedAt: string;
  finishedAt: string | null;
}

/** An automated build in a build.completed event. */
export interface BuildRecord {
  id: number;
  status: 'succeeded' | 'failed' | 'cancelled';
  rule: string;
  ref: string;
  commit: string | null;
  trigger: string;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

/** distribution's RequestRecord. */
export interface RequestRecord {
  id: string;
  addr: string;
  host: string;
  method: string;
  useragent: string;
}

export interface ActorRecord {
  name?: string;
}

/** The registry node that generated the event; instanceID changes on every start. */
export interface SourceRecord {
  addr: string;
  instanceID: string;
}

export interface RegistryEvent {
  id: string;
  /** RFC 3339. */
  timestamp: string;
  action: EventAction;
  target: EventTarget;
  request: RequestRecord;
  actor: ActorRecord;
  source: SourceRecord;
}

export interface Envelope {
  events: RegistryEvent[];
}

/** Who caused an event: distribution's RequestRecord plus the actor (the authenticated user, or berth itself: context.ts). */
export interface RequestInfo extends RequestRecord {
  actor?: string;
}

export interface EventClock {
  now(): Date;
  id(): string;
}

export const SYSTEM_CLOCK: EventClock = { now: () => new Date(), id: () => randomUUID() };

export function createEvent(
  action: EventAction,
  target: EventTarget,
  request: RequestInfo,
  source: SourceRecord,
  clock: EventClock = SYSTEM_CLOCK,
): RegistryEvent {
  const { actor, ...record } = request;
  return {
    id: clock.id(),
    timestamp: clock.now().toISOString(),
    action,
    target,
    request: record,
    actor: actor === undefined || actor === '' ? {} : { name: actor },
    source,
  };
}

/** The request body for a batch of events. */
export function envelopeBody(events: readonly RegistryEvent[]): string {
  const envelope: Envelope = { events: [...events] };
  return JSON.stringify(envelope);
}

/** The X-Berth-Signature value for a body. */
export function signBody(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Whether a signature header value is the body's (constant-time); for receivers and tests. */
export function verifySignature(body: string | Buffer, secret: string, header: string | undefined): boolean {
  if (header === undefined) return false;
  const expected = Buffer.from(signBody(body, secret));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
