/**
 * The layout of berth's bytes in a storage driver. Blobs (layers, configs and manifests alike)
 * are content-addressed and stored once for all repositories, flat under a two-character prefix
 * (no directory per blob: one fewer directory to create and fsync per push). Upload sessions'
 * bytes live apart until they are committed. Repositories, tags, references and the sessions
 * themselves live in the meta store, not here.
 *
 *   /blobs/<algorithm>/<first two hex>/<hex>
 *   /uploads/<uuid>            bytes received so far
 */

export const BLOBS_ROOT = '/blobs';
export const UPLOADS_ROOT = '/uploads';

export function blobDataPath(algorithm: string, hex: string): string {
  return `${BLOBS_ROOT}/${algorithm}/${hex.slice(0, 2)}/${hex}`;
}

export function uploadDataPath(id: string): string {
  return `${UPLOADS_ROOT}/${id}`;
}
