/**
 * `berth mirror status [--config FILE] [--url URL] [--user NAME] [--json]`: the pull-through cache's upstreams
 * and their counters (hits, misses, bytes fetched and saved, tags served stale, errors), asked of
 * the running berth (GET /api/v1/mirror), since the counters live in its memory. Without --url,
 * the address comes from the config's http.addr (and http.tls for https). With access control on,
 * the endpoint is for administrators: --user NAME sends Basic credentials, the password read from
 * BERTH_PASSWORD.
 */
import { parseAddr } from '../config/addr.ts';
import type { Config } from '../config/schema.ts';
import type { MirrorStatus } from '../proxy/stats.ts';
import { parseCommandLine } from './args.ts';
import { withSubcommands } from './command.ts';
import { CONFIG_HELP, CONFIG_OPTIONS, loadCliConfig } from './config-options.ts';
import { bytes, json, table } from './table.ts';

const OPTIONS = {
  ...CONFIG_OPTIONS,
  url: { type: 'string' },
  user: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const USAGE = `usage: berth mirror status [--config FILE] [--url URL] [--user NAME] [--json]

The pull-through cache's upstreams and their counters, asked of the running berth.

  status          per upstream: hits, misses, tags served stale, errors, bytes fetched and saved
    --url URL         the berth to ask (default: from the config's http.addr and http.tls)
    --user NAME       an administrator, when access control is on; the password from $BERTH_PASSWORD
    --json            the same as JSON

${CONFIG_HELP}`;


export function renderStatus(status: MirrorStatus): string {
  return table([
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
  ]);
}

/** The running berth's base URL from its config. */
function baseUrl(config: Config): string {
  const { host, port } = parseAddr(config.http.addr);
  const target = host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '::' || host === '[::]' ? '[::1]' : host;
  return `${config.http.tls === undefined ? 'http' : 'https'}://${target}:${port}${config.http.prefix}`;
}

/** Why fetch failed, in one line: undici puts the reason (ECONNREFUSED...) in the cause. */
function reason(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  return cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err);
}

export const mirror = withSubcommands(USAGE, {
  async status(args, io) {
    const { values } = parseCommandLine(args, OPTIONS);
    const base = values.url ?? baseUrl((await loadCliConfig(values, io)).config);
    const headers: Record<string, string> = {};
    if (values.user !== undefined) {
      headers['Authorization'] = `Basic ${Buffer.from(`${values.user}:${io.env['BERTH_PASSWORD'] ?? ''}`).toString('base64')}`;
    }
    const res = await fetch(`${base.replace(/\/$/, '')}/api/v1/mirror`, { headers, signal: AbortSignal.timeout(10_000) }).catch((err: unknown) => {
      throw new Error(`cannot reach berth at ${base}: ${reason(err)}`, { cause: err });
    });
    if (res.status === 401 || res.status === 403) throw new Error(`${base} wants an administrator (${res.status}): pass --user NAME with BERTH_PASSWORD set`);
    if (res.status !== 200) throw new Error(`${base} answered ${res.status}: ${await res.text()}`);
    const status = (await res.json()) as MirrorStatus;
    if (status.upstreams.length === 0) throw new Error(`the berth at ${base} mirrors no upstream (no proxy section in its config)`);
    io.stdout.write(values.json === true ? json(status) : renderStatus(status));
    return 0;
  },
});
