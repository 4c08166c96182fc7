/**
 * The path prefix the UI is served under. The server injects
 * `<meta name="berth-base" content="/prefix">` into index.html ("" without a prefix); every route
 * and API URL starts with it.
 */
function readBase(): string {
  let base = '';
  for (const meta of document.querySelectorAll<HTMLMetaElement>('meta[name="berth-base"]')) {
    if (meta.content !== '') base = meta.content;
  }
  base = base.trim().replace(/\/+$/, '');
  if (base !== '' && !base.startsWith('/')) base = `/${base}`;
  return base;
}

export const BASE = readBase();

/** An absolute URL path inside the UI ('/r/x' -> '/prefix/r/x'). */
export function appPath(path: string): string {
  return BASE + path;
}

/** What `docker pull` needs before the repository name: host and prefix. */
export function registryHost(): string {
  return location.host + BASE;
}
