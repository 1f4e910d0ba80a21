import type { FastifyReply, FastifyRequest } from 'fastify';

import type { ServerContext } from '../context.js';
import type { AuthorizationRequest, RedirectTarget } from '../oauth/authorize-request.js';
import { bodyForm, type Form } from '../oauth/form.js';
import type { SignInAnswers } from './answer.js';
import { checkSignIn } from './authorize-route.js';
import { genuineReference, pendingForm } from './login-form.js';
import { MESSAGES } from './messages.js';

/** A form of the sign-in pages that passed the first steps: its pending request, checked again. */
export interface PostedSignIn {
  form: Form;
  reference: string;
  /** The reference's keyed digest, the pending request's key in the store. */
  digest: string;
  request: AuthorizationRequest;
  target: RedirectTarget;
  /** When the pending request was stored: a login after it was made for this request. */
  pendingSince: number;
}

/**
 * The first steps of every form the sign-in pages post (/login, /consent): the anti-forgery token (without
 * it, or with another browser's, 403 and nothing else looked at), the pending request it names (gone: the
 * expired page), that request checked again (the client may have changed since: its refusal). Either the
 * posted sign-in, or the answer already sent.
 */
export async function postedSignIn(
  ctx: ServerContext,
  answers: SignInAnswers,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<{ ok: true; posted: PostedSignIn } | { ok: false; answer: FastifyReply }> {
  const form = bodyForm(req.body);
  const reference = genuineReference(ctx, form, req.headers.cookie);
  if (reference === undefined) return { ok: false, answer: answers.errorPage(reply, 403, MESSAGES.error.forgedForm) };
  const digest = ctx.master.secretDigest(reference);
  const pending = await ctx.store.authorizationRequests.get(digest, ctx.now());
  if (!pending) return { ok: false, answer: answers.errorPage(reply, 400, MESSAGES.error.expired) };
  const saved = pendingForm(pending);
  const checked = await checkSignIn(ctx, saved.form, saved.pushed);
  if (!checked.ok) return { ok: false, answer: answers.refusal(reply, checked.error, checked.target, 303) };
  return {
    ok: true,
    posted: { form, reference, digest, request: checked.request, target: checked.target, pendingSince: pending.createdAt },
  };
}
