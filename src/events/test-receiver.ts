/**
 * For the notification tests: a real HTTP receiver on 127.0.0.1:0 that records every request
 * and can be told to fail (answer 500), to hang (for timeouts), or to go down and come back on
 * the same port (connection refused meanwhile).
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Envelope, RegistryEvent } from './event.ts';

export interface ReceivedRequest {
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The status it was answered with ('hang': never answered). */
  status: number | 'hang';
  /** Date.now() when the body had arrived. */
  at: number;
}

export type Behaviour = 'ok' | 'fail' | 'hang';

export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  behaviour: Behaviour = 'ok';
  private server: http.Server;
  private port = 0;

  private constructor() {
    this.server = this.create();
  }

  static async start(): Promise<TestReceiver> {
    const receiver = new TestReceiver();
    await receiver.up();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/events`;
  }

  /** Events of the requests answered 2xx, in arrival order. */
  get accepted(): RegistryEvent[] {
    return this.requests.filter((r) => r.status === 200).flatMap((r) => (JSON.parse(r.body) as Envelope).events);
  }

  /** Listen (again, on the same port once one was chosen). */
  async up(): Promise<void> {
    if (this.server.listening) return;
    this.server = this.create();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Stop listening: connections are refused until up(). */
  async down(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /**
   * Resolve once `done` holds, polling; fail after `timeoutMs`. The default is generous: a
   * passing wait ends as soon as the condition holds, and a loaded CI machine can take seconds.
   */
  async waitFor(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!(await done())) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what} (${this.requests.length} requests received)`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private create(): http.Server {
    return http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const behaviour = this.behaviour;
        const status = behaviour === 'ok' ? 200 : behaviour === 'fail' ? 500 : 'hang';
        this.requests.push({ method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status, at: Date.now() });
        if (status !== 'hang') res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status === 200 ? 'ok' : 'failing');
      });
    });
  }
}
