import type { ServerResponse } from 'node:http';

import { InsufficientScopeError, TesseraError, TokenError, TokenExpiredError } from '@tessera/core';

import { KeysUnavailableError, RevocationsUnavailableError, TokenMissingError } from '../errors.js';

/**
 * An HTTP answer to a refused request, per RFC 6750 section 3: every HTTP surface (the adapters, the
 * gateway's API, the auth server's own guards) sends exactly this, its body as JSON, so that a client sees
 * one answer wherever it calls.
 */
export interface HttpRejection {
  status: number;
  /**
   * Every header of the answer: the challenge (`www-authenticate`), the JSON `content-type`,
   * `cache-control: no-store` (a refusal is never stored by a cache on the way, RFC 6750 section 5.2), and
   * `retry-after` on 503.
   */
  headers: Record<string, string>;
  body: { error: string; error_description: string };
}

export interface ChallengeOptions {
  /** `realm` of the WWW-Authenticate challenge. */
  realm?: string;
}

/**
 * The content type of every refusal. The charset is spelt out because Fastify appends it to a JSON type
 * that lacks it: with it, every host sends the same header.
 */
const JSON_TYPE = 'application/json; charset=utf-8';

function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, '\\$&')}"`;
}

function challenge(realm: string | undefined, params: Record<string, string>): string {
  const all = { ...(realm !== undefined ? { realm } : {}), ...params };
  const list = Object.entries(all).map(([k, v]) => `${k}=${quote(v)}`);
  return list.length ? `Bearer ${list.join(', ')}` : 'Bearer';
}

/**
 * Maps an authorization failure to its HTTP answer: 401 with no error code when no token came, 400
 * `invalid_request` for a broken Bearer header, 401 `invalid_token` for a refused token, 403
 * `insufficient_scope` (with the required scope), 503 when no verification keys can be used or the
 * revocation list is not current. The description is fixed text: internal detail (the error's message and cause) stays in logs.
 */
export function rejection(err: unknown, options: ChallengeOptions = {}): HttpRejection {
  const r = refusal(err, options.realm);
  return { ...r, headers: { ...r.headers, 'content-type': JSON_TYPE, 'cache-control': 'no-store' } };
}

/**
 * Writes the refusal for `err` on a node:http response: the node:http and Express adapters, and any server
 * on node:http (the gateway's API). The fetch and Fastify adapters write the same `rejection()`.
 */
export function writeRejection(res: ServerResponse, err: unknown, options: ChallengeOptions = {}): void {
  const r = rejection(err, options);
  res.writeHead(r.status, r.headers).end(JSON.stringify(r.body));
}

function refusal(err: unknown, realm: string | undefined): HttpRejection {
  if (err instanceof TokenMissingError) {
    if (err.malformed) {
      const d = 'the Authorization header is not a valid Bearer credential';
      return {
        status: 400,
        headers: { 'www-authenticate': challenge(realm, { error: 'invalid_request', error_description: d }) },
        body: { error: 'invalid_request', error_description: d },
      };
    }
    return {
      status: 401,
      headers: { 'www-authenticate': challenge(realm, {}) },
      body: { error: 'unauthorized', error_description: 'a bearer token is required' },
    };
  }
  if (err instanceof TokenError) {
    const d = err instanceof TokenExpiredError ? 'the access token expired' : 'the access token is invalid';
    return {
      status: 401,
      headers: { 'www-authenticate': challenge(realm, { error: 'invalid_token', error_description: d }) },
      body: { error: 'invalid_token', error_description: d },
    };
  }
  if (err instanceof InsufficientScopeError) {
    const d = 'the access token lacks the required scope';
    return {
      status: 403,
      headers: {
        'www-authenticate': challenge(realm, {
          error: 'insufficient_scope',
          error_description: d,
          scope: err.required.join(' '),
        }),
      },
      body: { error: 'insufficient_scope', error_description: d },
    };
  }
  if (err instanceof KeysUnavailableError || err instanceof RevocationsUnavailableError) {
    return {
      status: 503,
      headers: { 'retry-after': '5' },
      body: { error: 'temporarily_unavailable', error_description: 'token verification is unavailable' },
    };
  }
  return {
    status: 500,
    headers: {},
    body: { error: 'server_error', error_description: err instanceof TesseraError ? 'authorization failed' : 'internal error' },
  };
}
