/**
 * `storage.gc`: online garbage collection (registry/gc.ts, docs/gc.md). Durations are Go duration
 * strings, where 0 is allowed: an interval of 0 turns background runs off, a grace of 0 collects
 * as soon as something is unreferenced (tests; never in production).
 */
import { z } from 'zod';
import { parseDuration } from './duration.ts';

export const gcDurationSchema = z.string().transform((value, ctx) => {
  try {
    const ms = parseDuration(value);
    if (ms >= 0) return ms;
    ctx.addIssue({ code: 'custom', message: `duration ${JSON.stringify(value)} must not be negative` });
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
  return z.NEVER;
});

/** A daily window "HH:MM-HH:MM" in the server's local time; it may span midnight ("22:00-04:00"). */
export interface GcWindow {
  /** Minutes after midnight. */
  start: number;
  end: number;
}

const window = z.string().transform((value, ctx): GcWindow => {
  const m = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  if (m === null) {
    ctx.addIssue({ code: 'custom', message: `window ${JSON.stringify(value)} must be "HH:MM-HH:MM" (24-hour clock), e.g. "01:00-05:00"` });
    return z.NEVER;
  }
  const start = Number(m[1]) * 60 + Number(m[2]);
  const end = Number(m[3]) * 60 + Number(m[4]);
  if (start === end) {
    ctx.addIssue({ code: 'custom', message: `window ${JSON.stringify(value)} is empty: its start and end are the same` });
    return z.NEVER;
  }
  return { start, end };
});

export const gcSchema = z
  .object({
    /** Milliseconds between background runs; 0: none (`berth gc` and the API still run one). */
    interval: gcDurationSchema.prefault('1h'),
    /** Background runs start only inside this daily window, when set. */
    window: window.optional(),
    /** Milliseconds an unreferenced blob (or an untagged manifest) is kept before it is collected. */
    grace: gcDurationSchema.prefault('1h'),
    untagged: z.enum(['keep', 'delete']).default('keep'),
  })
  .prefault({});

export type GcConfig = z.output<typeof gcSchema>;

/** Whether a moment (local time) falls inside the window; always true without one. */
export function insideWindow(window: GcWindow | undefined, at: Date): boolean {
  if (window === undefined) return true;
  const minute = at.getHours() * 60 + at.getMinutes();
  return window.start < window.end ? minute >= window.start && minute < window.end : minute >= window.start || minute < window.end;
}
