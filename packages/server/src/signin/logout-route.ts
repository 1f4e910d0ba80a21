import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { ServerContext } from '../context.js';
import { epochSeconds } from '../services/epoch.js';
import { MAX_STATE_LENGTH } from '../oauth/authorize-request.js';
import { queryRedirect } from '../oauth/authorize-response.js';
import { OAuthError } from '../oauth/errors.js';
import { matchRedirectUri } from '../oauth/redirect-uri.js';
import { bodyForm, param, queryForm, type Form } from '../oauth/form.js';
import { verifyIdTokenHint, type IdTokenHint } from '../oauth/id-token.js';
import { MESSAGES } from './messages.js';
import { sendPage } from './page-reply.js';
import { clearedSessionCookie, currentBrowserSession, endBrowserSession, sessionIdFrom } from './session.js';

/** The parameters a confirmation form carries back, as the logout request sent them. */
const CARRIED = ['id_token_hint', 'client_id', 'post_logout_redirect_uri', 'state'] as const;

/** A logout request that passed its checks: where to send the browser afterwards, if anywhere. */
interface CheckedLogout {
  hint: IdTokenHint | undefined;
  /** The registered post-logout redirect URI with `state`, or undefined: show the logged-out page. */
  redirect: string | undefined;
  carried: [string, string][];
}

/**
 * The request's checks (OpenID Connect RP-Initiated Logout 1.0 section 2): an `id_token_hint` must be one of this
 * server's ID tokens (expired allowed; signature and `iss` required); `client_id`, when given with it, its
 * audience; a `post_logout_redirect_uri` needs the hint and must be registered, exactly, for the hint's client
 * (else any site could use the logout to redirect: an open redirector); `state` is bounded. A refusal is answered
 * on a page of its own, never redirected.
 */
async function checkLogout(ctx: ServerContext, form: Form): Promise<CheckedLogout> {
  if (form.duplicates.length > 0) throw new OAuthError('invalid_request', `parameter ${form.duplicates[0]} is repeated`);
  const hintText = param(form, 'id_token_hint');
  const clientId = param(form, 'client_id');
  const uri = param(form, 'post_logout_redirect_uri');
  const state = param(form, 'state');
  if (state !== undefined && state.length > MAX_STATE_LENGTH)
    throw new OAuthError('invalid_request', `state is longer than ${MAX_STATE_LENGTH} characters`);
  const hint = hintText === undefined ? undefined : verifyIdTokenHint(ctx, hintText);
  if (hintText !== undefined && hint === undefined) throw new OAuthError('invalid_request', 'id_token_hint is not valid');
  if (hint !== undefined && clientId !== undefined && clientId !== hint.clientId)
    throw new OAuthError('invalid_request', 'client_id is not the audience of id_token_hint');
  let redirect: string | undefined;
  if (uri !== undefined) {
    if (hint === undefined) throw new OAuthError('invalid_request', 'post_logout_redirect_uri needs id_token_hint');
    const client = await ctx.store.clients.get(hint.clientId);
    // Matched as redirect URIs are: exactly, a loopback one with any port (RFC 8252 section 7.3).
    if (!client || client.disabled || !matchRedirectUri(client.postLogoutRedirectUris, uri))
      throw new OAuthError('invalid_request', 'post_logout_redirect_uri is not registered for this client');
    redirect = state === undefined ? uri : queryRedirect(uri, [['state', state]]);
  }
  const carried = CARRIED.flatMap((name): [string, string][] => {
    const v = form.params.get(name);
    return v === undefined || v === '' ? [] : [[name, v]];
  });
  return { hint, redirect, carried };
}

/**
 * A POST of the confirmation form from this server's own page: its Origin is the issuer's (CSRF). The page's
 * referrer policy is `same-origin` so that the browser sends its Origin (under `no-referrer`: `null`, refused).
 */
function confirmedHere(ctx: ServerContext, req: FastifyRequest, form: Form): boolean {
  return (
    req.method === 'POST' && form.params.get('confirm') === 'yes' && req.headers.origin === new URL(ctx.config.issuer).origin
  );
}

/**
 * GET and POST /logout: OpenID Connect RP-Initiated Logout 1.0 (the `end_session_endpoint`). The browser session
 * ends (deleted from the store, the cookie cleared) when the request carries a valid `id_token_hint` of the
 * signed-in user, or when the user confirms on the page this endpoint shows otherwise (a POST from this server's
 * own origin; a cross-site POST carries no SameSite=Lax cookie anyway). Then the browser goes to the registered
 * `post_logout_redirect_uri` with `state`, or sees the logged-out page. The pages are the hosted ones
 * (`ctx.pages`: logged-out, the error page for a refusal, logout-confirm for the question) with their headers.
 */
export function logoutRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const base = ctx.config.issuer;
    const form = req.method === 'GET' ? queryForm(req.url) : bodyForm(req.body);
    let checked: CheckedLogout;
    try {
      checked = await checkLogout(ctx, form);
    } catch (err) {
      if (err instanceof OAuthError)
        return sendPage(
          reply,
          400,
          ctx.pages.error(base, MESSAGES.logout.refused, err.description, MESSAGES.logout.refusedTitle),
        );
      throw err;
    }
    const id = sessionIdFrom(req.headers.cookie);
    const current = await currentBrowserSession(ctx, id);
    if (current !== undefined && id !== undefined) {
      // The hint ends the session without asking only when it was issued in this session (RP-Initiated Logout
      // section 2: otherwise ask): its user, and its auth_time this session's login. An ID token of an earlier
      // session, or held by another client of another session, gets the confirmation page.
      const ownHint =
        checked.hint !== undefined &&
        checked.hint.sub === current.user.id &&
        checked.hint.authTime === epochSeconds(current.session.authTime);
      if (!ownHint && !confirmedHere(ctx, req, form))
        return sendPage(reply, 200, ctx.pages.logoutConfirm(base, checked.carried), { referrerPolicy: 'same-origin' });
      await endBrowserSession(ctx, { cookieId: id }, 'logout');
      reply.header('set-cookie', clearedSessionCookie());
      await ctx.audit.record({
        type: 'signin.logout',
        outcome: 'success',
        subject: current.user.id,
        ...(checked.hint ? { clientId: checked.hint.clientId } : {}),
        ip: req.ip,
        data: { by: ownHint ? 'id_token_hint' : 'confirmation' },
      });
    } else if (id !== undefined) reply.header('set-cookie', clearedSessionCookie());
    if (checked.redirect !== undefined) return reply.code(303).header('location', checked.redirect).send();
    return sendPage(reply, 200, ctx.pages.loggedOut(base));
  };
  app.get('/logout', handler);
  app.post('/logout', handler);
}
