/** The web UI's content views: implemented in the next commit (the routes are declared with this one). */
import { HttpError } from '../errors.ts';
import type { Handler } from '../context.ts';

const notYet: Handler = async () => {
  throw new HttpError('UNSUPPORTED', 'not available in this build');
};
export const listTagDetails = notYet;
export const deleteTag = notYet;
export const getManifestDetail = notYet;
export const deleteRepository = notYet;
