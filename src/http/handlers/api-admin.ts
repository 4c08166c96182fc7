/** The storage view: implemented in the next commit. */
import { HttpError } from '../errors.ts';
import type { Handler } from '../context.ts';

export const getStorage: Handler = async () => {
  throw new HttpError('UNSUPPORTED', 'not available in this build');
};
