import type { ServerContext } from '../context.js';
import { newPushedRequestReference } from '../security/random.js';
import type { Client } from '../store/types.js';
import { checkAuthorization, type CheckedAuthorization } from './authorize-request.js';
import { OAuthError } from './errors.js';
import type { Form } from './form.js';

/** A pushed request's `request_uri` is this prefix and a random reference (RFC 9126 section 2.2). */
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';

/** Parameters of the pushing client's authentication: they authenticate the push and are never stored with it. */
const CLIENT_AUTH_PARAMS = ['client_secret', 'client_assertion', 'client_assertion_type'];

/** The RFC 9126 section 2.2 answer: where the request waits, and for how many seconds. */
export interface PushedRequest {
  request_uri: string;
  expires_in: number;
}

/**
 * Checks and stores the authorization request `form` that the authenticated `client` pushed (RFC 9126 section
 * 2): checked by the one checker (checkAuthorization, as pushed), refused with the checker's OAuth error, then
 * kept `pushedRequestTtl` seconds in the pending-authorization store under the keyed digest of its whole
 * `request_uri`. A login form's reference, digested bare, therefore never resolves as a request_uri, nor the
 * reverse. `proofJkt`, the key of the push's DPoP proof (RFC 9449 section 10.1), becomes the request's `dpop_jkt`; a
 * `dpop_jkt` sent beside it must be the same.
 */
export async function pushAuthorizationRequest(
  ctx: ServerContext,
  client: Client,
  form: Form,
  proofJkt?: string,
): Promise<PushedRequest> {
  if (!client.grantTypes.includes('authorization_code'))
    throw new OAuthError('unauthorized_client', 'this client may not use the authorization_code grant');
  const named = form.params.get('client_id');
  if (named !== undefined && named !== client.id)
    throw new OAuthError('invalid_request', 'client_id differs from the authenticated client');
  const params = new Map([...form.params].filter(([name]) => !CLIENT_AUTH_PARAMS.includes(name)));
  params.set('client_id', client.id);
  if (proofJkt !== undefined) {
    const named = params.get('dpop_jkt');
    if (named !== undefined && named !== proofJkt)
      throw new OAuthError('invalid_dpop_proof', "dpop_jkt is not the thumbprint of the DPoP proof's key");
    params.set('dpop_jkt', proofJkt);
  }
  const checked = await checkAuthorization(
    { params, duplicates: [...form.duplicates] },
    async (id) => (id === client.id ? client : undefined),
    { pushed: true },
  );
  if (!checked.ok) throw checked.error;
  const requestUri = REQUEST_URI_PREFIX + newPushedRequestReference();
  const now = ctx.now();
  const ttl = ctx.config.pushedRequestTtl;
  await ctx.store.authorizationRequests.create({
    digest: ctx.master.secretDigest(requestUri),
    clientId: client.id,
    params: Object.fromEntries(params),
    createdAt: now,
    expiresAt: now + ttl * 1000,
  });
  return { request_uri: requestUri, expires_in: ttl };
}

/**
 * The pushed request an /authorize query names by `request_uri` (RFC 9126 section 4), taken from the store: its
 * parameters as a form, or the refusal (for the error page: no redirect URI is trusted yet). `client_id` is
 * required and must be the client that pushed it; the request is taken, so a `request_uri` works once (RFC 9126
 * section 4 recommends one-time use; a reload of the authorization page is answered with `invalid_request_uri`,
 * and the client pushes again) and not after `pushedRequestTtl`; every other parameter of the query is ignored
 * (only pushed parameters count). The caller checks the parameters again (checkAuthorization, as pushed), so a
 * client disabled, or a redirect URI unregistered, since the push is refused then.
 */
async function takePushedRequest(
  ctx: ServerContext,
  form: Form,
): Promise<{ ok: true; form: Form } | { ok: false; error: OAuthError }> {
  const refuse = (error: OAuthError) => ({ ok: false as const, error });
  for (const name of ['client_id', 'request_uri'])
    if (form.duplicates.includes(name)) return refuse(new OAuthError('invalid_request', `parameter ${name} is repeated`));
  const clientId = form.params.get('client_id');
  if (!clientId) return refuse(new OAuthError('invalid_request', 'missing parameter client_id'));
  const requestUri = form.params.get('request_uri')!;
  const unknown = refuse(new OAuthError('invalid_request_uri', 'request_uri is unknown, expired or already used'));
  if (!requestUri.startsWith(REQUEST_URI_PREFIX) || requestUri.length > 256) return unknown;
  const digest = ctx.master.secretDigest(requestUri);
  const now = ctx.now();
  // Read before taking: a request_uri presented with another client's id is refused without spending it.
  const pending = await ctx.store.authorizationRequests.get(digest, now);
  if (!pending || pending.clientId !== clientId) return unknown;
  const taken = await ctx.store.authorizationRequests.take(digest, now);
  if (!taken) return unknown;
  return { ok: true, form: { params: new Map(Object.entries(taken.params)), duplicates: [] } };
}

/**
 * The authorization request an /authorize query (or form) makes, checked, with the parameters it was checked
 * with and whether they were pushed: the query's own, or, when it names a `request_uri`, the pushed request it
 * refers to (takePushedRequest), checked as pushed. Refusals before a redirect URI is trusted are for the error
 * page (`redirect` undefined), as checkAuthorization's. The one call /authorize makes.
 */
export async function resolveAuthorizationRequest(
  ctx: ServerContext,
  query: Form,
): Promise<{ checked: CheckedAuthorization; form: Form; pushed: boolean }> {
  const getClient = (id: string) => ctx.store.clients.get(id);
  if (!query.params.has('request_uri'))
    return { checked: await checkAuthorization(query, getClient, { pushed: false }), form: query, pushed: false };
  const taken = await takePushedRequest(ctx, query);
  if (!taken.ok) return { checked: { ok: false, error: taken.error, redirect: undefined }, form: query, pushed: true };
  return { checked: await checkAuthorization(taken.form, getClient, { pushed: true }), form: taken.form, pushed: true };
}
