import assert from 'node:assert/strict';

import { decodeUnverified } from '@tessera/core';
import { ADMIN_SCOPE, adminAudience } from '@tessera/server/internal';

import { clientCredentials, type ClientCreds } from './oauth.js';
import type { TestServer } from './server.js';

/** An admin API answer: status, headers, and the JSON body (undefined when empty). */
export interface AdminAnswer {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * Calls the admin API with the given bearer token (or none). `body` is sent as JSON unless it is a
 * string, which is sent as written with `content-type: application/json`.
 */
export async function adminAs(
  t: TestServer,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<AdminAnswer> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(t.url + path, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** Registers an admin client of our own (its secret known), e.g. to revoke its token or use it across a restart. */
export async function ownAdminClient(t: TestServer, id: string): Promise<ClientCreds> {
  return t.client({ id, grantTypes: ['client_credentials'], scopes: [ADMIN_SCOPE], audiences: [adminAudience(t.url)] });
}

/** An access token of a client (client_credentials); fails the test unless the server grants it. */
export async function tokenOf(t: TestServer, c: ClientCreds, params: Record<string, string> = {}): Promise<string> {
  const r = await clientCredentials(t, c, params);
  assert.equal(r.status, 200, `token for ${c.id}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.access_token!;
}

/** The `kid` header of a JWT. */
export function kidOf(token: string): string {
  const kid = decodeUnverified(token).header.kid;
  assert.equal(typeof kid, 'string');
  return kid as string;
}
