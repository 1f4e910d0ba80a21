// The chat's calls to the auth server, as the confidential client `chat-web` (client_secret_basic): the
// password grant at login, the refresh_token grant (rotation) for a fresh access token, and RFC 7009
// revocation at logout. Tokens and passwords never go into an error message.

export class AuthServerError extends Error {
  constructor(status, error, description) {
    super(`auth server answered ${status} ${error}${description ? `: ${description}` : ''}`);
    this.name = 'AuthServerError';
    this.status = status;
    /** The OAuth error code (invalid_grant, ...), or `unavailable` when the server could not be reached. */
    this.error = error;
    this.description = description;
  }
}

export function authClient({ issuer, clientId, clientSecret }) {
  const authorization =
    'Basic ' + Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');

  async function post(path, params) {
    let res;
    try {
      res = await fetch(`${issuer}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
        body: new URLSearchParams(params),
        signal: AbortSignal.timeout(5_000),
      });
    } catch (err) {
      throw new AuthServerError(0, 'unavailable', err.name === 'TimeoutError' ? 'timed out' : err.message);
    }
    const body = await res.json().catch(() => ({}));
    if (res.status !== 200) throw new AuthServerError(res.status, body.error ?? 'server_error', body.error_description);
    return body;
  }

  /** The token response (access_token, refresh_token, scope, expires_in), or throws AuthServerError. */
  async function grant(params) {
    const body = await post('/oauth/token', params);
    if (typeof body.access_token !== 'string' || typeof body.refresh_token !== 'string')
      throw new AuthServerError(200, 'server_error', 'no access or refresh token in the answer');
    return body;
  }

  return {
    login: (username, password, audience) => grant({ grant_type: 'password', username, password, resource: audience }),
    refresh: (refreshToken) => grant({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    /** Ends the refresh token's session at the server (RFC 7009: an unknown token is not an error). */
    revoke: (refreshToken) => post('/oauth/revoke', { token: refreshToken, token_type_hint: 'refresh_token' }),
  };
}
