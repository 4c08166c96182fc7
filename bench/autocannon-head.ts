// Work-around for HEAD in autocannon 9: its HTTP parser (http-parser-js) is never told that a
// response answers a HEAD request, so on a keep-alive connection it waits for Content-Length
// body bytes that never come and every HEAD request times out. While `skipResponseBodies` is
// on, the parser is told to skip response bodies (the onHeadersComplete return value), exactly
// as node's own client does for HEAD. Only used for the HEAD load row.
import { createRequire } from 'node:module';

interface ParserClass {
  prototype: Record<number, unknown>;
  kOnHeadersComplete: number;
}

let skipBodies = false;
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  // Resolve http-parser-js exactly as autocannon does (it is autocannon's dependency, not ours).
  const acRequire = createRequire(createRequire(import.meta.url).resolve('autocannon'));
  const { HTTPParser } = acRequire('http-parser-js') as { HTTPParser: ParserClass };
  const key = HTTPParser.kOnHeadersComplete;
  const proto = HTTPParser.prototype;
  const fallback = proto[key];
  const own = (target: object, value: unknown): void => {
    Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: true });
  };
  // autocannon assigns `parser[kOnHeadersComplete] = fn` per client: intercept that assignment.
  Object.defineProperty(proto, key, {
    configurable: true,
    get: () => fallback,
    set(this: object, fn: unknown) {
      if (typeof fn !== 'function') return own(this, fn);
      const handler = fn as (...args: unknown[]) => unknown;
      own(this, function (this: unknown, ...args: unknown[]): unknown {
        const r = handler.apply(this, args);
        return skipBodies ? 1 : r;
      });
    },
  });
}

export async function skippingResponseBodies<T>(f: () => Promise<T>): Promise<T> {
  install();
  skipBodies = true;
  try {
    return await f();
  } finally {
    skipBodies = false;
  }
}
