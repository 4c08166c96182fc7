// The ceiling for small GETs in section 15: a bare node:http server that answers every request
// with the same status line, headers and bytes as berth's manifest GET by tag, and does nothing else.
// Usage (spawned by bench/limits.ts): node --import tsx bench/bare-server.ts <response.json> <port>
//   response.json: { "headers": { name: value }, "body": "<base64>" }
import { readFileSync } from 'node:fs';
import http from 'node:http';

const [file, port] = process.argv.slice(2);
if (file === undefined || port === undefined) {
  console.error('usage: bare-server.ts <response.json> <port>');
  process.exit(2);
}
const spec = JSON.parse(readFileSync(file, 'utf8')) as { headers: Record<string, string>; body: string };
const body = Buffer.from(spec.body, 'base64');
const headers = spec.headers;

http
  .createServer((_req, res) => {
    res.writeHead(200, headers);
    res.end(body);
  })
  .listen(Number(port), '127.0.0.1');
