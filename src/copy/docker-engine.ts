/**
 * The local Docker Engine (or podman's Docker-compatible service) as `berth push-images` reads it:
 * over its API socket (`DOCKER_HOST`: unix:///path or tcp://host:port; else /var/run/docker.sock,
 * else podman's rootful or rootless socket), an image's details (`GET /images/NAME/json`) and its
 * export (`GET /images/NAME/get`): the `docker save` tar, streamed, never kept whole.
 */
import fs from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { CopyError } from './transport.ts';

/** Where the engine listens: a unix socket or a TCP address. */
export type EngineAddress = { socketPath: string } | { host: string; port: number };

/** The engine's address from DOCKER_HOST, else the first socket of docker's or podman's that exists. */
export function engineAddress(env: NodeJS.ProcessEnv = process.env): EngineAddress {
  const host = env['DOCKER_HOST'];
  if (host !== undefined && host !== '') {
    if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
    const tcp = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(host);
    if (tcp?.[1] !== undefined) return { host: tcp[1], port: Number(tcp[2]) };
    throw new CopyError('BERTH_ENGINE_ADDRESS', `DOCKER_HOST=${host}: berth reads unix:///path and tcp://host:port`);
  }
  const runtime = env['XDG_RUNTIME_DIR'];
  const candidates = ['/var/run/docker.sock', '/run/podman/podman.sock', ...(runtime ? [path.join(runtime, 'podman', 'podman.sock'), path.join(runtime, 'docker.sock')] : [])];
  const found = candidates.find((p) => fs.existsSync(p));
  if (found === undefined) throw new CopyError('BERTH_ENGINE_ADDRESS', `no Docker or podman socket (${candidates.join(', ')}): start one, or set DOCKER_HOST`);
  return { socketPath: found };
}

function describe(address: EngineAddress): string {
  return 'socketPath' in address ? `unix://${address.socketPath}` : `tcp://${address.host}:${address.port}`;
}

export interface EngineImage {
  /** The image's id (its config's digest). */
  id: string;
  repoTags: string[];
  /** The image's size as the engine counts it. */
  size: number;
}

export class DockerEngine {
  constructor(readonly address: EngineAddress = engineAddress()) {}

  private request(pathAndQuery: string): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = http.get({ ...this.address, path: pathAndQuery, headers: { host: 'docker' } }, resolve);
      req.on('error', (err) => reject(new CopyError('BERTH_ENGINE_UNREACHABLE', `the engine at ${describe(this.address)} did not answer: ${err.message}`)));
    });
  }

  /** The image `name` names (name:tag, or an id); CopyError when the engine has none. */
  async inspect(name: string): Promise<EngineImage> {
    const res = await this.request(`/images/${encodeURIComponent(name)}/json`);
    const body = await buffer(res);
    if (res.statusCode === 404) throw new CopyError('BERTH_ENGINE_NO_IMAGE', `the engine at ${describe(this.address)} has no image ${name}`);
    if (res.statusCode !== 200) throw new CopyError('BERTH_ENGINE_FAILED', `the engine answered ${res.statusCode} for ${name}: ${body.toString('utf8').slice(0, 300)}`);
    const json = JSON.parse(body.toString('utf8')) as { Id?: string; RepoTags?: string[] | null; Size?: number };
    return { id: json.Id ?? '', repoTags: json.RepoTags ?? [], size: json.Size ?? 0 };
  }

  /** The `docker save` tar of `name`, as the engine streams it. */
  async export(name: string): Promise<IncomingMessage> {
    const res = await this.request(`/images/${encodeURIComponent(name)}/get`);
    if (res.statusCode !== 200) {
      const text = (await buffer(res)).toString('utf8').slice(0, 300);
      throw new CopyError(res.statusCode === 404 ? 'BERTH_ENGINE_NO_IMAGE' : 'BERTH_ENGINE_FAILED', `the engine answered ${res.statusCode} to exporting ${name}: ${text}`);
    }
    return res;
  }
}
