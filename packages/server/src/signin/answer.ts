import type { FastifyReply } from 'fastify';

import type { ServerContext } from '../context.js';
import type { AuthorizationRequest, RedirectTarget } from '../oauth/authorize-request.js';
import { authorizationResponseParams, queryRedirect, type AuthorizationOutcome } from '../oauth/authorize-response.js';
import type { OAuthError } from '../oauth/errors.js';
import { newCspNonce } from '../security/random.js';
import { formToken, loginKeyFor } from './login-form.js';
import { MESSAGES } from './messages.js';
import { formActionSource, sendPage } from './page-reply.js';

/** The name the pages show for the request's client: its registered name, or its id when it has none. */
function clientName(request: AuthorizationRequest): string {
  return request.client.name || request.client.id;
}

/**
 * The answers of the browser-facing endpoints (/authorize, /login, /consent): back to the client, the error
 * page, the login and consent pages. `redirectStatus` is 302 after a GET and 303 after a POST (RFC 9700 section 4.11: a 307 would
 * post the user's password to the client).
 */
export class SignInAnswers {
  constructor(private readonly ctx: ServerContext) {}

  /** The code or the error to the client: its redirect URI with a query (302/303), or a form_post page. */
  toClient(reply: FastifyReply, target: RedirectTarget, outcome: AuthorizationOutcome, redirectStatus: 302 | 303): FastifyReply {
    const issuer = this.ctx.config.issuer;
    const params = authorizationResponseParams(target, issuer, outcome);
    if (target.responseMode === 'query') return reply.redirect(queryRedirect(target.redirectUri, params), redirectStatus);
    const nonce = newCspNonce();
    return sendPage(reply, 200, this.ctx.pages.formPost(issuer, target.redirectUri, params, nonce), {
      formAction: formActionSource(target.redirectUri),
      scriptNonce: nonce,
    });
  }

  /**
   * A refused authorization request: to the client when its redirect URI is established, else on the error
   * page (400), never redirected (RFC 6749 section 4.1.2.1), with the reason for the client's developers.
   */
  refusal(reply: FastifyReply, error: OAuthError, target: RedirectTarget | undefined, redirectStatus: 302 | 303): FastifyReply {
    if (target !== undefined) return this.toClient(reply, target, { error }, redirectStatus);
    return this.errorPage(reply, 400, MESSAGES.error.badRequest, error.description);
  }

  errorPage(reply: FastifyReply, status: number, message: string, details?: string): FastifyReply {
    return sendPage(reply, status, this.ctx.pages.error(this.ctx.config.issuer, message, details));
  }

  /**
   * The login page for a pending request: its reference and the anti-forgery token bound to it and to this
   * browser's login key (set or renewed in the cookie). Its CSP lets the form post to the server and, since
   * browsers hold a form's redirects to `form-action` too, lets the answer redirect to the client's
   * `redirectUri`.
   */
  loginPage(
    reply: FastifyReply,
    status: number,
    view: {
      reference: string;
      request: AuthorizationRequest;
      username: string;
      error?: string;
      cookieHeader: string | undefined;
    },
  ): FastifyReply {
    const csrf = this.formToken(reply, view.reference, view.cookieHeader);
    const html = this.ctx.pages.login(this.ctx.config.issuer, {
      clientName: clientName(view.request),
      username: view.username,
      request: view.reference,
      csrf,
      ...(view.error !== undefined ? { error: view.error } : {}),
    });
    return sendPage(reply, status, html, { formAction: `'self' ${formActionSource(view.request.redirectUri)}` });
  }

  /** The consent page for a pending request of a third-party client, with the same protections as the login page. */
  consentPage(
    reply: FastifyReply,
    view: { reference: string; request: AuthorizationRequest; username: string; cookieHeader: string | undefined },
  ): FastifyReply {
    const csrf = this.formToken(reply, view.reference, view.cookieHeader);
    const html = this.ctx.pages.consent(this.ctx.config.issuer, {
      clientName: clientName(view.request),
      username: view.username,
      scopes: view.request.scopes,
      request: view.reference,
      csrf,
    });
    return sendPage(reply, 200, html, { formAction: `'self' ${formActionSource(view.request.redirectUri)}` });
  }

  /** The anti-forgery token of a form for `reference`, bound to this browser's login key (set or renewed in the cookie). */
  private formToken(reply: FastifyReply, reference: string, cookieHeader: string | undefined): string {
    const { key, cookie } = loginKeyFor(cookieHeader);
    reply.header('set-cookie', cookie);
    return formToken(this.ctx, reference, key);
  }
}
