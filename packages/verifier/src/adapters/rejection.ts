import type { ServerResponse } from 'node:http';

import {
  DpopNonceError,
  DpopProofError,
  InsufficientScopeError,
  TesseraError,
  TokenError,
  TokenExpiredError,
} from '@tessera/core';

import {
  DpopReplayError,
  KeysUnavailableError,
  RevocationsUnavailableError,
  TokenBindingError,
  TokenMissingError,
} from '../errors.js';
import type { DpopChallenge } from '../verifier.js';

/**
 * An HTTP answer to a refused request, per RFC 6750 section 3: every HTTP surface (the adapters, the
 * gateway's API, the auth server's own guards) sends exactly this, its body as JSON, so that a client sees
 * one answer wherever it calls.
 */
export interface HttpRejection {
  status: number;
  /**
   * Every header of the answer: the challenge (`www-authenticate`), the JSON `content-type`,
   * `cache-control: no-store` (a refusal is never stored by a cache on the way, RFC 6750 section 5.2),
   * `retry-after` on 503, and `dpop-nonce` with `use_dpop_nonce` (RFC 9449 section 9).
   */
  headers: Record<string, string>;
  body: { error: string; error_description: string };
}

export interface ChallengeOptions {
  /** `realm` of the WWW-Authenticate challenge. */
  realm?: string;
  /**
   * The DPoP scheme is accepted too (RFC 9449 section 7.1): a `DPoP` challenge with its `algs` follows the
   * `Bearer` one, and the error is reported under the scheme the request used (`Verifier.dpopChallenge`).
   */
  dpop?: DpopChallenge;
}

/**
 * The content type of every refusal. The charset is spelt out because Fastify appends it to a JSON type
 * that lacks it: with it, every host sends the same header.
 */
const JSON_TYPE = 'application/json; charset=utf-8';

function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, '\\$&')}"`;
}

function scheme(name: 'Bearer' | 'DPoP', realm: string | undefined, params: Record<string, string>): string {
  const all = { ...(realm !== undefined ? { realm } : {}), ...params };
  const list = Object.entries(all).map(([k, v]) => `${k}=${quote(v)}`);
  return list.length ? `${name} ${list.join(', ')}` : name;
}

/**
 * The WWW-Authenticate value: the Bearer challenge, and the DPoP one (with `algs`) when DPoP is accepted or
 * the error is DPoP's. The error's parameters go to the scheme it belongs to: `on`, or else the one the
 * request used.
 */
function challenge(
  realm: string | undefined,
  params: Record<string, string>,
  dpop: DpopChallenge | undefined,
  on?: 'Bearer' | 'DPoP',
): string {
  const errorOn = on ?? dpop?.scheme ?? 'Bearer';
  const algs: Record<string, string> = dpop !== undefined ? { algs: dpop.algorithms.join(' ') } : {};
  const bearer = scheme('Bearer', realm, errorOn === 'Bearer' ? params : {});
  if (dpop === undefined && errorOn === 'Bearer') return bearer;
  return `${bearer}, ${scheme('DPoP', realm, errorOn === 'DPoP' ? { ...params, ...algs } : algs)}`;
}

/**
 * Maps an authorization failure to its HTTP answer: 401 with no error code when no token came, 400
 * `invalid_request` for a broken Bearer header, 401 `invalid_token` for a refused token, 401
 * `invalid_dpop_proof` for a refused DPoP proof and `use_dpop_nonce` (with `DPoP-Nonce`) for a missing nonce, 403
 * `insufficient_scope` (with the required scope), 503 when no verification keys can be used or the
 * revocation list is not current. The description is fixed text: internal detail (the error's message and cause) stays in logs.
 */
export function rejection(err: unknown, options: ChallengeOptions = {}): HttpRejection {
  const r = refusal(err, options.realm, options.dpop);
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

function refusal(err: unknown, realm: string | undefined, dpop: DpopChallenge | undefined): HttpRejection {
  if (err instanceof TokenMissingError) {
    if (err.malformed) {
      const d = `the Authorization header is not a valid ${dpop?.scheme ?? 'Bearer'} credential`;
      return {
        status: 400,
        headers: { 'www-authenticate': challenge(realm, { error: 'invalid_request', error_description: d }, dpop) },
        body: { error: 'invalid_request', error_description: d },
      };
    }
    return {
      status: 401,
      headers: { 'www-authenticate': challenge(realm, {}, dpop) },
      body: { error: 'unauthorized', error_description: 'a bearer token is required' },
    };
  }
  if (err instanceof TokenError) {
    const d =
      err instanceof TokenExpiredError
        ? 'the access token expired'
        : err instanceof TokenBindingError && err.reason === 'bearer'
          ? 'the access token is bound to a key: present it with the DPoP scheme and a proof'
          : err instanceof TokenBindingError && err.reason === 'certificate'
            ? 'the access token is bound to a client certificate: present it over mutual TLS with that certificate'
            : 'the access token is invalid';
    return {
      status: 401,
      headers: { 'www-authenticate': challenge(realm, { error: 'invalid_token', error_description: d }, dpop) },
      body: { error: 'invalid_token', error_description: d },
    };
  }
  if (err instanceof DpopProofError || err instanceof DpopReplayError) {
    const d = 'the DPoP proof is invalid';
    return {
      status: 401,
      headers: { 'www-authenticate': challenge(realm, { error: 'invalid_dpop_proof', error_description: d }, dpop, 'DPoP') },
      body: { error: 'invalid_dpop_proof', error_description: d },
    };
  }
  if (err instanceof DpopNonceError) {
    const d = 'the DPoP proof must carry the nonce of the DPoP-Nonce header';
    return {
      status: 401,
      headers: {
        'www-authenticate': challenge(realm, { error: 'use_dpop_nonce', error_description: d }, dpop, 'DPoP'),
        ...(dpop?.nonce !== undefined ? { 'dpop-nonce': dpop.nonce } : {}),
      },
      body: { error: 'use_dpop_nonce', error_description: d },
    };
  }
  if (err instanceof InsufficientScopeError) {
    const d = 'the access token lacks the required scope';
    return {
      status: 403,
      headers: {
        'www-authenticate': challenge(
          realm,
          { error: 'insufficient_scope', error_description: d, scope: err.required.join(' ') },
          dpop,
        ),
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
