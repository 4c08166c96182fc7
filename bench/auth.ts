// Section 7: the cost of token checks on the hot path (berth only). Run last: it switches berth's
// access control on (a user is created in its database), which later pushes would not pass.
import { join } from 'node:path';
import { errMsg, interleave, log, type Ctx } from './context.ts';
import { runLoad } from './http-load.ts';
import { loadPaths, makeSeed, MANIFEST_ACCEPT, APP_REPO } from './seed.ts';
import type { Server } from './servers.ts';
import { Section } from './table.ts';
import { openSqliteBackend } from '../src/meta/sqlite/backend.ts';
import { createAccessControl } from '../src/auth/setup.ts';
import { SYSTEM } from '../src/auth/principal.ts';
import { configSchema } from '../src/config/schema.ts';

const USER = 'bench';
const PASSWORD = 'bench-password-1';

async function bearerToken(base: URL): Promise<string> {
  const url = new URL(`/auth/token?service=berth&scope=repository:${APP_REPO}:pull`, base);
  const res = await fetch(url, { headers: { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` } });
  if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

export async function authSection(ctx: Ctx, berth: Server): Promise<Section> {
  const sec = new Section(
    '7. Token checks on the hot path (berth only)',
    [
      { key: 'anonymous', label: 'anonymous (public repo)' },
      { key: 'bearer', label: 'Bearer token' },
    ],
    { num: 'bearer', den: 'anonymous', label: 'bearer/anonymous' },
  );
  sec.notes.push(
    `After the other sections, a user is created in berth's database (access control switches on) and ${APP_REPO} is made public. ` +
      'Rows: GET manifest by tag without credentials vs with a valid bearer token from /auth/token (a fresh one per run), ' +
      `interleaved on the same process; wrk -t2, ${ctx.cfg.loadSeconds} s. Target: bearer within 20% of anonymous.`,
  );
  const backend = openSqliteBackend({ path: join(berth.root, 'berth.db') });
  try {
    const config = configSchema.parse({ storage: { filesystem: { rootdirectory: berth.root } } });
    const access = await createAccessControl({ config, store: backend.accounts, meta: backend.meta });
    if ((await access.store.getUser(USER)) === undefined) await access.accounts.createUser(SYSTEM, USER, PASSWORD);
    await access.accounts.setVisibility(SYSTEM, APP_REPO, 'public');
  } finally {
    await backend.close();
  }
  await new Promise((r) => setTimeout(r, 1500)); // berth notices the first user within a second
  const path = loadPaths(makeSeed(ctx.cfg.tags, ctx.cfg.repos)).manifest;
  const url = new URL(path, berth.base);
  const anonymous: Server = { ...berth, name: 'anonymous' as Server['name'] };
  const bearer: Server = { ...berth, name: 'bearer' as Server['name'] };
  const check = await fetch(new URL('/v2/', berth.base));
  if (check.status !== 401) {
    sec.notes.push(`**Access control did not switch on (/v2/ answered ${check.status}): rows not measured.**`);
    return sec;
  }
  for (const c of [64]) {
    const metric = (what: string) => `GET manifest by tag, c=${c}: ${what}`;
    for (const what of ['req/s', 'p50 (ms)', 'p99 (ms)']) sec.row(metric(what));
    await interleave(ctx, sec, metric('req/s'), [anonymous, bearer], async (t) => {
      const headers: Record<string, string> = { Accept: MANIFEST_ACCEPT };
      if (t.name === ('bearer' as Server['name'])) headers['Authorization'] = `Bearer ${await bearerToken(berth.base)}`;
      await runLoad({ url, method: 'GET', connections: c, seconds: ctx.cfg.warmupSeconds, headers }).catch(() => undefined);
      const r = await runLoad({ url, method: 'GET', connections: c, seconds: ctx.cfg.loadSeconds, headers });
      sec.add(metric('p50 (ms)'), t.name, r.p50ms);
      sec.add(metric('p99 (ms)'), t.name, r.p99ms);
      return { value: r.rps, errors: r.errors };
    }).catch((err: unknown) => log(ctx, `auth section: ${errMsg(err)}`));
  }
  return sec;
}
