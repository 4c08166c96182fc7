/** A repository name from the route: trailing slashes off, %-escapes decoded. */
export function repoName(raw: string | undefined): string {
  const name = (raw ?? '').replace(/\/+$/, '');
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/** A tag or digest from the route. */
export function reference(raw: string | undefined): string {
  try {
    return decodeURIComponent(raw ?? '');
  } catch {
    return raw ?? '';
  }
}
