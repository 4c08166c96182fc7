/** Sessions, users, access tokens and organisations. */
import { api } from './client.ts';
import type { CreatedToken, Org, OrgSummary, Role, Session, SessionUser, Token, User } from './types.ts';

export function getSession(): Promise<Session> {
  return api<Session>('/session');
}

export function signIn(username: string, password: string): Promise<{ user: SessionUser; csrfToken: string }> {
  return api('/session', { method: 'POST', body: { username, password } });
}

export function signOut(): Promise<void> {
  return api<void>('/session', { method: 'DELETE' });
}

const user = (name: string) => `/users/${encodeURIComponent(name)}`;

export async function listUsers(signal?: AbortSignal): Promise<User[]> {
  return (await api<{ users: User[] }>('/users', { ...(signal && { signal }) })).users;
}

export function createUser(name: string, password: string, admin: boolean): Promise<User> {
  return api<User>('/users', { method: 'POST', body: { name, password, admin } });
}

export function deleteUser(name: string): Promise<void> {
  return api<void>(user(name), { method: 'DELETE' });
}

export function setAdmin(name: string, admin: boolean): Promise<User> {
  return api<User>(user(name), { method: 'PATCH', body: { admin } });
}

export function changePassword(name: string, password: string, currentPassword: string): Promise<User> {
  return api<User>(user(name), { method: 'PATCH', body: { password, currentPassword } });
}

export async function listTokens(name: string, signal?: AbortSignal): Promise<Token[]> {
  const body = await api<{ tokens: Token[] } | Token[]>(`${user(name)}/tokens`, { ...(signal && { signal }) });
  return Array.isArray(body) ? body : body.tokens;
}

export interface NewToken {
  name: string;
  scopes: string[] | null;
  expiresIn?: string;
  /** The signed-in user's password: a token outlives the session, so the server asks for it again. */
  currentPassword?: string;
}

export function createToken(name: string, token: NewToken): Promise<CreatedToken> {
  return api<CreatedToken>(`${user(name)}/tokens`, { method: 'POST', body: token });
}

export function revokeToken(name: string, id: string): Promise<void> {
  return api<void>(`${user(name)}/tokens/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

const org = (name: string) => `/orgs/${encodeURIComponent(name)}`;

export async function listOrgs(signal?: AbortSignal): Promise<OrgSummary[]> {
  return (await api<{ orgs: OrgSummary[] }>('/orgs', { ...(signal && { signal }) })).orgs;
}

export function createOrg(name: string): Promise<Org> {
  return api<Org>('/orgs', { method: 'POST', body: { name } });
}

export function getOrg(name: string, signal?: AbortSignal): Promise<Org> {
  return api<Org>(org(name), { ...(signal && { signal }) });
}

export function deleteOrg(name: string): Promise<void> {
  return api<void>(org(name), { method: 'DELETE' });
}

export function setOrgMember(name: string, member: string, owner: boolean): Promise<void> {
  return api<void>(`${org(name)}/members/${encodeURIComponent(member)}`, { method: 'PUT', body: { owner } });
}

export function removeOrgMember(name: string, member: string): Promise<void> {
  return api<void>(`${org(name)}/members/${encodeURIComponent(member)}`, { method: 'DELETE' });
}

const team = (orgName: string, teamName: string) => `${org(orgName)}/teams/${encodeURIComponent(teamName)}`;

export function createTeam(orgName: string, teamName: string): Promise<void> {
  return api<void>(`${org(orgName)}/teams`, { method: 'POST', body: { name: teamName } });
}

export function deleteTeam(orgName: string, teamName: string): Promise<void> {
  return api<void>(team(orgName, teamName), { method: 'DELETE' });
}

export function addTeamMember(orgName: string, teamName: string, member: string): Promise<void> {
  return api<void>(`${team(orgName, teamName)}/members/${encodeURIComponent(member)}`, { method: 'PUT' });
}

export function removeTeamMember(orgName: string, teamName: string, member: string): Promise<void> {
  return api<void>(`${team(orgName, teamName)}/members/${encodeURIComponent(member)}`, { method: 'DELETE' });
}

/** role null revokes; repository '' means every repository of the organisation. */
export function setTeamPermission(orgName: string, teamName: string, repository: string, role: Role | null): Promise<void> {
  return api<void>(`${team(orgName, teamName)}/permissions`, { method: 'PUT', body: { repository, role } });
}

