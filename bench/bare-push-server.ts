// The ceiling for small pushes in section 15: a bare node:http server that takes the bench's
// POST + PUT ?digest= pushes and does nothing else: no hashing, no access check, no database. With
// `durable` each PUT writes its body to a new file and fdatasyncs it before answering (one flush
// per push: what a registry that acknowledges only durable bytes must at least do); with `memory`
// the body is read and dropped.
// Usage (spawned by bench/limits.ts): node --import tsx bench/bare-push-server.ts <port> <durable|memory> <dir>
import { open } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';

const [port, mode, dir] = process.argv.slice(2);
if (port === undefined || (mode !== 'durable' && mode !== 'memory') || dir === undefined) {
  console.error('usage: bare-push-server.ts <port> <durable|memory> <dir>');
  process.exit(2);
}
const root = dir;
let uploads = 0;

async function store(id: string, body: Buffer): Promise<void> {
  const file = await open(join(root, id), 'w');
  try {
    await file.write(body);
    await file.datasync();
  } finally {
    await file.close();
  }
}

http
  .createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-length': '0' });
        res.end();
        return;
      }
      if (req.method === 'POST') {
        const id = String(++uploads);
        res.writeHead(202, { location: `/v2/bare/blobs/uploads/${id}`, 'docker-upload-uuid': id, range: '0-0', 'content-length': '0' });
        res.end();
        return;
      }
      const id = req.url?.split('?')[0]?.split('/').pop() ?? 'x';
      const done = mode === 'durable' ? store(id, Buffer.concat(chunks)) : Promise.resolve();
      done.then(
        () => {
          res.writeHead(201, { location: `/v2/bare/blobs/${id}`, 'content-length': '0' });
          res.end();
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(err));
        },
      );
    });
  })
  .listen(Number(port), '127.0.0.1');
