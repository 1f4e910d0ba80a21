import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';
import { bodyForm } from '../oauth/form.js';
import { issueAuthorizationCode } from '../oauth/issue-code.js';
import { checkPassword } from '../security/check-password.js';
import { normalizeUsername } from '../security/username.js';
import type { SignInAnswers } from './answer.js';
import { checkSignIn } from './authorize-route.js';
import { formTokenValid, loginKeyFrom, pendingForm, referenceFrom } from './login-form.js';
import { MESSAGES } from './messages.js';
import { sessionIdFrom, startBrowserSession } from './session.js';

/** Longest username or password the form takes; longer ones are refused as bad credentials after the same work. */
const MAX_FIELD = 4096;

/**
 * POST /login, the hosted login form, as named steps: the anti-forgery token checked against the pending
 * request and this browser's login key (a form without it or with a wrong one is refused, no password looked
 * at); the pending request found and checked again (the client may have changed since); the password checked by
 * checkPassword, whose throttle and audit the password grant shares (one message for an unknown user, a wrong
 * password and a disabled user; a throttled attempt is told when to retry); then the pending request taken
 * (once), a new browser session started (a new id: fixation), the code issued and the user sent back to the
 * client.
 */
export function loginRoute(app: FastifyInstance, ctx: ServerContext, answers: SignInAnswers): void {
  app.post('/login', async (req, reply) => {
    const form = bodyForm(req.body);
    const reference = referenceFrom(form);
    const loginKey = loginKeyFrom(req.headers.cookie);
    const token = form.params.get('csrf');
    if (
      reference === undefined ||
      loginKey === undefined ||
      token === undefined ||
      !formTokenValid(ctx, reference, loginKey, token)
    )
      return answers.errorPage(reply, 403, MESSAGES.error.forgedForm);

    const digest = ctx.master.secretDigest(reference);
    const pending = await ctx.store.authorizationRequests.get(digest, ctx.now());
    if (!pending) return answers.errorPage(reply, 400, MESSAGES.error.expired);
    const checked = await checkSignIn(ctx, pendingForm(pending));
    if (!checked.ok) return answers.refusal(reply, checked.error, checked.target, 303);
    const { request, target } = checked;

    const username = form.params.get('username') ?? '';
    const password = form.params.get('password') ?? '';
    const again = (status: number, error: string) =>
      answers.loginPage(reply, status, {
        reference,
        clientName: request.client.name || request.client.id,
        redirectUri: request.redirectUri,
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

    if (!(await ctx.store.authorizationRequests.take(digest, ctx.now())))
      return answers.errorPage(reply, 400, MESSAGES.error.expired);
    const started = await startBrowserSession(ctx, checkedPassword.user.id, sessionIdFrom(req.headers.cookie));
    reply.header('set-cookie', started.cookie);
    const code = await issueAuthorizationCode(ctx, request, checkedPassword.user, started.session.authTime);
    return answers.toClient(reply, target, { code }, 303);
  });
}
