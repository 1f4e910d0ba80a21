import type { Attributes } from '@opentelemetry/api';
import type { Key } from '@tessera/core';

import type { ServerContext } from '../context.js';
import type {
  AuditEvent,
  AuditFilter,
  BrowserSession,
  Client,
  Consent,
  RefreshFamily,
  Role,
  SigningKeyRecord,
  User,
} from '../store/types.js';
import { inSpan } from '../telemetry.js';
import { CLI_ACTOR, type Actor } from './actor.js';
import {
  createClient,
  deleteClient,
  findClient,
  listClients,
  rotateClientSecret,
  setClientDisabled,
  updateClient,
  type ClientInput,
  type ClientPatch,
} from './clients.js';
import { listConsents, revokeConsent } from './consents.js';
import { importSigningKey, listKeys, retireKey, rotateKeys } from './keys.js';
import { revokeEverything } from './revoke-all.js';
import { deleteRole, listRoles, putRole } from './roles.js';
import { listBrowserSessions, listSessions, revokeBrowserSession, revokeSession } from './sessions.js';
import { revokeToken, type TokenRevocation } from './tokens.js';
import {
  addUser,
  deleteUser,
  findUser,
  grantRole,
  listUsers,
  revokeRole,
  setPassword,
  setUserDisabled,
  setUserProfile,
  setUserRoles,
  type NewUserInput,
} from './users.js';
import type { ProfileInput } from './user-profile.js';
import type { Resource } from '../resources/resource.js';
import {
  addResource,
  addResourceKey,
  getResource,
  listResources,
  removeResource,
  removeResourceKey,
  replaceResource,
} from './resources.js';
import {
  addWorkloadIssuer,
  getWorkloadIssuer,
  listWorkloadIssuers,
  removeWorkloadIssuer,
  replaceWorkloadIssuer,
  type SourcedWorkloadIssuer,
} from './workload-issuers.js';

/**
 * Every administrative action of one server, each implemented once with its validation, its audit record
 * (with the server's clock) and the revocations it implies. The admin API, the `tessera` command and the
 * console call it; `by` names who acts, as the audit trail records it. Failures are AdminError subclasses
 * (AdminInputError, NotFoundError, ConflictError, UnknownRoleError) with stable codes.
 */
export interface AdminService {
  readonly users: {
    /** Creates a user; the roles must exist. */
    create(by: Actor, input: NewUserInput): Promise<User>;
    /** One user by id or by username (normalised as at login). */
    find(ref: { id: string } | { username: string }): Promise<User>;
    /** Up to `limit` users ordered by id, after the id `after`. */
    list(limit: number, after?: string): Promise<User[]>;
    /** Disabling ends every session of the user and revokes its access tokens. */
    setDisabled(by: Actor, id: string, disabled: boolean): Promise<{ user: User; revokedSessions: number }>;
    /** Sets a new password and ends the user's sessions. */
    setPassword(by: Actor, id: string, password: unknown): Promise<{ revokedSessions: number }>;
    /** Sets or clears OpenID Connect profile claims (null clears one); checked and audited. */
    setProfile(by: Actor, id: string, profile: ProfileInput): Promise<User>;
    setRoles(by: Actor, id: string, roles: readonly string[]): Promise<User>;
    grantRole(by: Actor, id: string, role: string): Promise<User>;
    revokeRole(by: Actor, id: string, role: string): Promise<User>;
    /** Deletes a user after revoking everything it holds. */
    delete(by: Actor, id: string): Promise<{ revokedSessions: number }>;
  };
  readonly roles: {
    list(): Promise<Role[]>;
    /** Creates a role; replaces an existing one's permissions only with `replace`. */
    put(by: Actor, name: string, permissions: readonly string[], options: { replace: boolean }): Promise<Role>;
    delete(by: Actor, name: string): Promise<void>;
  };
  readonly clients: {
    /** Registers a client; `secret` is the generated secret, shown this once (none for private_key_jwt). */
    create(by: Actor, input: ClientInput): Promise<{ client: Client; secret?: string }>;
    find(id: string): Promise<Client>;
    list(): Promise<Client[]>;
    update(by: Actor, id: string, patch: ClientPatch): Promise<Client>;
    /** Disabling revokes everything issued to the client. */
    setDisabled(by: Actor, id: string, disabled: boolean): Promise<Client>;
    /** A new secret; the previous ones keep working for `overlapSeconds`. */
    rotateSecret(
      by: Actor,
      id: string,
      overlapSeconds?: number,
    ): Promise<{ client: Client; secret: string; previousExpireAt: number }>;
    delete(by: Actor, id: string): Promise<{ revokedSessions: number }>;
  };
  readonly workloadIssuers: {
    /** Adds a trusted workload issuer given in its wire form; its rules must name workload_identity clients. */
    add(by: Actor, input: unknown): Promise<SourcedWorkloadIssuer>;
    /** The config file's issuers and the stored ones, by name. */
    list(): Promise<SourcedWorkloadIssuer[]>;
    get(name: string): Promise<SourcedWorkloadIssuer>;
    /** Replaces a stored issuer (PUT); it keeps its name and creation time. The config file's are read-only. */
    replace(by: Actor, name: string, input: unknown): Promise<SourcedWorkloadIssuer>;
    remove(by: Actor, name: string): Promise<void>;
  };
  readonly resources: {
    /** Registers a resource server given in its wire form (name, identifier, encryption keys, claims). */
    add(by: Actor, input: unknown): Promise<Resource>;
    list(): Promise<Resource[]>;
    get(name: string): Promise<Resource>;
    /** Replaces a resource (PUT); it keeps its name and creation time. */
    replace(by: Actor, name: string, input: unknown): Promise<Resource>;
    /** Adds a public encryption key as the newest (tokens are encrypted to it from now on). */
    addKey(by: Actor, name: string, jwk: unknown): Promise<Resource>;
    removeKey(by: Actor, name: string, kid: string): Promise<Resource>;
    remove(by: Actor, name: string): Promise<void>;
  };
  readonly keys: {
    list(): Promise<readonly SigningKeyRecord[]>;
    /** Publishes a next key now; it starts signing one JWKS cache lifetime later. */
    rotate(by: Actor): Promise<{ kid: string; activatesAt: number }>;
    /** Adds an operator's own private key as the next key. */
    import(by: Actor, key: Key): Promise<SigningKeyRecord>;
    retire(by: Actor, kid: string): Promise<SigningKeyRecord>;
  };
  readonly sessions: {
    /** A user's sessions (refresh-token families). */
    list(userId: string): Promise<RefreshFamily[]>;
    /** Ends one session: its refresh tokens and the access tokens issued from it. */
    revoke(by: Actor, id: string): Promise<void>;
  };
  readonly browserSessions: {
    /** A user's live browser sessions (hosted login), newest first. */
    list(userId: string): Promise<BrowserSession[]>;
    /**
     * Ends a browser session by its public id, and revokes the refresh-token families started from it without
     * `offline_access` (with their access tokens). Returns the revoked families' ids.
     */
    revoke(by: Actor, id: string): Promise<{ families: string[] }>;
  };
  readonly consents: {
    /** The third-party clients a user has allowed on the consent page, with the scopes allowed to each. */
    list(userId: string): Promise<Consent[]>;
    /** Withdraws a user's consent to a client: the next sign-in to it asks again. */
    revoke(by: Actor, userId: string, clientId: string): Promise<void>;
  };
  readonly tokens: {
    /** Revokes one token this server issued (RFC 7009 semantics); `clientId` limits it to that client's. */
    revoke(by: Actor, token: string, options?: { hint?: string; clientId?: string }): Promise<TokenRevocation>;
  };
  readonly audit: {
    /** Audit events matching the filter, newest first. */
    query(filter: AuditFilter): Promise<AuditEvent[]>;
  };
  /** Revokes every session and access token of a user (`subject`) or a client. */
  revokeEverything(
    by: Actor,
    target: { kind: 'subject' | 'client'; id: string },
    reason: string,
  ): Promise<{ families: number; seq: number }>;
}

/** Who acts, for a span: the `tessera` command, or the admin API (an admin access token). */
function actorKind(by: Actor): string {
  return by === CLI_ACTOR ? 'cli' : 'admin_api';
}

/**
 * The admin service of one server context. Each action runs in one span `tessera.admin.<area>.<action>`
 * (telemetry.ts): `tessera.actor.kind` for a change, the ids of what it acts on (never a username, token or
 * secret), `tessera.outcome` (`success` or the AdminError code).
 */
export function adminService(ctx: ServerContext): AdminService {
  const act = <T>(name: string, by: Actor | undefined, ids: Attributes, work: () => Promise<T>): Promise<T> =>
    inSpan(
      `tessera.admin.${name}`,
      { attributes: by === undefined ? ids : { ...ids, 'tessera.actor.kind': actorKind(by) } },
      work,
    );
  const user = (id: string): Attributes => ({ 'tessera.user.id': id });
  const client = (id: string): Attributes => ({ 'oauth.client_id': id });
  const none: Attributes = {};
  return Object.freeze({
    users: Object.freeze({
      create: (by, input) => act('users.create', by, none, () => addUser(ctx, by, input)),
      find: (ref) => act('users.find', undefined, 'id' in ref ? user(ref.id) : none, () => findUser(ctx, ref)),
      list: (limit, after) => act('users.list', undefined, none, () => listUsers(ctx, limit, after)),
      setDisabled: (by, id, disabled) =>
        act(disabled ? 'users.disable' : 'users.enable', by, user(id), () => setUserDisabled(ctx, by, id, disabled)),
      setPassword: (by, id, password) => act('users.set_password', by, user(id), () => setPassword(ctx, by, id, password)),
      setProfile: (by, id, profile) => act('users.set_profile', by, user(id), () => setUserProfile(ctx, by, id, profile)),
      setRoles: (by, id, roles) => act('users.set_roles', by, user(id), () => setUserRoles(ctx, by, id, roles)),
      grantRole: (by, id, role) =>
        act('users.grant_role', by, { ...user(id), 'tessera.role': role }, () => grantRole(ctx, by, id, role)),
      revokeRole: (by, id, role) =>
        act('users.revoke_role', by, { ...user(id), 'tessera.role': role }, () => revokeRole(ctx, by, id, role)),
      delete: (by, id) => act('users.delete', by, user(id), () => deleteUser(ctx, by, id)),
    }),
    roles: Object.freeze({
      list: () => act('roles.list', undefined, none, () => listRoles(ctx)),
      put: (by, name, permissions, options) =>
        act('roles.put', by, { 'tessera.role': name }, () => putRole(ctx, by, name, permissions, options)),
      delete: (by, name) => act('roles.delete', by, { 'tessera.role': name }, () => deleteRole(ctx, by, name)),
    }),
    clients: Object.freeze({
      create: (by, input) => act('clients.create', by, none, () => createClient(ctx, by, input)),
      find: (id) => act('clients.find', undefined, client(id), () => findClient(ctx, id)),
      list: () => act('clients.list', undefined, none, () => listClients(ctx)),
      update: (by, id, patch) => act('clients.update', by, client(id), () => updateClient(ctx, by, id, patch)),
      setDisabled: (by, id, disabled) =>
        act(disabled ? 'clients.disable' : 'clients.enable', by, client(id), () => setClientDisabled(ctx, by, id, disabled)),
      rotateSecret: (by, id, overlapSeconds) =>
        act('clients.rotate_secret', by, client(id), () => rotateClientSecret(ctx, by, id, overlapSeconds)),
      delete: (by, id) => act('clients.delete', by, client(id), () => deleteClient(ctx, by, id)),
    }),
    workloadIssuers: Object.freeze({
      add: (by, input) => act('workload_issuers.add', by, none, () => addWorkloadIssuer(ctx, by, input)),
      list: () => act('workload_issuers.list', undefined, none, () => listWorkloadIssuers(ctx)),
      get: (name) =>
        act('workload_issuers.get', undefined, { 'tessera.workload_issuer': name }, () => getWorkloadIssuer(ctx, name)),
      replace: (by, name, input) =>
        act('workload_issuers.replace', by, { 'tessera.workload_issuer': name }, () =>
          replaceWorkloadIssuer(ctx, by, name, input),
        ),
      remove: (by, name) =>
        act('workload_issuers.remove', by, { 'tessera.workload_issuer': name }, () => removeWorkloadIssuer(ctx, by, name)),
    }),
    resources: Object.freeze({
      add: (by, input) => act('resources.add', by, none, () => addResource(ctx, by, input)),
      list: () => act('resources.list', undefined, none, () => listResources(ctx)),
      get: (name) => act('resources.get', undefined, { 'tessera.resource': name }, () => getResource(ctx, name)),
      replace: (by, name, input) =>
        act('resources.replace', by, { 'tessera.resource': name }, () => replaceResource(ctx, by, name, input)),
      addKey: (by, name, jwk) =>
        act('resources.add_key', by, { 'tessera.resource': name }, () => addResourceKey(ctx, by, name, jwk)),
      removeKey: (by, name, kid) =>
        act('resources.remove_key', by, { 'tessera.resource': name, 'tessera.key.kid': kid }, () =>
          removeResourceKey(ctx, by, name, kid),
        ),
      remove: (by, name) => act('resources.remove', by, { 'tessera.resource': name }, () => removeResource(ctx, by, name)),
    }),
    keys: Object.freeze({
      list: () => act('keys.list', undefined, none, () => listKeys(ctx)),
      rotate: (by) => act('keys.rotate', by, none, () => rotateKeys(ctx, by)),
      import: (by, key) => act('keys.import', by, none, () => importSigningKey(ctx, by, key)),
      retire: (by, kid) => act('keys.retire', by, { 'tessera.key.kid': kid }, () => retireKey(ctx, by, kid)),
    }),
    consents: Object.freeze({
      list: (userId) => act('consents.list', undefined, user(userId), () => listConsents(ctx, userId)),
      revoke: (by, userId, clientId) =>
        act('consents.revoke', by, { ...user(userId), ...client(clientId) }, () => revokeConsent(ctx, by, userId, clientId)),
    }),
    sessions: Object.freeze({
      list: (userId) => act('sessions.list', undefined, user(userId), () => listSessions(ctx, userId)),
      revoke: (by, id) => act('sessions.revoke', by, { 'tessera.session.id': id }, () => revokeSession(ctx, by, id)),
    }),
    browserSessions: Object.freeze({
      list: (userId) => act('browser_sessions.list', undefined, user(userId), () => listBrowserSessions(ctx, userId)),
      revoke: (by, id) =>
        act('browser_sessions.revoke', by, { 'tessera.browser_session.id': id }, () => revokeBrowserSession(ctx, by, id)),
    }),
    tokens: Object.freeze({
      // The token itself stays out of the span; its revocation's own span says what it revoked.
      revoke: (by, token, options) =>
        act('tokens.revoke', by, options?.clientId === undefined ? none : client(options.clientId), () =>
          revokeToken(ctx, by, token, options),
        ),
    }),
    audit: Object.freeze({
      query: (filter) => act('audit.query', undefined, none, () => ctx.store.audit.query(filter)),
    }),
    revokeEverything: (by, target, reason) =>
      act(
        target.kind === 'subject' ? 'users.revoke_everything' : 'clients.revoke_everything',
        by,
        target.kind === 'subject' ? user(target.id) : client(target.id),
        () => revokeEverything(ctx, target, reason, by),
      ),
  } satisfies AdminService);
}
