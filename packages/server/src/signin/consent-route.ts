import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';
import { OAuthError } from '../oauth/errors.js';
import { issueAuthorizationCode } from '../oauth/issue-code.js';
import type { SignInAnswers } from './answer.js';
import { satisfies } from './authorize-route.js';
import { rememberConsent } from './consent.js';
import { MESSAGES } from './messages.js';
import { postedSignIn } from './posted-form.js';
import { currentBrowserSession, PASSWORD_SIGN_IN, sessionIdFrom } from './session.js';

/**
 * POST /consent, the consent page's Allow / Deny, as named steps: postedSignIn (the anti-forgery token as on
 * the login form, the pending request found and checked again); the browser's live
 * session (whose user is asked); the pending request taken (once); then Deny answers `access_denied` to the
 * client, and Allow remembers the scopes for this user and client and sends the code. Anything but Allow is
 * a denial.
 */
export function consentRoute(app: FastifyInstance, ctx: ServerContext, answers: SignInAnswers): void {
  app.post('/consent', async (req, reply) => {
    const opened = await postedSignIn(ctx, answers, req, reply);
    if (!opened.ok) return opened.answer;
    const { form, digest, request, target, pendingSince } = opened.posted;
    const signedIn = await currentBrowserSession(ctx, sessionIdFrom(req.headers.cookie));
    if (!signedIn) return answers.errorPage(reply, 400, MESSAGES.error.expired);
    // Only a request that reached the consent step: a third-party client's, with a session that answers it (a
    // login made for this request, or one within its prompt and max_age). The login page's form posted here
    // instead would skip the password the request asked for.
    const answered = signedIn.session.authTime >= pendingSince || satisfies(signedIn.session, request, ctx.now());
    if (request.client.firstParty || !answered) return answers.errorPage(reply, 403, MESSAGES.error.forgedForm);
    if (!(await ctx.store.authorizationRequests.take(digest, ctx.now())))
      return answers.errorPage(reply, 400, MESSAGES.error.expired);

    const { user, session } = signedIn;
    const allowed = form.params.get('decision') === 'allow';
    await ctx.audit.record({
      type: allowed ? 'consent.granted' : 'consent.denied',
      outcome: allowed ? 'success' : 'info',
      subject: user.id,
      clientId: request.client.id,
      ip: req.ip,
      data: { scopes: request.scopes },
    });
    if (!allowed)
      return answers.toClient(reply, target, { error: new OAuthError('access_denied', 'the user denied the request') }, 303);
    await rememberConsent(ctx, request, user.id);
    const code = await issueAuthorizationCode(ctx, request, user, session, PASSWORD_SIGN_IN);
    return answers.toClient(reply, target, { code }, 303);
  });
}
