// Token exchange (RFC 8693) at the auth server: a service trades the user's access token it received for one
// for a downstream audience, on the user's behalf (the new token keeps the user's `sub` and names the service
// in `act`).
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

export class TokenExchangeError extends Error {
  constructor(status, error) {
    super(`token exchange refused: ${status} ${error}`);
    this.name = 'TokenExchangeError';
    this.status = status;
    /** The OAuth error code (invalid_grant, invalid_scope, invalid_target, ...). */
    this.error = error;
  }
}

/** Returns the access token for `audience` (with `scope`, when given), or throws TokenExchangeError. */
export async function exchangeToken({ tokenEndpoint, clientId, clientSecret, subjectToken, audience, scope }) {
  const body = new URLSearchParams({
    grant_type: TOKEN_EXCHANGE,
    subject_token: subjectToken,
    subject_token_type: ACCESS_TOKEN,
    resource: audience,
    ...(scope ? { scope } : {}),
  });
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization:
        'Basic ' + Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64'),
    },
    body,
    signal: AbortSignal.timeout(5_000),
  });
  const answer = await res.json().catch(() => ({}));
  if (res.status !== 200 || typeof answer.access_token !== 'string')
    throw new TokenExchangeError(res.status, answer.error ?? 'server_error');
  return answer.access_token;
}
