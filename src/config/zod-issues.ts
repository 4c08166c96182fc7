import type { z } from 'zod';

/** A zod error as one line for a client: each issue's path (when it has one) and message. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length === 0 ? i.message : `${i.path.join('.')}: ${i.message}`)).join('; ');
}
