/**
 * A throwaway PostgreSQL server for tests: Debian's `postgresql` binaries, `initdb` into a temp
 * directory and `postgres` on a free loopback port with its socket in that directory, as the
 * `postgres` user when this process is root (PostgreSQL refuses to run as root). Durability is
 * switched off (fsync, synchronous_commit, full_page_writes): the data dies with the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chown, readdir, readFile, rm } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, run, runOk, tempDir } from './process.ts';

export interface Postgres {
  /** postgres://berth@127.0.0.1:PORT/berth (trust authentication on loopback) */
  url: string;
  port: number;
  /** A new empty database on this server, and its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
  logs(): string;
}

/** The directory of Debian's PostgreSQL binaries (the newest major installed), or undefined. */
export async function postgresBin(): Promise<string | undefined> {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const majors = (await readdir(base)).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  return majors.map((v) => join(base, v, 'bin')).find((dir) => existsSync(join(dir, 'postgres')));
}

/** How to run a PostgreSQL binary: as `postgres` through runuser when we are root. */
function asOwner(bin: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

export async function startPostgres(): Promise<Postgres> {
  const bin = await postgresBin();
  if (bin === undefined) throw new Error('PostgreSQL is not installed (Debian package postgresql)');
  const dir = await tempDir('pg');
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) await chown(dir, ...(await postgresIds()));
  await runOk(...asOwner(join(bin, 'initdb'), ['-D', data, '-U', 'berth', '-A', 'trust', '-E', 'UTF8', '--locale', 'C.UTF-8', '--no-sync']));
  const port = await freePort();
  const settings = ['-c', 'listen_addresses=127.0.0.1', '-p', String(port), '-k', dir, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'];
  const [cmd, args] = asOwner(join(bin, 'postgres'), ['-D', data, ...settings]);
  const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // should this test process exit without stop(), take the server with it
  const onExit = (): void => {
    try {
      process.kill(Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]), 'SIGKILL');
    } catch {
      // not running
    }
  };
  process.on('exit', onExit);
  const stop = async (): Promise<void> => {
    process.off('exit', onExit);
    if (child.exitCode === null && child.signalCode === null) {
      // runuser passes no signal on: tell postgres itself (its pid heads postmaster.pid) to shut down fast
      const pid = Number((await readFile(join(data, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
      if (pid > 0) process.kill(pid, 'SIGINT');
      else child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const ready = async (): Promise<boolean> => (await run(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-d', 'postgres', '-U', 'berth'])).code === 0;
  const deadline = Date.now() + 30_000;
  while (!(await ready())) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`postgres did not start\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const createDatabase = async (name: string): Promise<string> => {
    await runOk(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'berth', name]);
    return `postgres://berth@127.0.0.1:${port}/${name}`;
  };
  const url = await createDatabase('berth');
  return { url, port, createDatabase, stop, logs: () => output };
}

async function postgresIds(): Promise<[number, number]> {
  const res = await runOk('id', ['-u', 'postgres']);
  const gid = await runOk('id', ['-g', 'postgres']);
  return [Number(res.stdout.trim()), Number(gid.stdout.trim())];
}
