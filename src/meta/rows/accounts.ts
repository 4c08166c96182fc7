/**
 * The rows of the account tables (users, access_tokens, repository_settings, namespaces,
 * org_members) as both account stores read them (sqlite/account-store.ts, postgres/account-store.ts
 * and postgres/account-teams.ts), their columns and their mapping to the records of auth/store.ts.
 * Flags are 0/1 on SQLite and booleans on PostgreSQL (flag.ts).
 */
import type { NewToken, OrgMember, OrgRecord, RepositorySettings, TokenKind, TokenRecord, UserRecord, Visibility } from '../../auth/store.ts';
import { flag, type Flag } from './flag.ts';

export interface UserRow {
  name: string;
  password_hash: string | null;
  admin: Flag;
  created_at: number;
}
export interface TokenRow {
  id: string;
  user_name: string;
  kind: TokenKind;
  name: string;
  scopes: string | null;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}
export interface SettingsRow {
  name: string;
  namespace: string;
  visibility: Visibility;
  created_at: number;
  updated_at: number;
}
/** An organisation's row in namespaces (ORG_COLUMNS). */
export interface OrgRow {
  name: string;
  created_at: number;
}
export interface MemberRow {
  user_name: string;
  owner: Flag;
}

export const USER_COLUMNS = 'name, password_hash, admin, created_at';
export const TOKEN_COLUMNS = 'id, user_name, kind, name, scopes, created_at, expires_at, last_used_at';
export const SETTINGS_COLUMNS = 'name, namespace, visibility, created_at, updated_at';
export const ORG_COLUMNS = 'name, created_at';

export const toUser = (r: UserRow): UserRecord => ({ name: r.name, passwordHash: r.password_hash, admin: flag(r.admin), createdAt: r.created_at });
export const toToken = (r: TokenRow): TokenRecord => ({
  id: r.id,
  user: r.user_name,
  kind: r.kind,
  name: r.name,
  scopes: r.scopes === null ? null : (JSON.parse(r.scopes) as string[]),
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  lastUsedAt: r.last_used_at,
});
export const toSettings = (r: SettingsRow): RepositorySettings => ({
  name: r.name,
  namespace: r.namespace,
  visibility: r.visibility,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
export const toOrg = (r: OrgRow): OrgRecord => ({ name: r.name, createdAt: r.created_at });
export const toMember = (r: MemberRow): OrgMember => ({ user: r.user_name, owner: flag(r.owner) });

/** The record of a token just created (never used yet). */
export const newTokenRecord = (token: NewToken, now: number): TokenRecord => ({
  id: token.id,
  user: token.user,
  kind: token.kind,
  name: token.name,
  scopes: token.scopes,
  createdAt: now,
  expiresAt: token.expiresAt,
  lastUsedAt: null,
});
