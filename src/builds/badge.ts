/** The build badge (GET .../builds/badge.svg): "build | <status>" in the colours shields.io uses. */
import type { BuildStatus } from './model.ts';

const COLOURS: Record<BuildStatus | 'none', string> = {
  succeeded: '#4c1',
  failed: '#e05d44',
  cancelled: '#9f9f9f',
  running: '#dfb317',
  queued: '#dfb317',
  none: '#9f9f9f',
};

const LABELS: Record<BuildStatus | 'none', string> = {
  succeeded: 'passing',
  failed: 'failing',
  cancelled: 'cancelled',
  running: 'running',
  queued: 'queued',
  none: 'no builds',
};

/** Text widths in Verdana 11px, roughly: enough for fixed labels (no user text goes in). */
const width = (text: string): number => Math.round(text.length * 6.5 + 10);

export function badgeSvg(status: BuildStatus | undefined): string {
  const key = status ?? 'none';
  const left = 'build';
  const right = LABELS[key];
  const lw = width(left);
  const rw = width(right);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${lw + rw}" height="20" role="img" aria-label="${left}: ${right}"><title>${left}: ${right}</title><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${rw}" height="20" fill="${COLOURS[key]}"/><g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11"><text x="${lw / 2}" y="14">${left}</text><text x="${lw + rw / 2}" y="14">${right}</text></g></svg>`;
}
