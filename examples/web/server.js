// The server-side web app example: a web app that signs its users in with OpenID Connect through Tessera,
// using openid-client (discovery, pushed authorization request, authorization code with PKCE, ID token checks,
// userinfo, refresh, RP-initiated logout). The tokens stay on this server; the browser holds only a random
// session id in an HttpOnly cookie.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import * as oidc from 'openid-client';

export const WEB_CLIENT_ID = 'web-app';
/** Loopback redirect URIs: the authorization server matches them on any port (RFC 8252 section 7.3). */
export const WEB_REDIRECT_URI = 'http://127.0.0.1/auth/callback';
export const WEB_POST_LOGOUT_URI = 'http://127.0.0.1/';
export const WEB_SCOPES = ['openid', 'profile', 'email'];

const SESSION_COOKIE = 'web-session';
/** A sign-in not completed within this time is forgotten. */
const PENDING_TTL_MS = 10 * 60 * 1000;

const escape = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function page(title, body) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title></head>
<body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
}

const cookieOf = (req) =>
  (req.headers.cookie ?? '')
    .split(';')
    .map((c) => c.trim().split('='))
    .find(([name]) => name === SESSION_COOKIE)?.[1];

/**
 * Starts the web app on 127.0.0.1:`port`, as the confidential client `web-app` (`clientSecret`). Resolves
 * once it listens, with its URL and `close`.
 */
export async function startWeb({ issuer, port, clientSecret }) {
  const insecure = new URL(issuer).protocol === 'http:';
  const config = await oidc.discovery(new URL(issuer), WEB_CLIENT_ID, undefined, oidc.ClientSecretBasic(clientSecret), {
    // The demo's auth server speaks plain http on this machine; anywhere else it is https.
    execute: insecure ? [oidc.allowInsecureRequests] : [],
  });
  /** Browser session id -> the signed-in user's tokens and claims, or a sign-in under way. */
  const sessions = new Map();

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${server.address().port}`);
    const sid = cookieOf(req);
    const session = sid === undefined ? undefined : sessions.get(sid);
    const send = (status, html, headers = {}) => {
      res.writeHead(status, {
        'content-type': 'text/html; charset=utf-8',
        // The sign-out form's answer redirects to the auth server: browsers hold that redirect to form-action too.
        'content-security-policy': `default-src 'none'; base-uri 'none'; form-action 'self' ${new URL(issuer).origin}; frame-ancestors 'none'`,
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
        ...headers,
      });
      res.end(html);
    };
    const redirect = (to, headers = {}) => {
      // 303: after a POST the browser follows with a GET.
      res.writeHead(303, { location: String(to), 'cache-control': 'no-store', ...headers });
      res.end();
    };
    try {
      if (req.method === 'GET' && url.pathname === '/') {
        if (!session?.tokens) return send(200, page('Web app', '<p>Not signed in.</p><p><a href="/login">Sign in</a></p>'));
        const { claims } = session;
        return send(
          200,
          page(
            'Web app',
            `<p id="who">Signed in as ${escape(session.userinfo?.name ?? claims.sub)}</p>` +
              `<h2>Userinfo</h2><pre id="userinfo">${escape(JSON.stringify(session.userinfo, null, 2))}</pre>` +
              `<h2>ID token claims</h2><pre id="claims">${escape(JSON.stringify(claims, null, 2))}</pre>` +
              // POST, so that a link on another site cannot use them (the SameSite=Lax cookie is not sent with
              // another site's POST).
              '<form method="post" action="/refresh"><button id="refresh" type="submit">Refresh the tokens</button></form>' +
              '<form method="post" action="/logout"><button id="sign-out" type="submit">Sign out</button></form>',
          ),
        );
      }
      if (req.method === 'GET' && url.pathname === '/login') {
        const verifier = oidc.randomPKCECodeVerifier();
        const state = oidc.randomState();
        const nonce = oidc.randomNonce();
        const id = randomBytes(32).toString('base64url');
        sessions.set(id, { pending: { verifier, state, nonce, until: Date.now() + PENDING_TTL_MS } });
        // The request goes to the auth server directly (PAR), the browser gets only its reference.
        const to = await oidc.buildAuthorizationUrlWithPAR(config, {
          redirect_uri: `${url.origin}/auth/callback`,
          scope: WEB_SCOPES.join(' '),
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state,
          nonce,
        });
        return redirect(to, { 'set-cookie': `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax` });
      }
      if (req.method === 'GET' && url.pathname === '/auth/callback') {
        const pending = session?.pending;
        if (!pending || pending.until < Date.now())
          return send(400, page('Sign-in failed', '<p>No sign-in is under way here.</p>'));
        const tokens = await oidc.authorizationCodeGrant(config, url, {
          pkceCodeVerifier: pending.verifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
        const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims().sub);
        // A new session id once signed in: the one handed out before the sign-in is not the signed-in session's.
        sessions.delete(sid);
        const id = randomBytes(32).toString('base64url');
        // The ID token (its checked claims, and itself for the logout) is kept: a refresh does not renew it.
        sessions.set(id, { tokens, idToken: tokens.id_token, claims: tokens.claims(), userinfo });
        return redirect('/', { 'set-cookie': `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax` });
      }
      if (req.method === 'POST' && url.pathname === '/refresh' && session?.tokens) {
        session.tokens = await oidc.refreshTokenGrant(config, session.tokens.refresh_token);
        return redirect('/');
      }
      if (req.method === 'POST' && url.pathname === '/logout') {
        sessions.delete(sid);
        const cleared = { 'set-cookie': `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax` };
        if (!session?.tokens) return redirect('/', cleared);
        // RP-initiated logout: the auth server ends its own session and sends the browser back here.
        return redirect(
          oidc.buildEndSessionUrl(config, { id_token_hint: session.idToken, post_logout_redirect_uri: `${url.origin}/` }),
          cleared,
        );
      }
      return send(404, page('Not found', '<p><a href="/">Home</a></p>'));
    } catch (err) {
      // The reason stays in this server's log; the page says only that it failed.
      console.warn(`[web] ${url.pathname}: ${err instanceof Error ? err.message : String(err)}`);
      return send(502, page('Sign-in failed', '<p>The sign-in could not be completed. <a href="/">Start again</a></p>'));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
