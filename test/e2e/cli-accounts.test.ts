/**
 * The account commands (`berth user|org|team|repo|token|auth`) as real child processes, against
 * the root directory of a `berth serve` that is running: the first user switches its access
 * control on, and what the CLI changes (passwords, tokens, visibility, keys) the server sees.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { REPO_ROOT, requireTools, run, startBerth, type BerthProcess, type RunResult } from '../helpers/process.ts';
import { AuthClient, basicHeader, type Credentials } from '../helpers/auth-client.ts';
import { expectAccessControl } from '../helpers/auth.ts';
import { paths } from '../../src/http/routes.ts';

const admin: Credentials = { user: 'admin', password: 'admin-password' };
const alice: Credentials = { user: 'alice', password: 'alice-password' };

describe('berth user|org|team|repo|token|auth beside a running server', () => {
  let server: BerthProcess;
  const berth = (args: string[], input?: string): Promise<RunResult> =>
    run(process.execPath, ['bin/berth.js', ...args], {
      env: { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: server.root, REGISTRY_CONFIGURATION_PATH: undefined, REGISTRY_LOG_LEVEL: 'warn', BERTH_FROM_SOURCE: '1' },
      input: input ?? '',
    });
  const ok = async (args: string[], input?: string): Promise<RunResult> => {
    const res = await berth(args, input);
    assert.equal(res.code, 0, `berth ${args.join(' ')}\n${res.stdout}${res.stderr}`);
    return res;
  };
  /** The status of GET /auth/token with Basic credentials. */
  const login = async (who: Credentials): Promise<number> => {
    const res = await fetch(`${server.url}${paths.token()}?service=berth`, { headers: { authorization: basicHeader(who) } });
    await res.arrayBuffer();
    return res.status;
  };
  const apiGet = async (path: string, who: Credentials): Promise<unknown> => {
    const res = await fetch(server.url + path, { headers: { authorization: basicHeader(who) } });
    assert.equal(res.status, 200, path);
    return res.json();
  };

  before(async () => {
    server = await startBerth();
  });
  after(() => server?.stop());

  it('creates the first administrator while the server runs, who can then log in', async () => {
    assert.equal((await fetch(`${server.url}/v2/`)).status, 200, 'open before the first user');
    const res = await ok(['user', 'add', 'admin', '--admin', '--password-stdin'], `${admin.password}\n`);
    assert.equal(res.stdout, 'created user admin (administrator)\n');
    await expectAccessControl(server);
    assert.equal(await login(admin), 200);
    assert.equal(await login({ user: 'admin', password: 'wrong-password' }), 401);
  });

  it('adds (reading a password piped without --password-stdin, with its confirmation), lists, changes and deletes users', async () => {
    await ok(['user', 'add', 'alice'], 'first-password\nfirst-password\n');
    assert.equal(await login({ user: 'alice', password: 'first-password' }), 200);
    await ok(['user', 'passwd', 'alice', '--password-stdin'], `${alice.password}\n`);
    assert.equal(await login({ user: 'alice', password: 'first-password' }), 401);
    assert.equal(await login(alice), 200);

    const table = (await ok(['user', 'list'])).stdout;
    assert.match(table, /^NAME\s+ADMIN\s+CREATED\nadmin\s+yes\s+\S+\nalice\s+no\s+\S+\n$/);
    await ok(['user', 'admin', 'alice', 'true']);
    const listed = JSON.parse((await ok(['user', 'list', '--json'])).stdout) as { name: string; admin: boolean }[];
    assert.deepEqual(
      listed.map((u) => [u.name, u.admin]),
      [
        ['admin', true],
        ['alice', true],
      ],
    );
    await ok(['user', 'admin', 'alice', 'false']);

    await ok(['user', 'add', 'temp', '--password-stdin'], 'temp-password\n');
    assert.equal((await ok(['user', 'del', 'temp'])).stdout, 'deleted user temp\n');
    assert.equal(await login({ user: 'temp', password: 'temp-password' }), 401);
  });

  const tty = requireTools('script');
  it('asks for the password twice, unechoed, on a terminal', { skip: tty.skip }, async () => {
    tty.check();
    /** `berth user add NAME` under script(1)'s pseudo-terminal, typing each answer when its prompt shows. */
    const typed = (name: string, answers: string[]) =>
      new Promise<{ code: number | null; output: string }>((resolve, reject) => {
        const command = `'${process.execPath}' bin/berth.js user add ${name}`;
        const child = spawn('script', ['-qec', command, '/dev/null'], {
          cwd: REPO_ROOT,
          env: { ...process.env, REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: server.root, REGISTRY_CONFIGURATION_PATH: '', BERTH_FROM_SOURCE: '1' },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let output = '';
        let prompts = 0;
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const seen = output.split('Password').length - 1;
          while (prompts < seen) child.stdin.write(`${answers[prompts++] ?? ''}\r`);
        });
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, output });
        });
      });
    const made = await typed('dave', ['dave-password', 'dave-password']);
    assert.equal(made.code, 0, made.output);
    assert.match(made.output, /Password: \r?\nPassword \(again\): \r?\ncreated user dave/);
    assert.ok(!made.output.includes('dave-password'), 'the password is not echoed');
    assert.equal(await login({ user: 'dave', password: 'dave-password' }), 200);
    const mismatch = await typed('erin', ['erin-password', 'other-password']);
    assert.notEqual(mismatch.code, 0);
    assert.match(mismatch.output, /berth user: the passwords do not match/);
  });

  it('says what is wrong in one line: exit 1 when it failed, 2 with the usage for a mistake on the command line, 78 for a bad config', async () => {
    const failures: [string[], string, RegExp][] = [
      [['user', 'add', 'alice', '--password-stdin'], 'another-password\n', /^berth user: the name "alice" is taken\n$/],
      [['user', 'add', 'Bad Name', '--password-stdin'], 'long-enough\n', /^berth user: user name must be/],
      [['user', 'add', 'bob', '--password-stdin'], 'short\n', /^berth user: password must have at least 8 characters\n$/],
      [['user', 'add', 'bob'], 'bob-password\nother-password\n', /^berth user: the passwords do not match\n$/],
      [['user', 'del', 'nobody'], '', /^berth user: no user nobody\n$/],
      [['org', 'show', 'nothing'], '', /^berth org: no organisation nothing\n$/],
      [['team', 'grant', 'nothing', 'devs', '*', 'read'], '', /^berth team: no organisation nothing\n$/],
      [['token', 'create', '--user', 'alice', '--scope', 'repository:../x:pull'], '', /^berth token: invalid repository name/],
      [['token', 'revoke', '--user', 'alice', 'nope'], '', /^berth token: no token nope of alice\n$/],
    ];
    const usageErrors: [string[], string, RegExp][] = [
      [['user', 'add', 'bob', '--password-stdin'], '', /^berth user: no password on standard input\n/],
      [['user', 'admin', 'alice', 'maybe'], '', /^berth user: expected true or false, got "maybe"\n/],
      [['user'], '', /^berth user: missing subcommand \(add, list, passwd, del, admin\)\n/],
      [['user', 'frob'], '', /^berth user: unknown subcommand "frob"/],
      [['user', 'add'], '', /^berth user: missing NAME\n/],
      [['user', 'list', '--bogus'], '', /^berth user: unknown option --bogus\n/],
      [['org', 'add', 'acme'], '', /^berth org: an organisation needs an owner: --owner USER\n/],
      [['org', 'member', 'promote', 'acme', 'alice'], '', /^berth org: unknown subcommand "promote" of member \(add, del\)\n/],
      [['team', 'grant', 'acme', 'devs', '*', 'owner'], '', /^berth team: role must be read, write, admin or none/],
      [['repo', 'visibility', 'alice/app', 'open'], '', /^berth repo: visibility must be public or private/],
      [['token', 'create'], '', /^berth token: --user USER is required\n/],
      [['token', 'create', '--user', 'alice', '--expires', 'soon'], '', /^berth token: invalid expiry "soon"/],
      [['auth', 'rotate-key', '--prune', '0'], '', /^berth auth: --prune must be a whole number/],
    ];
    const results = await Promise.all([...failures, ...usageErrors].map(([args, input]) => berth(args, input)));
    const usages = new Map<string, string>();
    for (const [i, [args, , stderr]] of [...failures, ...usageErrors].entries()) {
      const res = results[i];
      assert.ok(res !== undefined);
      const what = `berth ${args.join(' ')}: ${res.stderr}`;
      assert.match(res.stderr, stderr, what);
      assert.equal(res.stdout, '', what);
      if (i < failures.length) {
        assert.equal(res.code, 1, what);
        assert.equal(res.stderr.split('\n').length, 2, `one line: ${what}`);
        continue;
      }
      assert.equal(res.code, 2, what);
      const [command = ''] = args;
      if (!usages.has(command)) usages.set(command, (await ok([command, '--help'])).stdout);
      assert.equal(res.stderr.slice(res.stderr.indexOf('\n') + 1), usages.get(command), `one line, then the usage: ${what}`);
    }
    const config = await berth(['user', 'list', '--config', '/nonexistent/berth.yml']);
    assert.equal(config.code, 78, config.stderr);
    assert.match(config.stderr, /^berth: invalid configuration in \/nonexistent\/berth\.yml \(1 problem\):\n {2}\S.*cannot read config file/);
  });

  it('manages organisations, members, teams and their roles', async () => {
    assert.equal((await ok(['org', 'add', 'acme', '--owner', 'alice'])).stdout, 'created organisation acme, owned by alice\n');
    await ok(['user', 'add', 'carol', '--password-stdin'], 'carol-password\n');
    await ok(['org', 'member', 'add', 'acme', 'admin', '--owner']);
    await ok(['org', 'member', 'add', 'acme', 'carol']);
    await ok(['team', 'add', 'acme', 'devs']);
    await ok(['team', 'add', 'acme', 'temp']);
    await ok(['team', 'del', 'acme', 'temp']);
    await ok(['team', 'member', 'add', 'acme', 'devs', 'carol']);
    assert.equal((await ok(['team', 'grant', 'acme', 'devs', 'app', 'write'])).stdout, 'team acme/devs has write on acme/app\n');
    await ok(['team', 'grant', 'acme', 'devs', '*', 'read']);
    await ok(['team', 'grant', 'acme', 'devs', 'acme/old', 'admin']);
    await ok(['team', 'grant', 'acme', 'devs', 'acme/old', 'none']);

    const shown = (await ok(['org', 'show', 'acme'])).stdout;
    assert.match(shown, /^organisation acme, created \S+\n\nMEMBER\s+OWNER\nadmin\s+yes\nalice\s+yes\ncarol\s+no\n\nTEAM\s+MEMBERS\s+ROLES\ndevs\s+carol\s+\*:read,acme\/app:write\n$/);
    const org = JSON.parse((await ok(['org', 'show', 'acme', '--json'])).stdout) as { teams: unknown };
    assert.deepEqual(org.teams, [
      {
        name: 'devs',
        members: ['carol'],
        permissions: [
          { repository: '', role: 'read' },
          { repository: 'acme/app', role: 'write' },
        ],
      },
    ]);
    // The server sees the same organisation.
    assert.deepEqual(((await apiGet(paths.apiOrg('acme'), admin)) as { teams: unknown }).teams, org.teams);
    assert.match((await ok(['org', 'list'])).stdout, /^NAME\s+CREATED\nacme\s+\S+\n$/);

    await ok(['team', 'member', 'del', 'acme', 'devs', 'carol']);
    await ok(['org', 'member', 'del', 'acme', 'carol']);
    assert.deepEqual(((await apiGet(paths.apiOrg('acme'), admin)) as { members: { user: string }[] }).members.map((m) => m.user), ['admin', 'alice']);
    await ok(['org', 'del', 'acme']);
    assert.equal((await berth(['org', 'show', 'acme'])).code, 1);
  });

  it("changes a repository's visibility for the running server", async () => {
    await new AuthClient(server.url, alice, 'basic').pushImage('alice/app', '1.0');
    const anonymous = () => fetch(`${server.url}${paths.manifest('alice/app', '1.0')}`, { method: 'HEAD' }).then((r) => r.status);
    assert.equal(await anonymous(), 401);
    // dates as every view gives them: created by the first push (no settings were ever written)
    const api = (await apiGet(paths.apiRepository('alice/app'), admin)) as { createdAt: string; updatedAt: string };
    const dates = JSON.parse((await ok(['repo', 'show', 'alice/app', '--json'])).stdout) as { createdAt: string; updatedAt: string };
    const seconds = (iso: string): string => iso.replace(/\.\d{3}Z$/, 'Z');
    assert.deepEqual([dates.createdAt, dates.updatedAt], [seconds(api.createdAt), seconds(api.updatedAt)]);
    assert.equal((await ok(['repo', 'visibility', 'alice/app', 'public'])).stdout, 'alice/app is public\n');
    assert.equal(await anonymous(), 200);
    const shown = JSON.parse((await ok(['repo', 'show', 'alice/app', '--json'])).stdout) as { visibility: string; namespace: string };
    assert.deepEqual([shown.visibility, shown.namespace], ['public', 'alice']);
    await ok(['repo', 'visibility', 'alice/app', 'private']);
    assert.equal(await anonymous(), 401);
    assert.match((await berth(['repo', 'show', 'alice/none'])).stderr, /^berth repo: no repository alice\/none\n$/);
  });

  it('creates tokens (the secret alone on stdout), lists and revokes them', async () => {
    const created = await ok(['token', 'create', '--user', 'alice', '--name', 'ci', '--scope', 'repository:alice/app:pull,push', '--expires', '30d']);
    assert.match(created.stdout, /^berth_pat_[\w-]+\n$/);
    assert.match(created.stderr, /^created token [0-9a-f]+ "ci" of alice: scopes repository:alice\/app:pull,push; expires \S+\n$/);
    const secret = created.stdout.trim();
    const robot = { user: 'alice', password: secret };
    assert.equal(await login(robot), 200);
    assert.equal(await new AuthClient(server.url, robot, 'basic').fetch(paths.manifest('alice/app', '1.0'), { method: 'HEAD' }).then((r) => r.status), 200);

    const tokens = JSON.parse((await ok(['token', 'list', '--user', 'alice', '--json'])).stdout) as { id: string; name: string; scopes: string[]; expiresAt: string }[];
    const ci = tokens.find((t) => t.name === 'ci');
    assert.ok(ci !== undefined);
    assert.deepEqual(ci.scopes, ['repository:alice/app:pull,push']);
    assert.ok(Math.abs(Date.parse(ci.expiresAt) - Date.now() - 30 * 86_400_000) < 120_000);
    assert.ok(!JSON.stringify(tokens).includes(secret));
    assert.match((await ok(['token', 'list', '--user', 'alice'])).stdout, new RegExp(`^ID\\s+NAME\\s+KIND\\s+SCOPES\\s+CREATED\\s+EXPIRES\\s+LAST USED\\n${ci.id}\\s+ci\\s+pat\\s`));

    assert.equal((await ok(['token', 'revoke', '--user', 'alice', ci.id])).stdout, `revoked token ${ci.id} of alice\n`);
    assert.equal(await login(robot), 401);
    const dated = await ok(['token', 'create', '--user', 'alice', '--expires', '2099-01-31']);
    assert.match(dated.stderr, /expires 2099-01-31T00:00:00Z\n$/);
  });

  it('rotates the signing key, which the running server then signs with', async () => {
    const before = JSON.parse((await ok(['auth', 'keys', '--json'])).stdout) as { kid: string; signing: boolean }[];
    assert.equal(before[0]?.signing, true);
    const rotated = await ok(['auth', 'rotate-key']);
    const kid = /^new signing key (\S+)\n$/.exec(rotated.stdout)?.[1];
    assert.ok(kid !== undefined, rotated.stdout);
    assert.match((await ok(['auth', 'keys'])).stdout, new RegExp(`^KID\\s+CREATED\\n${kid}\\s+\\S+\\s+signing\\n`));

    const kidOfNewToken = async () => {
      const res = await fetch(`${server.url}${paths.token()}?service=berth`, { headers: { authorization: basicHeader(admin) } });
      const { token } = (await res.json()) as { token: string };
      return (JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as { kid: string }).kid;
    };
    for (let i = 0; (await kidOfNewToken()) !== kid; i++) {
      assert.ok(i < 30, 'the server did not pick up the new key');
      await new Promise((r) => setTimeout(r, 200));
    }
    const pruned = await ok(['auth', 'rotate-key', '--prune', '1']);
    assert.equal(pruned.stdout.split('\n').filter((l) => l.startsWith('removed key ')).length, before.length + 1);
    assert.equal((JSON.parse((await ok(['auth', 'keys', '--json'])).stdout) as unknown[]).length, 1);
  });
});
