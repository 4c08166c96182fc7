/**
 * The one place a place's name (`docker://…`, `oci:…`, `oci-archive:…`, `docker-archive:…`)
 * becomes an image source or destination (transport.ts), for `berth cp`, `berth push-images` and
 * replication.
 *
 * Each transport's module is imported when a place names it: a copy between registries does not
 * load the layouts' and archives' code (tar-stream among it, about 5 MiB of RSS), nor a copy from
 * an archive the registry client.
 */
import { defaultBlobLocationsDir } from './blob-locations.ts';
import type { RegistryTransportOptions } from './registry-transport.ts';
import { CopyError, type ImageDestination, type ImageSource } from './transport.ts';

export interface TransportOptions {
  env?: NodeJS.ProcessEnv;
  /** `user:password` for a registry (else config.json and its helpers). */
  creds?: string;
  /** Plain HTTP to a registry that is not on this machine. */
  insecure?: boolean;
  /** More for registries (upload state, client settings). */
  registry?: RegistryTransportOptions;
}

export const TRANSPORTS = ['docker://', 'oci:', 'oci-archive:', 'docker-archive:'] as const;

interface Place {
  transport: 'docker' | 'oci' | 'oci-archive' | 'docker-archive';
  /** What follows the transport's prefix. */
  rest: string;
}

function placeOf(spec: string): Place {
  if (spec.startsWith('docker://')) return { transport: 'docker', rest: spec.slice('docker://'.length) };
  for (const t of ['oci-archive', 'docker-archive', 'oci'] as const) {
    if (spec.startsWith(`${t}:`)) return { transport: t, rest: spec.slice(t.length + 1) };
  }
  throw new CopyError('BERTH_COPY_TRANSPORT', `${JSON.stringify(spec.slice(0, 200))}: name a place as ${TRANSPORTS.map((t) => `${t}…`).join(', ')}`);
}

/** `PATH[:REF]`: the reference after the last colon, when it names no directory. */
function pathAndRef(rest: string): { path: string; ref?: string } {
  const colon = rest.lastIndexOf(':');
  if (colon <= 0 || rest.slice(colon + 1).includes('/')) return { path: rest };
  const ref = rest.slice(colon + 1);
  return ref === '' ? { path: rest.slice(0, colon) } : { path: rest.slice(0, colon), ref };
}

/** `FILE[:NAME:TAG]`: the file up to the first colon. */
function fileAndName(rest: string): { path: string; name?: string } {
  const colon = rest.indexOf(':');
  return colon <= 0 ? { path: rest } : { path: rest.slice(0, colon), name: rest.slice(colon + 1) };
}

function registryOptions(opts: TransportOptions): RegistryTransportOptions {
  return { blobLocationsDir: defaultBlobLocationsDir(opts.env), ...opts.registry, ...(opts.env !== undefined && { env: opts.env }), ...(opts.creds !== undefined && { creds: opts.creds }), ...(opts.insecure === true && { insecure: true }) };
}

/** A registry reference's explicit tag (`repo:tag`), or undefined when it names none (a digest, or nothing). */
function explicitTag(rest: string): string | undefined {
  if (rest.includes('@')) return undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  return colon > slash ? rest.slice(colon + 1) : undefined;
}

export interface OpenedSource {
  source: ImageSource;
  /** The tag the source names (the default tag at the destination). */
  tag: string | undefined;
}

export async function openSource(spec: string, opts: TransportOptions = {}): Promise<OpenedSource> {
  const place = placeOf(spec);
  switch (place.transport) {
    case 'docker': {
      const { openRegistrySource, parseDockerReference } = await import('./registry-transport.ts');
      const ref = parseDockerReference(place.rest);
      return { source: await openRegistrySource(ref, registryOptions(opts)), tag: ref.digest === undefined ? ref.tag : explicitTag(place.rest) };
    }
    case 'oci': {
      const { ociLayoutSource } = await import('./oci-layout.ts');
      const { path, ref } = pathAndRef(place.rest);
      return { source: ociLayoutSource(path, ref), tag: ref };
    }
    case 'oci-archive': {
      const { ociArchiveSource } = await import('./oci-archive.ts');
      const { path, ref } = pathAndRef(place.rest);
      return { source: await ociArchiveSource(path, ref), tag: ref };
    }
    case 'docker-archive': {
      const { dockerArchiveSource } = await import('./docker-archive.ts');
      const { path, name } = fileAndName(place.rest);
      return { source: await dockerArchiveSource(path, name), tag: name === undefined ? undefined : explicitTag(name) };
    }
  }
}

export interface OpenedDestination {
  destination: ImageDestination;
  /** The tag to put the image under: the destination's own, else the source's. */
  tag: string | undefined;
}

export async function openDestination(spec: string, opts: TransportOptions & { sourceTag?: string | undefined } = {}): Promise<OpenedDestination> {
  const place = placeOf(spec);
  switch (place.transport) {
    case 'docker': {
      const { openRegistryDestination, parseDockerReference } = await import('./registry-transport.ts');
      const own = explicitTag(place.rest);
      const named = place.rest.includes('@') ? place.rest : own !== undefined ? place.rest : `${place.rest}:${opts.sourceTag ?? 'latest'}`;
      const ref = parseDockerReference(named);
      if (ref.digest !== undefined) throw new CopyError('BERTH_COPY_REFERENCE_INVALID', `${spec}: a destination is a repository and a tag, not a digest (the digest is the image's own)`);
      return { destination: await openRegistryDestination(ref, registryOptions(opts)), tag: ref.tag };
    }
    case 'oci': {
      const { ociLayoutDestination } = await import('./oci-layout.ts');
      const { path, ref } = pathAndRef(place.rest);
      const tag = ref ?? opts.sourceTag;
      return { destination: ociLayoutDestination(path, tag), tag };
    }
    case 'oci-archive': {
      const { ociArchiveDestination } = await import('./oci-archive.ts');
      const { path, ref } = pathAndRef(place.rest);
      const tag = ref ?? opts.sourceTag;
      return { destination: ociArchiveDestination(path, tag), tag };
    }
    case 'docker-archive': {
      const { dockerArchiveDestination } = await import('./docker-archive.ts');
      const { path, name } = fileAndName(place.rest);
      return { destination: dockerArchiveDestination(path, name), tag: name === undefined ? opts.sourceTag : explicitTag(name) };
    }
  }
}
