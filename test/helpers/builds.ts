/**
 * What the automated-build tests share: the builds API's paths and answers, a build followed to
 * its end over its live log, and a root filesystem with a shell for RUN steps (files of this
 * machine: no internet).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';

export const API = (repo: string): string => `/api/v1/repositories/${repo}`;

export interface BuildView {
  id: number;
  status: string;
  ref: string;
  tag: string;
  commit: string | null;
  digest: string | null;
  error: string | null;
  started: string | null;
  finished: string | null;
}

/** A request to berth's API, with a JSON body when one is given. */
export async function api(reg: { url: string }, method: string, url: string, body?: unknown): Promise<Response> {
  return fetch(reg.url + url, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? null : JSON.stringify(body) });
}

/** The build's live log (server-sent events) read to its end: the stream ends when the build does. */
export async function finished(reg: { url: string }, repo: string, id: number): Promise<{ build: BuildView; log: string }> {
  const res = await fetch(`${reg.url}${API(repo)}/_builds/${id}/log`, { headers: { accept: 'text/event-stream' } });
  assert.equal(res.status, 200);
  const text = await res.text();
  let log = '';
  let build: BuildView | undefined;
  for (const block of text.split('\n\n')) {
    const event = /^event: (\w+)/m.exec(block)?.[1];
    const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
    if (event === 'log') log += data;
    if (event === 'status') build = JSON.parse(data) as BuildView;
  }
  assert.ok(build, `no status event in ${text.slice(-500)}`);
  return { build, log };
}

/** A root filesystem with a shell, cat, sleep and setsid from this machine, under `rootfs/`: enough for RUN steps. */
export async function baseRootfs(): Promise<Record<string, Buffer>> {
  const files: Record<string, Buffer> = {};
  for (const [from, to] of [
    ['/bin/dash', 'rootfs/bin/sh'],
    ['/bin/cat', 'rootfs/bin/cat'],
    ['/bin/sleep', 'rootfs/bin/sleep'],
    ['/usr/bin/setsid', 'rootfs/bin/setsid'],
    ['/lib/x86_64-linux-gnu/libc.so.6', 'rootfs/lib/x86_64-linux-gnu/libc.so.6'],
    ['/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', 'rootfs/lib64/ld-linux-x86-64.so.2'],
  ] as const) {
    files[to] = await fs.readFile(from);
  }
  return files;
}
