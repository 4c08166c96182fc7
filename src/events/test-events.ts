/**
 * Events for tests, with no database behind them: the event queue conformance suite runs on
 * every backend and imports only this (test-support.ts re-exports it for the SQLite-based tests).
 */
import { createEvent, type EventAction, type EventTarget, type RegistryEvent, type RequestInfo } from './event.ts';

export const REQUEST: RequestInfo = { id: 'req-1', addr: '127.0.0.1:4000', host: 'registry.test', method: 'PUT', useragent: 'test/1.0' };
export const SOURCE = { addr: 'node-1:5000', instanceID: 'instance-1' };

let counter = 0;

/** A push (or other) event for a numbered manifest, with a recognisable tag. */
export function event(n: number, action: EventAction = 'push', target: Partial<EventTarget> = {}): RegistryEvent {
  const digest = `sha256:${n.toString(16).padStart(64, '0')}`;
  return createEvent(
    action,
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 10, digest, length: 10, repository: 'team/app', tag: `v${n}`, ...target },
    REQUEST,
    SOURCE,
    { now: () => new Date(1_700_000_000_000 + n), id: () => `event-${n}-${++counter}` },
  );
}
