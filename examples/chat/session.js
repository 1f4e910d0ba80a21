// The chat's backend-for-frontend: the page never sees the client secret nor a refresh token. `POST /login`
// runs the password grant as client `chat-web` and keeps the refresh token in a server-side session, named
// by a random id in an httpOnly SameSite=Strict cookie; the page gets the access token only. `POST /token`
// rotates the refresh token (one rotation at a time per session: a second one with the same token would be
// taken for a stolen token's reuse) and answers a fresh access token. `POST /logout` revokes the session.
import { randomBytes } from 'node:crypto';

import { AuthServerError } from './auth-client.js';

const COOKIE = 'chat_session';
const MAX_SESSIONS = 10_000;
const MAX_BODY_BYTES = 4_096;

/**
 * The routes of the backend-for-frontend, by `METHOD /path`. `auth` is the auth client of chat-web,
 * `verifier` the gateway's (the access token's subject names the user), `requiredScope` what a user must
 * be granted to use the chat at all.
 */
export function sessionRoutes({ auth, verifier, audience, requiredScope }) {
  /** Session id -> { refreshToken, user: { id, name }, rotating }. */
  const sessions = new Map();
  /** User id -> username, of everyone who logged in here: the page shows names, publications carry ids. */
  const names = new Map();

  // Served over https, the cookie would be `Secure` too.
  const cookie = (value, maxAge) =>
    `${COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict${maxAge === undefined ? '' : `; Max-Age=${maxAge}`}`;
  const sessionOf = (req) => sessions.get(readCookie(req, COOKIE) ?? '');
  /** Drops the request's session, if any, and revokes its refresh token at the auth server. */
  async function endSession(req) {
    const id = readCookie(req, COOKIE);
    const session = sessions.get(id ?? '');
    if (!session) return;
    sessions.delete(id);
    await auth.revoke(session.refreshToken).catch((err) => console.warn(`[chat] logout: ${err.message}`));
  }

  async function login(req, res) {
    const body = await readJson(req);
    const { username, password } = body ?? {};
    if (typeof username !== 'string' || typeof password !== 'string' || !username.trim() || !password)
      return send(res, 400, { error: 'give a username and a password' });
    let tokens;
    try {
      tokens = await auth.login(username, password, audience);
    } catch (err) {
      if (err instanceof AuthServerError && err.error === 'invalid_grant')
        return send(res, 401, { error: 'wrong username or password (or the user is locked out or disabled)' });
      return authServerFailed(res, 'login', err);
    }
    if (!tokens.scope.split(' ').includes(requiredScope)) {
      await auth.revoke(tokens.refresh_token).catch(() => {});
      return send(res, 403, { error: 'this user may not use the chat (no chat role)' });
    }
    const { sub } = await verifier.verify(tokens.access_token);
    const user = { id: sub, name: username.trim() };
    names.set(user.id, user.name);
    await endSession(req); // a login in a browser that was logged in already
    const id = randomBytes(32).toString('base64url');
    if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value);
    sessions.set(id, { refreshToken: tokens.refresh_token, user, rotating: undefined });
    return send(res, 200, { token: tokens.access_token, user }, { 'set-cookie': cookie(id) });
  }

  async function token(req, res) {
    const session = sessionOf(req);
    if (!session) return send(res, 401, { error: 'not logged in' });
    session.rotating ??= auth
      .refresh(session.refreshToken)
      .then((tokens) => {
        session.refreshToken = tokens.refresh_token;
        return tokens.access_token;
      })
      .finally(() => (session.rotating = undefined));
    try {
      return send(res, 200, { token: await session.rotating, user: session.user });
    } catch (err) {
      if (!(err instanceof AuthServerError && err.error === 'invalid_grant')) return authServerFailed(res, 'refresh', err);
      // Revoked (logout elsewhere, an admin's cut-off, the user disabled) or expired: the session is over.
      sessions.delete(readCookie(req, COOKIE));
      return send(res, 401, { error: 'the session has ended: log in again' }, { 'set-cookie': cookie('', 0) });
    }
  }

  async function logout(req, res) {
    await endSession(req);
    return send(res, 204, undefined, { 'set-cookie': cookie('', 0) });
  }

  async function people(req, res) {
    if (!sessionOf(req)) return send(res, 401, { error: 'not logged in' });
    return send(res, 200, Object.fromEntries(names));
  }

  return { 'POST /login': login, 'POST /token': token, 'POST /logout': logout, 'GET /people': people };
}

function authServerFailed(res, what, err) {
  // The message names the status and OAuth error, never a token, secret or password.
  console.warn(`[chat] ${what} failed: ${err.message}`);
  return send(res, err instanceof AuthServerError && err.status === 0 ? 503 : 502, {
    error: 'the auth server is unavailable or refused the chat',
  });
}

export function send(res, status, body, headers = {}) {
  res.writeHead(status, {
    'cache-control': 'no-store',
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...headers,
  });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}

/** The JSON body (an object), or undefined when it is not JSON, not an object or too large. */
async function readJson(req) {
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return undefined;
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  try {
    const value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

function readCookie(req, name) {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
