/**
 * After a navigation, the new page's heading takes the focus (screen readers announce the page;
 * keyboard users start from the top of the content). The first page load leaves focus alone.
 */
let pending = false;
let lastPath: string | undefined;

/** Called while rendering the routes with the current path. */
export function noteLocation(path: string): void {
  if (lastPath !== undefined && lastPath !== path) pending = true;
  lastPath = path;
}

/** True once per navigation: the heading that asks first gets the focus. */
export function takeFocusRequest(): boolean {
  const p = pending;
  pending = false;
  return p;
}
