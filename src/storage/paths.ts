/**
 * The layout of berth's bytes in a storage driver. Blobs (layers, configs and manifests alike)
 * are content-addressed and stored once for all repositories; upload sessions live apart until
 * they are committed. Repositories, tags and references live in the meta store, not here.
 *
 *   /blobs/<algorithm>/<first two hex>/<hex>/data
 *   /uploads/<uuid>/data       bytes received so far
 *   /uploads/<uuid>/info       JSON: repository, start time
 */

export function blobDataPath(algorithm: string, hex: string): string {
  return `/blobs/${algorithm}/${hex.slice(0, 2)}/${hex}/data`;
}

export function blobDirPath(algorithm: string, hex: string): string {
  return `/blobs/${algorithm}/${hex.slice(0, 2)}/${hex}`;
}

export const BLOBS_ROOT = '/blobs';
export const UPLOADS_ROOT = '/uploads';

export function uploadDir(id: string): string {
  return `${UPLOADS_ROOT}/${id}`;
}

export function uploadDataPath(id: string): string {
  return `${UPLOADS_ROOT}/${id}/data`;
}

export function uploadInfoPath(id: string): string {
  return `${UPLOADS_ROOT}/${id}/info`;
}
