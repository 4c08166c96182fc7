/**
 * Who caused a registry change, as the events it emits tell it: the request record and actor of an
 * HTTP request, or a system actor (garbage collection, retention, the CLI, the mirror). A cause is
 * given explicitly: the stores' decorator (emitting-stores.ts) is bound to one with causedBy(), as
 * the HTTP layer does for each request; asSystem() names the cause of the store calls a function
 * makes at once (before it awaits anything); otherwise the actor is `berth`. Not AsyncLocalStorage:
 * on Node 20 its async hooks cost about 12 µs of CPU on every manifest GET (some 12%, measured),
 * once any job has used it.
 */
import type { RequestInfo } from './event.ts';

/** The actor names of events berth causes itself (documented in docs/notifications.md). */
export const SYSTEM_ACTORS = {
  /** Garbage collection (`berth gc`, the background runs, POST /api/v1/admin/gc). */
  gc: 'berth-gc',
  /** Retention policies applied by a garbage collection run. */
  retention: 'berth-retention',
  /** An operator's command on the server's machine (`berth repo delete`). */
  cli: 'berth-cli',
  /** The pull-through cache storing a manifest it fetched from an upstream. */
  mirror: 'berth-mirror',
  /** An automated build's end (build.completed), triggered by a webhook or a poll. */
  build: 'berth-build',
  /** Replication rules: what they push into this registry and read from it (copy/local-transport.ts). */
  replication: 'berth-replication',
  /** A change through stores bound to no cause. */
  system: 'berth',
} as const;

export type SystemActor = (typeof SYSTEM_ACTORS)[keyof typeof SYSTEM_ACTORS];

/** Absolute URLs of a repository's manifests and blobs, as the request's client would fetch them. */
export interface TargetUrls {
  manifest(repository: string, digest: string): string;
  blob(repository: string, digest: string): string;
}

export interface EventContext {
  /** The request record and actor; read when an event is built (the actor is known once the request is authorised). */
  request(): RequestInfo;
  /** Target URLs; none for system changes (distribution's events then have none either). */
  urls?: TargetUrls;
}

/** The request record of a change berth makes itself: no client, the actor says who. */
export function systemRequest(actor: SystemActor): RequestInfo {
  return { id: '', addr: '', host: '', method: '', useragent: '', actor };
}

/** The cause of a system job's changes (GC, retention, a CLI command): events carry `actor`, no request, no URLs. */
export function systemCause(actor: SystemActor): EventContext {
  const request = systemRequest(actor);
  return { request: () => request };
}

/** The cause asSystem() gives the store calls made while its function runs synchronously. */
let ambient: EventContext | undefined;

/**
 * Run `fn` with `actor` as the cause of the store calls it makes before its first await, e.g.
 * `asSystem(SYSTEM_ACTORS.gc, () => registry.manifests.delete(repo, digest))`: each emitting store
 * reads the cause when it is called. A longer job binds its stores instead (causedBy).
 */
export function asSystem<T>(actor: SystemActor, fn: () => T): T {
  const previous = ambient;
  ambient = systemCause(actor);
  try {
    return fn();
  } finally {
    ambient = previous;
  }
}

/** The cause asSystem() set for the call being made now, if any. */
export function ambientCause(): EventContext | undefined {
  return ambient;
}
