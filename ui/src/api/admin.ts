/** Administration: storage, the mirror's upstreams and notification deliveries. */
import { api } from './client.ts';
import type { EventsStatus, StorageReport, UpstreamStatus } from './types.ts';

export function getStorage(signal?: AbortSignal): Promise<StorageReport> {
  return api<StorageReport>('/admin/storage', { ...(signal && { signal }) });
}

export async function getMirror(signal?: AbortSignal): Promise<UpstreamStatus[]> {
  return (await api<{ upstreams: UpstreamStatus[] }>('/mirror', { ...(signal && { signal }) })).upstreams;
}

export function getEvents(signal?: AbortSignal): Promise<EventsStatus> {
  return api<EventsStatus>('/events', { ...(signal && { signal }) });
}
