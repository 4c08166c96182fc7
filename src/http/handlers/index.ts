/** Which handler answers which route and method: the explicit map the server dispatches on. */
import { addRule, buildBadge, buildHook, buildLog, cancelBuild, deleteRule, getBuild, listBuilds, listRules, triggerBuild, updateRule } from './api-builds.ts';
import type { Handler } from '../context.ts';
import type { Method, RouteName } from '../routes.ts';
import { getBase } from './base.ts';
import { deleteBlob, getBlob, headBlob } from './blobs.ts';
import { getCatalog, getReferrers, getTags } from './listings.ts';
import { getEvents } from './events.ts';
import { getMirror } from './mirror.ts';
import { getJwks, getToken, postToken } from './token.ts';
import { deleteManifest, getManifest, headManifest, putManifest } from './manifests.ts';
import { deleteUpload, getUpload, patchUpload, putUpload, startUpload } from './uploads.ts';
import { createToken, createUser, deleteUser, getMe, getUser, listTokens, listUsers, patchUser, revokeToken } from './api-users.ts';
import {
  createOrg,
  createTeam,
  deleteOrg,
  deleteOrgMember,
  deleteTeam,
  deleteTeamMember,
  getOrg,
  listOrgs,
  putOrgMember,
  putTeamMember,
  putTeamPermission,
} from './api-orgs.ts';
import { getRepository, patchRepository } from './api-repositories.ts';
import { deleteRepository, deleteTag, getManifestDetail, listTagDetails } from './api-content.ts';
import { getStorage } from './api-admin.ts';
import { deleteImmutableRule, listImmutableRules, putImmutableRule } from './api-immutable.ts';
import { deleteQuota, getQuota, listQuotas, putQuota } from './api-quotas.ts';
import { getGc, postGc } from './api-gc.ts';
import { createReplicationRule, deleteReplicationRule, getReplicationRule, listReplication, listReplicationRuns, replaceReplicationRule, triggerReplication } from './api-replication.ts';
import { deleteSession, getSession, postSession } from './api-session.ts';
import { getApiSearch, getV1Ping, getV1Search } from './search.ts';
import { deleteStar, putStar } from './api-stars.ts';
import { deleteRetentionPolicy, getRepositoryRetention, getRetentionPreview, listRetentionPolicies, putRetentionPolicy } from './api-retention.ts';

export const HANDLERS: Record<RouteName, Partial<Record<Method, Handler>>> = {
  base: { GET: getBase, HEAD: getBase },
  catalog: { GET: getCatalog },
  tags: { GET: getTags },
  manifest: { GET: getManifest, HEAD: headManifest, PUT: putManifest, DELETE: deleteManifest },
  'upload-start': { POST: startUpload },
  upload: { GET: getUpload, PATCH: patchUpload, PUT: putUpload, DELETE: deleteUpload },
  blob: { GET: getBlob, HEAD: headBlob, DELETE: deleteBlob },
  referrers: { GET: getReferrers },
  events: { GET: getEvents },
  mirror: { GET: getMirror },
  token: { GET: getToken, POST: postToken },
  jwks: { GET: getJwks },
  'api-me': { GET: getMe },
  'api-users': { GET: listUsers, POST: createUser },
  'api-user': { GET: getUser, PATCH: patchUser, DELETE: deleteUser },
  'api-tokens': { GET: listTokens, POST: createToken },
  'api-token': { DELETE: revokeToken },
  'api-orgs': { GET: listOrgs, POST: createOrg },
  'api-org': { GET: getOrg, DELETE: deleteOrg },
  'api-org-member': { PUT: putOrgMember, DELETE: deleteOrgMember },
  'api-teams': { POST: createTeam },
  'api-team': { DELETE: deleteTeam },
  'api-team-member': { PUT: putTeamMember, DELETE: deleteTeamMember },
  'api-team-permissions': { PUT: putTeamPermission },
  'api-repository': { GET: getRepository, PATCH: patchRepository, DELETE: deleteRepository },
  'api-repository-tags': { GET: listTagDetails },
  'api-repository-tag': { DELETE: deleteTag },
  'api-repository-manifest': { GET: getManifestDetail },
  'api-repository-retention': { GET: getRepositoryRetention },
  'api-repository-builds': { GET: listBuilds, POST: triggerBuild },
  'api-repository-build': { GET: getBuild, DELETE: cancelBuild },
  'api-repository-build-log': { GET: buildLog },
  'api-repository-build-rules': { GET: listRules, POST: addRule },
  'api-repository-build-rule': { PUT: updateRule, DELETE: deleteRule },
  'api-build-hook': { POST: buildHook },
  'api-build-badge': { GET: buildBadge },
  'api-retention-policies': { GET: listRetentionPolicies, PUT: putRetentionPolicy, DELETE: deleteRetentionPolicy },
  'api-retention-preview': { GET: getRetentionPreview },
  'api-session': { GET: getSession, POST: postSession, DELETE: deleteSession },
  'api-admin-storage': { GET: getStorage },
  'api-admin-immutable': { GET: listImmutableRules, PUT: putImmutableRule, DELETE: deleteImmutableRule },
  'api-admin-quotas': { GET: listQuotas },
  'api-namespace-quota': { GET: getQuota, PUT: putQuota, DELETE: deleteQuota },
  'api-admin-gc': { GET: getGc, POST: postGc },
  'api-replication': { GET: listReplication, POST: createReplicationRule },
  'api-replication-rule': { GET: getReplicationRule, PUT: replaceReplicationRule, DELETE: deleteReplicationRule },
  'api-replication-trigger': { POST: triggerReplication },
  'api-replication-runs': { GET: listReplicationRuns },
  'v1-ping': { GET: getV1Ping, HEAD: getV1Ping },
  'v1-search': { GET: getV1Search },
  'api-search': { GET: getApiSearch },
  'api-repository-star': { PUT: putStar, DELETE: deleteStar },
};
