/** Error messages people can read: what happened first, the registry's code and message after. */
import { ApiError } from './client.ts';

function sentence(text: string): string {
  const t = text.trim();
  return t === '' ? t : t[0]!.toUpperCase() + t.slice(1);
}

export function errorMessage(err: unknown): string {
  if (!(err instanceof ApiError)) {
    return err instanceof Error ? `Something went wrong: ${err.message}` : 'Something went wrong.';
  }
  const why = `${err.code}: ${err.message}`;
  switch (err.status) {
    case 0:
      return 'Could not reach the registry. Check your connection and try again.';
    case 400:
      return `That request was not accepted (${why}).`;
    case 401:
      return 'You need to sign in to do that.';
    case 403:
      return `You don't have permission to do that (${why}).`;
    case 404:
      return `Not found (${why}).`;
    case 405:
      return `This registry does not allow that (${why}).`;
    case 409:
      return `${sentence(err.message)} (${err.code}).`;
    case 413:
      return `That is too large (${why}).`;
    case 429:
      return err.retryAfter !== undefined
        ? `Too many attempts, try again in ${err.retryAfter} s.`
        : 'Too many attempts, try again in a moment.';
    default:
      return err.status >= 500
        ? `The registry had a problem (${why}). Try again later.`
        : `${sentence(err.message)} (${err.code}).`;
  }
}

export function isStatus(err: unknown, status: number): boolean {
  return err instanceof ApiError && err.status === status;
}
