import { timingSafeEqual } from 'node:crypto';

import type { ServerContext } from '../context.js';
import { cookieValue, hostCookie } from '../http/cookies.js';
import type { Form } from '../oauth/form.js';
import { newLoginKey, newRequestReference } from '../security/random.js';
import type { PendingAuthorization } from '../store/authorization-requests.js';

/** A checked authorization request waits this long for the user to sign in. */
export const PENDING_LIFETIME_S = 600;

/**
 * The login form's cookie: a random key of this browser, to which the form's anti-forgery token is bound. It
 * lives as long as a pending request and is shared by the browser's tabs.
 */
export const LOGIN_COOKIE = '__Host-tessera-login';

const REFERENCE_SHAPE = /^tsq_[A-Za-z0-9_-]{43}$/;

/** The browser's login key (from its cookie), if it has one. */
export function loginKeyFrom(cookieHeader: string | undefined): string | undefined {
  return cookieValue(cookieHeader, LOGIN_COOKIE, /^tsk_[A-Za-z0-9_-]{43}$/);
}

/** The browser's login key (a new one if it has none), and the Set-Cookie that keeps it for the pending request's life. */
export function loginKeyFor(cookieHeader: string | undefined): { key: string; cookie: string } {
  const key = loginKeyFrom(cookieHeader) ?? newLoginKey();
  return { key, cookie: hostCookie(LOGIN_COOKIE, key, PENDING_LIFETIME_S) };
}

/**
 * The login form's anti-forgery token: a keyed digest (the master key's) of the pending request's reference
 * and the browser's login key. A page elsewhere can neither read the key (an HttpOnly `__Host-` cookie) nor
 * make the token for its own pending request and the victim's key, so a forged login form (login CSRF: the
 * victim signed in as the attacker) is refused.
 */
export function formToken(ctx: ServerContext, reference: string, loginKey: string): string {
  return ctx.master.secretDigest(`tessera login form\0${reference}\0${loginKey}`);
}

/** Whether the posted token is the one for this reference and browser, compared in constant time. */
function formTokenValid(ctx: ServerContext, reference: string, loginKey: string, token: string): boolean {
  const expected = Buffer.from(formToken(ctx, reference, loginKey));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The pending request's reference a form of the sign-in pages (login, consent) posted, if the form also
 * carries the anti-forgery token for it and this browser's login key; undefined otherwise (refuse the form
 * before anything else is looked at).
 */
export function genuineReference(ctx: ServerContext, form: Form, cookieHeader: string | undefined): string | undefined {
  const reference = form.params.get('request');
  const loginKey = loginKeyFrom(cookieHeader);
  const token = form.params.get('csrf');
  if (reference === undefined || !REFERENCE_SHAPE.test(reference) || loginKey === undefined || token === undefined)
    return undefined;
  return formTokenValid(ctx, reference, loginKey, token) ? reference : undefined;
}

/**
 * Marks a pending request whose parameters were pushed (RFC 9126): a client that must push its requests is
 * served when the login completes. Not a parameter name of any OAuth request, and never taken from one: a request
 * that names it has it removed before it is stored.
 */
const PUSHED_MARK = 'tessera:pushed';

/**
 * Stores a checked authorization request's parameters until the user has signed in, under a random reference
 * (the store keeps its keyed digest), with whether they were pushed. The login route checks them again when it
 * takes them.
 */
export async function savePendingRequest(ctx: ServerContext, form: Form, pushed: boolean): Promise<string> {
  const reference = newRequestReference();
  const now = ctx.now();
  const params = Object.fromEntries([...form.params].filter(([name]) => name !== PUSHED_MARK));
  if (pushed) params[PUSHED_MARK] = '1';
  const pending: PendingAuthorization = {
    digest: ctx.master.secretDigest(reference),
    clientId: form.params.get('client_id') ?? '',
    params,
    createdAt: now,
    expiresAt: now + PENDING_LIFETIME_S * 1000,
  };
  await ctx.store.authorizationRequests.create(pending);
  return reference;
}

/** The parameters of a pending request as a form again, for checkAuthorization, and whether they were pushed. */
export function pendingForm(pending: PendingAuthorization): { form: Form; pushed: boolean } {
  const params = new Map(Object.entries(pending.params));
  const pushed = params.get(PUSHED_MARK) === '1';
  params.delete(PUSHED_MARK);
  return { form: { params, duplicates: [] }, pushed };
}
