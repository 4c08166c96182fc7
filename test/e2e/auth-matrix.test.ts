/**
 * The authorisation matrix of issue 3, every cell asserted over real HTTP:
 * (anonymous, owner, other user, team reader, team writer, robot token, admin)
 * x (public repository, private repository, organisation repository) x (pull, push, delete, catalog),
 * once through Docker's token flow and once with Basic credentials on every request.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestRegistry, type TestRegistry } from '../helpers/inproc.ts';
import { AuthClient, type Credentials } from '../helpers/auth-client.ts';
import { SYSTEM } from '../../src/auth/principal.ts';

const REPOS = { pub: 'alice/pub', priv: 'alice/priv', org: 'acme/app' } as const;
type RepoKey = keyof typeof REPOS;
const ACTIONS = ['pull', 'push', 'delete', 'catalog'] as const;
type Action = (typeof ACTIONS)[number];

/** Y/N for pull, push, delete, catalog. */
const EXPECTED: Record<string, Record<RepoKey, string>> = {
  anonymous: { pub: 'YNNY', priv: 'NNNN', org: 'NNNN' },
  owner: { pub: 'YYYY', priv: 'YYYY', org: 'YYYY' },
  other: { pub: 'YNNY', priv: 'NNNN', org: 'NNNN' },
  reader: { pub: 'YNNY', priv: 'NNNN', org: 'YNNY' },
  writer: { pub: 'YNNY', priv: 'NNNN', org: 'YYNY' },
  robot: { pub: 'YNNY', priv: 'YYNY', org: 'YNNY' },
  admin: { pub: 'YYYY', priv: 'YYYY', org: 'YYYY' },
};

const PASSWORD = 'correct horse battery';

describe('authorisation matrix', () => {
  let reg: TestRegistry;
  const creds: Record<string, Credentials | undefined> = { anonymous: undefined };

  before(async () => {
    reg = await startTestRegistry({ storage: 'inmemory' });
    const { accounts } = reg.running.access;
    await accounts.createUser(SYSTEM, 'boss', PASSWORD, true);
    for (const u of ['alice', 'bob', 'rita', 'wes']) await accounts.createUser(SYSTEM, u, PASSWORD);
    Object.assign(creds, {
      admin: { user: 'boss', password: PASSWORD },
      owner: { user: 'alice', password: PASSWORD },
      other: { user: 'bob', password: PASSWORD },
      reader: { user: 'rita', password: PASSWORD },
      writer: { user: 'wes', password: PASSWORD },
    });
    await accounts.createOrg(SYSTEM, 'acme', 'alice');
    await accounts.createTeam(SYSTEM, 'acme', 'readers');
    await accounts.addTeamMember(SYSTEM, 'acme', 'readers', 'rita');
    await accounts.setTeamPermission(SYSTEM, 'acme', 'readers', '', 'read');
    await accounts.createTeam(SYSTEM, 'acme', 'writers');
    await accounts.addTeamMember(SYSTEM, 'acme', 'writers', 'wes');
    await accounts.setTeamPermission(SYSTEM, 'acme', 'writers', 'acme/app', 'write');
    const robot = await accounts.createToken(SYSTEM, 'alice', 'robot', ['repository:alice/priv:pull,push', 'repository:acme/app:pull'], null);
    creds['robot'] = { user: 'alice', password: robot.secret };

    // Access control is on from the next request after the first user.
    const admin = new AuthClient(reg.url, creds['admin']);
    for (const repo of Object.values(REPOS)) await admin.pushImage(repo, 'latest');
    await accounts.setVisibility(SYSTEM, REPOS.pub, 'public');
  });
  after(() => reg.stop());

  for (const mode of ['token', 'basic'] as const) {
    for (const [who, row] of Object.entries(EXPECTED)) {
      for (const repoKey of Object.keys(REPOS) as RepoKey[]) {
        const repo = REPOS[repoKey];
        ACTIONS.forEach((action, i) => {
          const allowed = row[repoKey][i] === 'Y';
          it(`${mode}: ${who} ${allowed ? 'may' : 'may not'} ${action} ${repoKey} (${repo})`, async () => {
            const client = new AuthClient(reg.url, creds[who], mode);
            const denied = mode === 'basic' && who !== 'anonymous' ? 403 : 401;
            await checkCell(client, repo, action, allowed, denied, `${who}-${mode}`);
          });
        });
      }
    }
  }

  async function checkCell(client: AuthClient, repo: string, action: Action, allowed: boolean, denied: number, tag: string): Promise<void> {
    switch (action) {
      case 'pull': {
        const res = await client.fetch(`/v2/${repo}/manifests/latest`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
        await res.arrayBuffer();
        assert.equal(res.status, allowed ? 200 : denied);
        return;
      }
      case 'push': {
        const body = `pushed by ${tag} into ${repo}`;
        const res = await client.fetch(`/v2/${repo}/blobs/uploads/?digest=${sha(body)}`, { method: 'POST', body });
        const text = await res.text();
        assert.equal(res.status, allowed ? 201 : denied, text);
        if (!allowed) assert.match(text, /"code":"(UNAUTHORIZED|DENIED)"/);
        return;
      }
      case 'delete': {
        // A blob of its own for each cell, pushed by the admin, so a delete never disturbs another cell.
        const victim = await new AuthClient(reg.url, creds['admin']).pushBlob(repo, `victim of ${tag}`);
        const res = await client.fetch(`/v2/${repo}/blobs/${victim.digest}`, { method: 'DELETE' });
        await res.arrayBuffer();
        assert.equal(res.status, allowed ? 202 : denied);
        return;
      }
      case 'catalog': {
        // Anonymous callers get the public part without a token, Basic or not.
        const res = await client.catalog();
        assert.equal(res.status, 200);
        const { repositories } = (await res.json()) as { repositories: string[] };
        assert.equal(repositories.includes(repo), allowed, `catalog: ${repositories.join(', ')}`);
        return;
      }
    }
  }
});

function sha(body: string): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}
