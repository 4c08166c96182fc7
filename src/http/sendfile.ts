/**
 * Zero-copy blob pulls: the kernel copies the file to the socket (sendfile(2), the native addon
 * in native/), as nginx does, instead of reading every byte into JavaScript and writing it back.
 * The copy runs on the event loop (no threadpool thread per pull), waiting for room in the socket
 * with libuv. Used for plain TCP responses when the addon is built and storage has a local file;
 * TLS responses and other drivers stream (http/stream.ts).
 *
 * A client on loopback (127.0.0.0/8, ::1) gets the same job with pread/write through a 1 MiB
 * buffer instead: there the receiver copies every byte anyway, and measured here that is faster
 * than sendfile's page references (a 256 MiB pull: 2303 against 1500 MB/s, medians of 9;
 * native/sendfile.c has the figures). BERTH_SENDFILE=copy or =sendfile forces one for every client.
 */
import { createRequire } from 'node:module';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { BlobFile } from '../registry/blobs.ts';

type Done = (err: (Error & { errno?: number }) | null, sent: number) => void;

/** native/sendfile.c */
interface Addon {
  sendfile(socketFd: number, fileFd: number, offset: number, count: number, idleMs: number, done: Done): object;
  /** The same job through a buffer (pread/write); absent from an addon built before it. */
  copy?(socketFd: number, fileFd: number, offset: number, count: number, idleMs: number, done: Done): object;
  cork(socketFd: number): void;
  abort(job: object): void;
}

/** A pull that makes no progress for this long (the client stopped reading) is dropped. */
const IDLE_MS = 300_000;

function loadAddon(): Addon | undefined {
  if (process.env['BERTH_SENDFILE'] === '0' || process.platform !== 'linux') return undefined;
  try {
    // From src/http or dist/http alike, the addon is two levels up.
    const addon = createRequire(import.meta.url)('../../native/build/Release/berth_sendfile.node') as Partial<Addon>;
    // An addon built from an older native/ (a threadpool job, no cork or abort) is not used.
    if (typeof addon.sendfile !== 'function' || typeof addon.cork !== 'function' || typeof addon.abort !== 'function') return undefined;
    return addon as Addon;
  } catch {
    return undefined;
  }
}

const addon = loadAddon();
const forced = process.env['BERTH_SENDFILE'];

/** How the kernel moves the bytes: sendfile(2), or pread/write through the addon's buffer. */
export type SendVia = 'sendfile' | 'copy';

/** Whether this client is sent the file through a buffer (loopback) rather than with sendfile. */
export function copiesThroughBuffer(socket: Pick<Socket, 'remoteAddress'>): boolean {
  if (forced === 'copy' || forced === 'sendfile') return forced === 'copy';
  const peer = socket.remoteAddress ?? '';
  return peer === '::1' || peer.startsWith('127.') || peer.startsWith('::ffff:127.');
}

/** Whether zero-copy sending is possible on this response's connection. */
export function canSendfile(res: ServerResponse): boolean {
  return addon !== undefined && socketFd(res.socket) !== undefined;
}

function socketFd(socket: Socket | null): number | undefined {
  if (socket === null || socket instanceof TLSSocket) return undefined;
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** Resolve once everything Node has written to the socket (the headers) reached the kernel. */
async function socketFlushed(socket: Socket): Promise<void> {
  while (socket.writableLength > 0) {
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', closed);
        resolve();
      };
      const closed = () => {
        socket.off('drain', done);
        reject(new Error('client closed the connection'));
      };
      socket.once('drain', done);
      socket.once('close', closed);
    });
  }
}

/** The file range to the socket; the job stops (ECANCELED) if the response closes first. */
function sendRange(native: Addon, res: ServerResponse, fd: number, file: BlobFile, idleMs: number, via: SendVia): Promise<number> {
  const start = via === 'copy' && native.copy !== undefined ? native.copy : native.sendfile;
  return new Promise<number>((resolve, reject) => {
    const job = start(fd, file.fd, file.offset, file.length, idleMs, (err, sent) => {
      res.off('close', stop);
      if (err) reject(err);
      else resolve(sent);
    });
    const stop = () => native.abort(job);
    res.once('close', stop);
  });
}

/**
 * Send the headers already set with writeHead, then the file range, then end the response. A
 * client that reads nothing for idleMs loses the connection. `via` defaults to the client's
 * (copiesThroughBuffer).
 */
export async function sendFile(res: ServerResponse, file: BlobFile, idleMs = IDLE_MS, via?: SendVia): Promise<void> {
  const socket = res.socket;
  const fd = socketFd(socket);
  try {
    if (addon === undefined || socket === null || fd === undefined) throw new Error('sendfile is not available here');
    // Corked, the headers wait for the body and share its first segment (nginx's tcp_nopush);
    // the addon uncorks when the last byte is in.
    if (file.length > 0) addon.cork(fd);
    // The headers go out in one write() now; wait only if the kernel did not take them all.
    res.flushHeaders();
    if (socket.writableLength > 0) await socketFlushed(socket);
    const how = via ?? (copiesThroughBuffer(socket) ? 'copy' : 'sendfile');
    const sent = file.length > 0 ? await sendRange(addon, res, fd, file, idleMs, how) : 0;
    if (sent !== file.length) throw new Error(`sent ${sent} of ${file.length} bytes`);
    res.end();
  } catch (err) {
    // Part of the body may be on the wire: the connection cannot carry another response.
    socket?.destroy();
    throw err;
  } finally {
    await file.close();
  }
}
