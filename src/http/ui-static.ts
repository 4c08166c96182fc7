/**
 * The web UI's files (Vite's build in ui/dist), served by the registry itself at `/`: read into
 * memory at start with gzip and brotli copies (the whole UI is a few hundred KiB), answered with
 * ETags, long-lived caching for the hashed assets, and a strict Content-Security-Policy (no inline
 * script or style, no other origin). Other paths get index.html when a browser navigates there
 * (Accept: text/html): they are the SPA's routes.
 * The registry's and the JSON API's paths never reach here.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/** Where `npm run build:ui` writes: ui/dist at the package root (two levels above src/http and dist/http). */
export const UI_DIRECTORY = fileURLToPath(new URL('../../ui/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.webmanifest': 'application/manifest+json',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.txt', '.webmanifest']);

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'; object-src 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
};

/** Paths that belong to the registry and its APIs, never to the UI. */
const RESERVED = /^\/(v1|v2|api|auth)(\/|$)/;

interface Asset {
  body: Buffer;
  gzip?: Buffer;
  br?: Buffer;
  type: string;
  etag: string;
  immutable: boolean;
}

export interface UiFiles {
  /** Answer a GET or HEAD for `urlPath` (without http.prefix) and return true, or return false (not the UI's). */
  serve(req: IncomingMessage, res: ServerResponse, urlPath: string): boolean;
  /** Bytes of JavaScript, raw and gzipped, for the start-up log. */
  readonly scriptBytes: { raw: number; gzip: number };
}

async function listFiles(dir: string, base = ''): Promise<string[]> {
  const entries = await readdir(path.join(dir, base), { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? listFiles(dir, path.posix.join(base, e.name)) : Promise.resolve([path.posix.join(base, e.name)]))),
  );
  return nested.flat();
}

function asset(urlPath: string, body: Buffer): Asset {
  const ext = path.extname(urlPath);
  const compress = COMPRESSIBLE.has(ext) && body.length > 512;
  return {
    body,
    ...(compress && {
      gzip: gzipSync(body, { level: 9 }),
      br: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } }),
    }),
    type: TYPES[ext] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
    immutable: urlPath.startsWith('/assets/'),
  };
}

/** index.html knows the path prefix: its asset links are rewritten and the SPA reads it from a meta tag. */
export function rewriteIndex(html: string, prefix: string): string {
  const escaped = prefix.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
  return html
    .replace(/(\s(?:src|href))="\/(?!\/)/g, `$1="${escaped}/`)
    .replace('</head>', `  <meta name="berth-base" content="${escaped}">\n  </head>`);
}

function accepts(req: IncomingMessage, encoding: string): boolean {
  const header = req.headers['accept-encoding'];
  return typeof header === 'string' && header.split(',').some((e) => e.trim().split(';')[0] === encoding);
}

function send(req: IncomingMessage, res: ServerResponse, a: Asset): void {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
  res.setHeader('Content-Type', a.type);
  res.setHeader('ETag', a.etag);
  res.setHeader('Cache-Control', a.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (a.gzip !== undefined) res.setHeader('Vary', 'Accept-Encoding');
  if (req.headers['if-none-match'] === a.etag) {
    res.statusCode = 304;
    res.end();
    return;
  }
  let body = a.body;
  if (a.br !== undefined && accepts(req, 'br')) {
    body = a.br;
    res.setHeader('Content-Encoding', 'br');
  } else if (a.gzip !== undefined && accepts(req, 'gzip')) {
    body = a.gzip;
    res.setHeader('Content-Encoding', 'gzip');
  }
  res.statusCode = 200;
  res.setHeader('Content-Length', body.length);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Load the built UI; undefined (with the reason) when it has not been built. */
export async function loadUi(dir: string, prefix: string): Promise<UiFiles | { missing: string }> {
  let files: string[];
  try {
    files = await listFiles(dir);
  } catch {
    return { missing: `${dir} does not exist: run npm run build:ui` };
  }
  if (!files.includes('index.html')) return { missing: `${dir} has no index.html: run npm run build:ui` };
  const assets = new Map<string, Asset>();
  let raw = 0;
  let gzip = 0;
  for (const file of files) {
    let body = await readFile(path.join(dir, file));
    if (file === 'index.html') body = Buffer.from(rewriteIndex(body.toString('utf8'), prefix));
    const urlPath = `/${file}`;
    const a = asset(urlPath, body);
    assets.set(urlPath, a);
    if (file.endsWith('.js')) {
      raw += a.body.length;
      gzip += (a.gzip ?? a.body).length;
    }
  }
  const index = assets.get('/index.html');
  if (index === undefined) throw new Error('index.html vanished');
  return {
    scriptBytes: { raw, gzip },
    serve(req, res, urlPath) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      if (RESERVED.test(urlPath)) return false;
      const file = assets.get(urlPath === '/' ? '/index.html' : urlPath);
      if (file !== undefined) {
        send(req, res, file);
        return true;
      }
      // Any other path is a route of the SPA (`/r/alice/web/tag/1.0` has a dot too); a missing asset
      // or top-level file (`/favicon.ico`, `/robots.txt`) stays a 404.
      if (urlPath.startsWith('/assets/') || /^\/[^/]*\.[a-z0-9]+$/i.test(urlPath)) return false;
      // Only a browser navigating gets the page; an API client asking a wrong path gets the 404 envelope.
      if (!/\btext\/html\b/.test(req.headers.accept ?? '')) return false;
      send(req, res, index);
      return true;
    },
  };
}
