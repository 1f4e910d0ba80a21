/**
 * Token checks of the connection (connect, refresh) and of subscriptions (subscribe, sub_refresh), each
 * taken from the connection's verification bucket, and their failures in the protocol's codes.
 */
import { TokenExpiredError } from '@tessera/core';
import type { Principal } from '@tessera/verifier';
import { KeysUnavailableError, RevocationsUnavailableError } from '@tessera/verifier';

import { Disconnect, ErrorCode } from '../protocol.js';
import type { SessionContext } from './context.js';
import { DisconnectError, refuse } from './outcome.js';

/**
 * The refusal every token check shares: 109 for an expired token (the client refreshes), 100 (temporary)
 * when keys or revocations cannot be used; undefined for any other refusal, which each caller answers.
 */
function sharedRefusal(err: unknown): Error | undefined {
  if (err instanceof TokenExpiredError) return refuse(ErrorCode.tokenExpired);
  if (err instanceof KeysUnavailableError || err instanceof RevocationsUnavailableError) return refuse(ErrorCode.internal);
  return undefined;
}

/**
 * The DPoP proof a connect or refresh command carries in its `data`, `{"dpop": "<proof>"}`; undefined without
 * one (no data, or data without `dpop`). A `dpop` member that is not a string is a bad request.
 */
export function dpopProof(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const proof = (data as Record<string, unknown>).dpop;
  if (proof === undefined || proof === null) return undefined;
  if (typeof proof !== 'string' || proof === '') throw new DisconnectError(Disconnect.badRequest);
  return proof;
}

/**
 * Verifies a connection token; an invalid one ends the connection (3500). With a DPoP proof (`dpopProof` of
 * the command's data) the token counts only as the Verifier's `verifyRequest` takes `Authorization: DPoP
 * <token>` with that proof for `GET` of the WebSocket URL the client addressed (a replayed proof, a proof of
 * another key or URL, an unbound token refused); without one, as it takes `Authorization: Bearer <token>`. A
 * token bound to a client certificate (RFC 8705) counts only on a connection whose mutual TLS presented that
 * certificate, either way.
 *
 * Then its key binding (`cnf.jkt`, the principal's `jkt`). At connect, a token bound to a key is refused
 * without its proof. On a live connection (refresh), the binding is the one the connection proved at connect,
 * for the connection's whole life: a token bound to that key is taken with a proof (checked in full) or
 * without one (the Verifier's `provenKey`: the connection is the sender constraint, only the key's holder got
 * past connect; the SDK's refresh carries no data); a token bound to another key, an unbound token on a bound
 * connection (a downgrade), or a bound token on a connection that connected with an unbound one is refused.
 */
export async function verifyAccessToken(session: SessionContext, token: string, proof: string | undefined): Promise<Principal> {
  if (!session.verifyBucket.take()) throw new DisconnectError(Disconnect.tooManyRequests);
  let principal: Principal;
  try {
    const verifier = session.hub.verifier;
    const { url, host, secure, certificate } = session.handshake;
    // A sender-constrained token (DPoP `cnf.jkt`, mutual TLS `cnf["x5t#S256"]`) without what binds it is refused
    // by the verifier like any invalid token (fail closed), never let in as a bearer token.
    const provenKey = session.principal?.jkt;
    principal = await verifier.verifyRequest(
      proof === undefined
        ? { authorization: `Bearer ${token}`, method: 'GET', url, host, secure, certificate, provenKey }
        : { authorization: `DPoP ${token}`, dpop: proof, method: 'GET', url, host, secure, certificate },
    );
  } catch (err) {
    const refusal = sharedRefusal(err);
    if (refusal) throw refusal;
    session.hub.log('info', 'realtime.token_refused', { client: session.id, code: (err as { code?: string }).code ?? 'unknown' });
    throw new DisconnectError(Disconnect.invalidToken);
  }
  // Fail closed: a token whose binding does not fit is refused like any invalid token, never let in as a
  // bearer token. Before connect the only binding proven is the one of this command's proof, if any.
  const connected = session.principal;
  const proven = connected !== undefined ? connected.jkt : proof !== undefined ? principal.jkt : undefined;
  if (principal.jkt !== proven) {
    session.hub.log('info', 'realtime.token_refused', { client: session.id, code: 'ERR_TOKEN_BINDING' });
    throw new DisconnectError(Disconnect.invalidToken);
  }
  return principal;
}

/** Verifies a subscription token for `channel` and returns its expiry (ms); a refused one is 103. */
export async function verifySubscriptionToken(session: SessionContext, token: string, channel: string): Promise<number> {
  const verifier = session.hub.subscriptionVerifier;
  if (!verifier) throw refuse(ErrorCode.permissionDenied);
  if (!session.verifyBucket.take()) throw new DisconnectError(Disconnect.tooManyRequests);
  let principal: Principal;
  try {
    principal = await verifier.verify(token);
  } catch (err) {
    throw sharedRefusal(err) ?? refuse(ErrorCode.permissionDenied);
  }
  if (principal.claims.channel !== channel || principal.sub !== session.principal!.sub) throw refuse(ErrorCode.permissionDenied);
  return principal.expiresAt * 1000;
}
