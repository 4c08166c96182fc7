/**
 * `berth mirror status [--config FILE] [--url URL] [--user NAME] [--json]`: the pull-through cache's upstreams
 * and their counters (hits, misses, bytes fetched and saved, tags served stale, errors), asked of
 * the running berth (GET /api/v1/mirror), since the counters live in its memory. Without --url,
 * the address comes from the config's http.addr (and http.tls for https). With access control on,
 * the endpoint is for administrators: --user NAME sends Basic credentials, the password read from
 * BERTH_PASSWORD.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { ConfigError } from '../config/errors.ts';
import { parseAddr } from '../config/addr.ts';
import type { MirrorStatus } from '../proxy/stats.ts';

interface Output {
  write(text: string): unknown;
}

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  url: { type: 'string' },
  user: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

const USAGE = 'usage: berth mirror status [--config FILE] [--url URL] [--user NAME] [--json]\n';

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

export function renderStatus(status: MirrorStatus): string {
  const rows = [
    ['UPSTREAM', 'PREFIX', 'URL', 'HITS', 'MISSES', 'STALE', 'ERRORS', 'FETCHED', 'SAVED', 'LAST ERROR'],
    ...status.upstreams.map((u) => [
      u.name,
      u.prefix === '' ? '(all)' : u.prefix,
      u.url,
      String(u.hits),
      String(u.misses),
      String(u.staleServed),
      String(u.errors),
      bytes(u.bytesFetched),
      bytes(u.bytesSaved),
      u.lastError === null ? '' : `${u.lastError.at} ${u.lastError.reason}`,
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}

/** The running berth's base URL from its config. */
function baseUrl(file: string | undefined): string {
  const { config } = loadConfig({ file, env: process.env });
  const { host, port } = parseAddr(config.http.addr);
  const target = host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '::' || host === '[::]' ? '[::1]' : host;
  return `${config.http.tls === undefined ? 'http' : 'https'}://${target}:${port}${config.http.prefix}`;
}

export async function mirror(argv: string[], out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'status') {
    err.write(USAGE);
    return 2;
  }
  let values;
  try {
    ({ values } = parseArgs({ args: rest, options: OPTIONS, allowPositionals: false }));
  } catch (e) {
    err.write(`berth mirror: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  let base: string;
  try {
    base = values.url ?? baseUrl(values.config ?? process.env['REGISTRY_CONFIGURATION_PATH']);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err.write(`berth: invalid configuration\n${e.message}\n`);
    return 78;
  }
  let res: Response;
  try {
    const headers: Record<string, string> = {};
    if (values.user !== undefined) {
      headers['Authorization'] = `Basic ${Buffer.from(`${values.user}:${process.env['BERTH_PASSWORD'] ?? ''}`).toString('base64')}`;
    }
    res = await fetch(`${base.replace(/\/$/, '')}/api/v1/mirror`, { headers, signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    err.write(`berth mirror: cannot reach berth at ${base}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}\n`);
    return 1;
  }
  if (res.status === 401 || res.status === 403) {
    err.write(`berth mirror: ${base} wants an administrator (${res.status}): pass --user NAME with BERTH_PASSWORD set\n`);
    return 1;
  }
  if (res.status !== 200) {
    err.write(`berth mirror: ${base} answered ${res.status}: ${await res.text()}\n`);
    return 1;
  }
  const status = (await res.json()) as MirrorStatus;
  if (status.upstreams.length === 0) {
    err.write(`berth mirror: the berth at ${base} mirrors no upstream (no proxy section in its config)\n`);
    return 1;
  }
  out.write(values.json ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status));
  return 0;
}
