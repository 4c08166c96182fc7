/** Which handler answers which route and method: the explicit map the server dispatches on. */
import type { Handler } from '../context.ts';
import type { Method, RouteName } from '../routes.ts';
import { getBase } from './base.ts';
import { deleteBlob, getBlob, headBlob } from './blobs.ts';
import { getCatalog, getReferrers, getTags } from './listings.ts';
import { getEvents } from './events.ts';
import { deleteManifest, getManifest, headManifest, putManifest } from './manifests.ts';
import { deleteUpload, getUpload, patchUpload, putUpload, startUpload } from './uploads.ts';

export const HANDLERS: Record<RouteName, Partial<Record<Method, Handler>>> = {
  base: { GET: getBase, HEAD: getBase },
  catalog: { GET: getCatalog },
  tags: { GET: getTags },
  manifest: { GET: getManifest, HEAD: headManifest, PUT: putManifest, DELETE: deleteManifest },
  'upload-start': { POST: startUpload },
  upload: { GET: getUpload, PATCH: patchUpload, PUT: putUpload, DELETE: deleteUpload },
  blob: { GET: getBlob, HEAD: headBlob, DELETE: deleteBlob },
  referrers: { GET: getReferrers },
  events: { GET: getEvents },
};
