import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { ServerContext } from '../context.js';
import {
  checkAuthorization,
  type AuthorizationRequest,
  type CheckedAuthorization,
  type RedirectTarget,
} from '../oauth/authorize-request.js';
import { OAuthError } from '../oauth/errors.js';
import { bodyForm, queryForm, type Form } from '../oauth/form.js';
import { issueAuthorizationCode } from '../oauth/issue-code.js';
import { resolveAuthorizationRequest } from '../oauth/pushed-request.js';
import type { BrowserSession } from '../store/types.js';
import type { SignInAnswers } from './answer.js';
import { needsConsent } from './consent.js';
import { savePendingRequest } from './login-form.js';
import { currentBrowserSession, PASSWORD_SIGN_IN, sessionIdFrom } from './session.js';

/**
 * GET and POST /authorize, the authorization endpoint (RFC 6749 section 3.1, OpenID Connect Core 3.1.2), as
 * named steps: check the request (checkAuthorization: refusals before the client and its redirect URI are
 * established go to the error page, later ones back to the client); with a live browser session that
 * satisfies `prompt` and `max_age`, issue the code at once (single sign-on), unless a third-party client
 * needs the user's consent: then store the request and show the consent page (`consent_required` with
 * `prompt=none`); with `prompt=none` and no such session, `login_required` to the client; otherwise store the
 * request and show the login page.
 */
export function authorizeRoute(app: FastifyInstance, ctx: ServerContext, answers: SignInAnswers): void {
  const authorize = async (req: FastifyRequest, reply: FastifyReply, query: Form, redirectStatus: 302 | 303) => {
    // A pushed request (RFC 9126) is taken by its request_uri: its parameters are the request's.
    const { checked: resolved, form, pushed } = await resolveAuthorizationRequest(ctx, query);
    const checked = signInCheck(resolved);
    if (!checked.ok) return answers.refusal(reply, checked.error, checked.target, redirectStatus);
    const { request, target } = checked;

    const signedIn = await currentBrowserSession(ctx, sessionIdFrom(req.headers.cookie));
    if (signedIn && satisfies(signedIn.session, request, ctx.now())) {
      if (await needsConsent(ctx, request, signedIn.user.id)) {
        if (request.prompt?.includes('none'))
          return answers.refusal(
            reply,
            new OAuthError('consent_required', 'the user has not allowed this client'),
            target,
            redirectStatus,
          );
        const reference = await savePendingRequest(ctx, form, pushed);
        return answers.consentPage(reply, {
          reference,
          request,
          username: signedIn.user.username,
          cookieHeader: req.headers.cookie,
        });
      }
      const code = await issueAuthorizationCode(ctx, request, signedIn.user, signedIn.session, PASSWORD_SIGN_IN);
      return answers.toClient(reply, target, { code }, redirectStatus);
    }
    if (request.prompt?.includes('none'))
      return answers.refusal(reply, new OAuthError('login_required', 'the user is not signed in'), target, redirectStatus);

    const reference = await savePendingRequest(ctx, form, pushed);
    return answers.loginPage(reply, 200, {
      reference,
      request,
      username: request.loginHint ?? '',
      cookieHeader: req.headers.cookie,
    });
  };

  app.get('/authorize', (req, reply) => authorize(req, reply, queryForm(req.url), 302));
  app.post('/authorize', (req, reply) => authorize(req, reply, bodyForm(req.body), 303));
}

/** An authorization request as the sign-in takes it: checked, with where its answer goes, or refused. */
export type SignInCheck =
  | { ok: true; request: AuthorizationRequest; target: RedirectTarget }
  | { ok: false; error: OAuthError; target: RedirectTarget | undefined };

/**
 * The checks of /authorize, run again by /login and /consent on the pending request (the client may have
 * changed since): checkAuthorization, with where its answer goes; `target` is undefined while the client and
 * its redirect URI are not established (the error page).
 */
export async function checkSignIn(ctx: ServerContext, form: Form, pushed: boolean): Promise<SignInCheck> {
  return signInCheck(await checkAuthorization(form, (id) => ctx.store.clients.get(id), { pushed }));
}

/** A checked authorization request with where its answer goes (undefined: the error page). */
function signInCheck(checked: CheckedAuthorization): SignInCheck {
  if (!checked.ok) return { ok: false, error: checked.error, target: checked.redirect };
  const { request } = checked;
  return {
    ok: true,
    request,
    target: { redirectUri: request.redirectUri, responseMode: request.responseMode, state: request.state },
  };
}

/** Whether a live session may answer the request without a password: no `prompt=login`, and within `max_age`. */
export function satisfies(session: BrowserSession, request: AuthorizationRequest, now: number): boolean {
  if (request.prompt?.includes('login')) return false;
  return request.maxAge === undefined || now - session.authTime <= request.maxAge * 1000;
}
