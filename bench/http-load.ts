// Fixed-duration HTTP load: wrk (GET) and autocannon (HEAD; wrk 4.1.0 hangs on HEAD).
import autocannon from 'autocannon';
import { skippingResponseBodies } from './autocannon-head.ts';
import { raceTimeout, startProc, stopProc } from './procs.ts';

export interface LoadResult {
  rps: number;
  p50ms: number;
  p99ms: number;
  /** non-2xx/3xx responses + socket errors + timeouts */
  errors: number;
  requests: number;
}

export interface LoadSpec {
  url: URL;
  method: 'GET' | 'HEAD';
  connections: number;
  seconds: number;
  headers: Record<string, string>;
}

const UNIT_MS: Record<string, number> = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

function toMs(value: string, unit: string): number {
  const f = UNIT_MS[unit];
  if (f === undefined) throw new Error(`wrk: unknown time unit "${unit}"`);
  return Number.parseFloat(value) * f;
}

/** Parse `wrk --latency` output. Exported for a quick self-check. */
export function parseWrk(out: string): LoadResult {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(out);
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s|m|h)\s*$/m.exec(out);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s|m|h)\s*$/m.exec(out);
  const total = /^\s+(\d+) requests in /m.exec(out);
  if (!rps?.[1] || !p50?.[1] || !p50[2] || !p99?.[1] || !p99[2] || !total?.[1]) {
    throw new Error(`could not parse wrk output:\n${out}`);
  }
  let errors = 0;
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  if (non2xx?.[1]) errors += Number.parseInt(non2xx[1], 10);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (sock) errors += sock.slice(1).reduce((s, v) => s + Number.parseInt(v ?? '0', 10), 0);
  return {
    rps: Number.parseFloat(rps[1]),
    p50ms: toMs(p50[1], p50[2]),
    p99ms: toMs(p99[1], p99[2]),
    errors,
    requests: Number.parseInt(total[1], 10),
  };
}

async function runWrk(spec: LoadSpec): Promise<LoadResult> {
  const threads = Math.min(2, spec.connections);
  const args = ['-t', String(threads), '-c', String(spec.connections), '-d', `${spec.seconds}s`, '--latency', '--timeout', '5s'];
  for (const [k, v] of Object.entries(spec.headers)) args.push('-H', `${k}: ${v}`);
  args.push(spec.url.href);
  const proc = startProc('wrk', '/usr/bin/wrk', args);
  const code = await raceTimeout(proc.closed, (spec.seconds + 20) * 1000);
  if (code === 'timeout') {
    await stopProc(proc, 1000);
    throw new Error(`wrk did not finish: ${spec.url.href}`);
  }
  if (code !== 0) throw new Error(`wrk exited ${code}: ${proc.tail()}`);
  return parseWrk(proc.tail());
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx] ?? Number.NaN;
}

async function runAutocannon(spec: LoadSpec): Promise<LoadResult> {
  // autocannon's own latency histogram has 1 ms resolution, too coarse for loopback;
  // record every 2xx response time (float ms) ourselves instead.
  let lat = new Float64Array(1 << 16);
  let n = 0;
  const inst = autocannon({
    url: spec.url.href,
    method: spec.method,
    connections: spec.connections,
    duration: spec.seconds,
    pipelining: 1,
    timeout: 5,
    headers: spec.headers,
  });
  inst.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status < 200 || status >= 300) return;
    if (n === lat.length) {
      const grown = new Float64Array(lat.length * 2);
      grown.set(lat);
      lat = grown;
    }
    lat[n++] = ms;
  });
  const result = await raceTimeout(inst, (spec.seconds + 20) * 1000);
  if (result === 'timeout') {
    inst.stop();
    throw new Error(`autocannon did not finish: ${spec.url.href}`);
  }
  const sorted = lat.subarray(0, n).sort();
  return {
    rps: result.requests.total / result.duration,
    p50ms: percentile(sorted, 0.5),
    p99ms: percentile(sorted, 0.99),
    errors: result.errors + result.timeouts + result.non2xx,
    requests: result.requests.total,
  };
}

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return spec.method === 'HEAD' ? skippingResponseBodies(() => runAutocannon(spec)) : runWrk(spec);
}
