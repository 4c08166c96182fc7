/**
 * Who caused a registry change, as the events it emits tell it: the request record and actor of an
 * HTTP request, or a system actor (garbage collection, retention, the CLI). Carried with
 * AsyncLocalStorage so that the stores' decorator (emitting-stores.ts) finds it however deep the
 * call that changed something: the HTTP layer runs each handler inside its request's context, and
 * a system job runs inside `asSystem(actor, ...)`. A change made outside any context is the
 * system's, with the actor `berth`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestInfo } from './event.ts';

/** The actor names of events berth causes itself (documented in docs/notifications.md). */
export const SYSTEM_ACTORS = {
  /** Garbage collection (`berth gc`, the background runs, POST /api/v1/admin/gc). */
  gc: 'berth-gc',
  /** Retention policies applied by a garbage collection run. */
  retention: 'berth-retention',
  /** An operator's command on the server's machine (`berth repo delete`). */
  cli: 'berth-cli',
  /** The pull-through cache storing what it fetched from an upstream (with the request that asked for it). */
  mirror: 'berth-mirror',
  /** A change made outside any request or named job. */
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

const storage = new AsyncLocalStorage<EventContext>();

/** Run `fn` with `context` as the cause of every event the stores emit meanwhile. */
export function withEventContext<T>(context: EventContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The request record of a change berth makes itself: no client, the actor says who. */
export function systemRequest(actor: SystemActor): RequestInfo {
  return { id: '', addr: '', host: '', method: '', useragent: '', actor };
}

/** Run a system job (GC, retention, a CLI command) so that its events carry `actor`. */
export function asSystem<T>(actor: SystemActor, fn: () => T): T {
  const request = systemRequest(actor);
  return withEventContext({ request: () => request }, fn);
}

const SYSTEM_CONTEXT: EventContext = { request: () => systemRequest(SYSTEM_ACTORS.system) };

/** The context of the change being made now. */
export function currentEventContext(): EventContext {
  return storage.getStore() ?? SYSTEM_CONTEXT;
}
