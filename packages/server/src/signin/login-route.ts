import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';
import { issueAuthorizationCode } from '../oauth/issue-code.js';
import { checkPassword } from '../security/check-password.js';
import { normalizeUsername } from '../security/username.js';
import type { SignInAnswers } from './answer.js';
import { needsConsent } from './consent.js';
import { MESSAGES } from './messages.js';
import { postedSignIn } from './posted-form.js';
import { PASSWORD_SIGN_IN, sessionIdFrom, startBrowserSession } from './session.js';

/** Longest username or password the form takes; longer ones are refused as bad credentials after the same work. */
const MAX_FIELD = 4096;

/**
 * POST /login, the hosted login form, as named steps: postedSignIn (the anti-forgery token checked against
 * the pending request and this browser's login key: a form without it or with a wrong one is refused, no
 * password looked at; the pending request found and checked again); the password checked by
 * checkPassword, whose throttle and audit the password grant shares (one message for an unknown user, a wrong
 * password and a disabled user; a throttled attempt is told when to retry); then a new browser session started
 * (a new id: fixation) and, for a client that needs no consent, the pending request taken (once), the code
 * issued and the user sent back to the client; otherwise the consent page, the request still pending.
 */
export function loginRoute(app: FastifyInstance, ctx: ServerContext, answers: SignInAnswers): void {
  app.post('/login', async (req, reply) => {
    const opened = await postedSignIn(ctx, answers, req, reply);
    if (!opened.ok) return opened.answer;
    const { form, reference, digest, request, target } = opened.posted;

    const username = form.params.get('username') ?? '';
    const password = form.params.get('password') ?? '';
    const again = (status: number, error: string) =>
      answers.loginPage(reply, status, {
        reference,
        request,
        username: username.length <= MAX_FIELD ? username : '',
        error,
        cookieHeader: req.headers.cookie,
      });
    if (username === '' || password === '') return again(400, MESSAGES.login.missingFields);
    const fits = username.length <= MAX_FIELD && password.length <= MAX_FIELD;
    const checkedPassword = await checkPassword(
      ctx,
      request.client.id,
      fits ? normalizeUsername(username) : undefined,
      fits ? password : '',
      req.ip,
    );
    if (!checkedPassword.ok) {
      if (checkedPassword.reason === 'bad_credentials') return again(400, MESSAGES.login.badCredentials);
      const seconds = Math.ceil(checkedPassword.retryAfterMs / 1000);
      reply.header('retry-after', String(seconds));
      return again(429, MESSAGES.login.throttled(Math.ceil(seconds / 60)));
    }

    const user = checkedPassword.user;
    // A third-party client the user has not allowed yet: the pending request waits for the consent page.
    const consent = await needsConsent(ctx, request, user.id);
    if (!consent && !(await ctx.store.authorizationRequests.take(digest, ctx.now())))
      return answers.errorPage(reply, 400, MESSAGES.error.expired);
    const started = await startBrowserSession(ctx, user.id, sessionIdFrom(req.headers.cookie));
    reply.header('set-cookie', started.cookie);
    if (consent)
      return answers.consentPage(reply, { reference, request, username: user.username, cookieHeader: req.headers.cookie });
    const code = await issueAuthorizationCode(ctx, request, user, started.session, PASSWORD_SIGN_IN);
    return answers.toClient(reply, target, { code }, 303);
  });
}
