/**
 * Zero-copy blob pulls: the kernel copies the file to the socket (sendfile(2), the native addon
 * in native/), as nginx and distribution do, instead of reading every byte into JavaScript and
 * writing it back. Used for plain TCP responses when the addon is built and storage has a local
 * file; TLS responses and other drivers stream (http/stream.ts).
 */
import { createRequire } from 'node:module';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { BlobFile } from '../registry/blobs.ts';

type SendfileFn = (socketFd: number, fileFd: number, offset: number, count: number, done: (err: Error | null, sent: number) => void) => void;

function loadAddon(): SendfileFn | undefined {
  if (process.env['BERTH_SENDFILE'] === '0' || process.platform !== 'linux') return undefined;
  try {
    // From src/http or dist/http alike, the addon is two levels up.
    const addon = createRequire(import.meta.url)('../../native/build/Release/berth_sendfile.node') as { sendfile?: SendfileFn };
    return addon.sendfile;
  } catch {
    return undefined;
  }
}

const nativeSendfile = loadAddon();

/** Whether zero-copy sending is possible on this response's connection. */
export function canSendfile(res: ServerResponse): boolean {
  return nativeSendfile !== undefined && socketFd(res.socket) !== undefined;
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

/** Send the headers already set with writeHead, then the file range, then end the response. */
export async function sendFile(res: ServerResponse, file: BlobFile): Promise<void> {
  const socket = res.socket;
  const fd = socketFd(socket);
  if (nativeSendfile === undefined || socket === null || fd === undefined) throw new Error('sendfile is not available here');
  const send = nativeSendfile;
  try {
    res.flushHeaders();
    await socketFlushed(socket);
    const sent = await new Promise<number>((resolve, reject) => {
      send(fd, file.fd, file.offset, file.length, (err, n) => (err ? reject(err) : resolve(n)));
    });
    if (sent !== file.length) throw new Error(`sent ${sent} of ${file.length} bytes`);
    res.end();
  } catch (err) {
    // Part of the body may be on the wire: the connection cannot carry another response.
    socket.destroy();
    throw err;
  } finally {
    await file.close();
  }
}
