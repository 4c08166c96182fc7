/**
 * Reading an image's config blob (OCI image config / Docker container config), pure: what the
 * image runs (entrypoint, cmd, env, user, ports, volumes, labels), where it runs (os, architecture,
 * variant) and how it was built (history). Configs come from whoever pushed them, so a field of the
 * wrong type is left out rather than trusted, and a blob that is not a JSON object is no config.
 */

/** Config media types of container images (other config types are artifacts'). */
export const IMAGE_CONFIG_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.config.v1+json',
  'application/vnd.docker.container.image.v1+json',
]);

export interface PlatformSummary {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ImageConfigSummary {
  created?: string;
  author?: string;
  os?: string;
  architecture?: string;
  variant?: string;
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
  /** `80/tcp`, as the keys of ExposedPorts. */
  exposedPorts?: string[];
  volumes?: string[];
  stopSignal?: string;
}

export interface HistoryEntry {
  created?: string;
  createdBy?: string;
  author?: string;
  comment?: string;
  emptyLayer: boolean;
}

export interface ImageConfig {
  summary: ImageConfigSummary;
  history: HistoryEntry[];
  /** Where the image runs, when the config says both os and architecture. */
  platform: PlatformSummary | undefined;
}

type Json = Record<string, unknown>;

function object(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function texts(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
}

function textRecord(value: unknown): Record<string, string> | undefined {
  const o = object(value);
  if (o === undefined) return undefined;
  const entries = Object.entries(o).filter((e): e is [string, string] => typeof e[1] === 'string');
  return Object.fromEntries(entries);
}

/** The keys of a set written as an object (`{"80/tcp": {}}`), as Docker writes ExposedPorts and Volumes. */
function keys(value: unknown): string[] | undefined {
  const o = object(value);
  return o === undefined ? undefined : Object.keys(o);
}

/** An object of only the fields that are defined. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The platform a config describes; undefined without both os and architecture. */
export function platformOf(config: Json): PlatformSummary | undefined {
  const os = text(config['os']);
  const architecture = text(config['architecture']);
  if (os === undefined || architecture === undefined) return undefined;
  const variant = text(config['variant']);
  return { os, architecture, ...(variant !== undefined && { variant }) };
}

function historyOf(value: unknown): HistoryEntry[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item) => {
    const h = object(item);
    if (h === undefined) return [];
    return [
      defined({
        created: text(h['created']),
        createdBy: text(h['created_by']),
        author: text(h['author']),
        comment: text(h['comment']),
        emptyLayer: h['empty_layer'] === true,
      }),
    ];
  });
}

/** Parse a config blob's bytes; undefined when they are not a JSON object. */
export function parseImageConfig(content: Buffer): ImageConfig | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(content.toString('utf8'));
  } catch {
    return undefined;
  }
  const config = object(doc);
  if (config === undefined) return undefined;
  const run = object(config['config']) ?? {};
  const summary = defined<ImageConfigSummary>({
    created: text(config['created']),
    author: text(config['author']),
    os: text(config['os']),
    architecture: text(config['architecture']),
    variant: text(config['variant']),
    entrypoint: texts(run['Entrypoint']),
    cmd: texts(run['Cmd']),
    env: texts(run['Env']),
    workingDir: text(run['WorkingDir']) || undefined,
    user: text(run['User']) || undefined,
    labels: textRecord(run['Labels']),
    exposedPorts: keys(run['ExposedPorts']),
    volumes: keys(run['Volumes']),
    stopSignal: text(run['StopSignal']),
  });
  return { summary, history: historyOf(config['history']), platform: platformOf(config) };
}

/** Platforms of an index's entries, without the `unknown/unknown` ones (attestations, as buildx pushes them). */
export function isRunnablePlatform(platform: { os: string; architecture: string } | undefined): boolean {
  return platform !== undefined && !(platform.os === 'unknown' && platform.architecture === 'unknown');
}
