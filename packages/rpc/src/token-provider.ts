import { Code, ConnectError } from '@connectrpc/connect';
import { ConfigError } from '@tessera/core';
import { createDpopProof, DpopKey, TokenRequestError, type TokenRequest } from '@tessera/verifier';

/**
 * Where a client's tokens come from: a ServiceTokenSource of @tessera/verifier (or anything with its
 * `getToken(request)`), or a function returning the token.
 */
export type TokenProvider = { getToken(request?: TokenRequest): Promise<string> } | (() => string | Promise<string>);

/** A function that gets a token for `request` from `source`, checked once. */
export function tokenGetter(source: TokenProvider, request: TokenRequest): () => Promise<string> {
  if (typeof source === 'function') return async () => source();
  if (typeof source === 'object' && source !== null && typeof source.getToken === 'function')
    return () => source.getToken(request);
  throw new ConfigError('source', 'must be a ServiceTokenSource, an object with getToken(), or a function returning a token');
}

/**
 * The token for a call, or the call's error without it: Unavailable when the token endpoint could not be
 * reached, Unauthenticated when it refused (the client's credentials or allowed scopes are wrong).
 */
export async function tokenForCall(get: () => Promise<string>): Promise<string> {
  try {
    return await get();
  } catch (err) {
    if (err instanceof ConnectError) throw err;
    const refused = err instanceof TokenRequestError && err.status !== undefined;
    const message = err instanceof TokenRequestError ? `no access token: ${err.message}` : 'no access token';
    throw new ConnectError(message, refused ? Code.Unauthenticated : Code.Unavailable, undefined, undefined, err);
  }
}

/**
 * The DPoP key calls are proven with: `given`, or the `dpopKey` of a ServiceTokenSource (its tokens are bound to
 * it); undefined for bearer tokens. A given key other than the source's is refused: its proofs would not match.
 */
export function dpopKeyOf(source: TokenProvider, given: DpopKey | undefined): DpopKey | undefined {
  if (given !== undefined && !(given instanceof DpopKey))
    throw new ConfigError('dpopKey', 'must be a DpopKey of @tessera/verifier');
  const own = typeof source === 'object' && source !== null ? (source as { dpopKey?: unknown }).dpopKey : undefined;
  if (own !== undefined && !(own instanceof DpopKey)) throw new ConfigError('dpopKey', "the source's dpopKey is not a DpopKey");
  if (given !== undefined && own !== undefined && given.jkt !== own.jkt)
    throw new ConfigError('dpopKey', "is not the key the source's tokens are bound to");
  return given ?? own;
}

/** A client's DPoP state: its key and the latest nonce a server asked for. */
export class DpopProver {
  private nonce: string | undefined;
  constructor(private readonly key: DpopKey) {}

  /** The Authorization and DPoP header values for a request with `token`, and the nonce its proof carries. */
  headers(token: string, method: string, url: string): { authorization: string; dpop: string; nonce: string | undefined } {
    const nonce = this.nonce;
    return {
      authorization: `DPoP ${token}`,
      dpop: createDpopProof({ key: this.key, method, url, accessToken: token, nonce }),
      nonce,
    };
  }

  /**
   * Remembers a nonce a refusal gave; true when it is not the one the refused request's proof carried (`sent`), so
   * that a retry with it may pass. Compared with what that request sent, not with the latest remembered: of two
   * requests refused at once, both retry.
   */
  takeNonce(nonce: string | null | undefined, sent: string | undefined): boolean {
    if (typeof nonce !== 'string' || nonce === '') return false;
    this.nonce = nonce;
    return nonce !== sent;
  }
}
