/**
 * Notification endpoints as the dispatcher and the sink use them, read from the validated
 * `notifications` config section, and distribution's ignore rules (ignoredmediatypes,
 * ignore.mediatypes, ignore.actions), applied when an event is enqueued.
 */
import type { NotificationsConfig } from '../config/schema.ts';
import type { EventAction, RegistryEvent } from './event.ts';

export interface EndpointSettings {
  name: string;
  url: string;
  headers: Record<string, string[]>;
  timeoutMs: number;
  /** Consecutive failures after which the endpoint is logged as failing. */
  threshold: number;
  /** First retry delay; doubled on each consecutive failure up to the dispatcher's cap. */
  backoffMs: number;
  /** Events whose target has one of these media types are not sent (both of distribution's lists). */
  ignoredMediaTypes: ReadonlySet<string>;
  ignoredActions: ReadonlySet<EventAction>;
  /** HMAC-SHA256 key for the X-Berth-Signature header. */
  secret?: string;
}

/** The enabled endpoints of the config (disabled ones get no deliveries at all). */
export function endpointsFromConfig(config: NotificationsConfig | undefined): EndpointSettings[] {
  return (config?.endpoints ?? [])
    .filter((e) => !e.disabled)
    .map((e) => ({
      name: e.name,
      url: e.url,
      headers: e.headers,
      timeoutMs: e.timeout,
      threshold: e.threshold,
      backoffMs: e.backoff,
      ignoredMediaTypes: new Set([...e.ignoredmediatypes, ...e.ignore.mediatypes]),
      ignoredActions: new Set(e.ignore.actions),
      ...(e.secret === undefined ? {} : { secret: e.secret }),
    }));
}

/** Whether the endpoint wants the event, as distribution's ignoredSink decides. */
export function accepts(endpoint: EndpointSettings, event: RegistryEvent): boolean {
  if (endpoint.ignoredActions.has(event.action)) return false;
  const mediaType = event.target.mediaType;
  return mediaType === undefined || !endpoint.ignoredMediaTypes.has(mediaType);
}
