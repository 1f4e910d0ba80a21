import type { FastifyReply } from 'fastify';

/** What a page's Content-Security-Policy allows beyond the base: where its form posts, and its one script. */
export interface PagePolicy {
  /** A CSP source for the form's target; default 'self'. */
  formAction?: string;
  /** The nonce of the page's script (form_post); none: no script runs. */
  scriptNonce?: string;
  /**
   * The page's Referrer-Policy instead of the security headers' `no-referrer`: `same-origin` for a page whose
   * form's POST must carry its `Origin` (under `no-referrer` a browser sends `Origin: null`), which still sends
   * nothing to another site. The page's `<meta name="referrer">` must say the same (`Pages`).
   */
  referrerPolicy?: 'same-origin';
}

/**
 * The Content-Security-Policy of the hosted pages: nothing but the server's own stylesheet and images, forms
 * posting only where the page's form goes, no framing (with X-Frame-Options DENY from the security headers),
 * no <base>; a script only where a page needs one, by nonce, never 'unsafe-inline'.
 */
export function pageCsp(policy: PagePolicy = {}): string {
  return [
    "default-src 'none'",
    ...(policy.scriptNonce !== undefined ? [`script-src 'nonce-${policy.scriptNonce}'`] : []),
    "style-src 'self'",
    "img-src 'self'",
    `form-action ${policy.formAction ?? "'self'"}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/**
 * The CSP source that lets a form post to `uri` (a client's redirect URI, for form_post): its scheme, host,
 * port and path, with no query (a CSP source has none, and the query of the target is not matched), and the
 * characters that would end a CSP source (`;`, `,`, space) percent-encoded. A private-use scheme (a native app)
 * is allowed by its scheme.
 */
export function formActionSource(uri: string): string {
  const url = new URL(uri);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return url.protocol;
  return `${url.origin}${url.pathname}`.replace(/[;, ]/g, (c) => encodeURIComponent(c));
}

/**
 * Sends a hosted page: HTML, its CSP, no caching (the pages carry state and one-time tokens). The other
 * security headers (X-Frame-Options DENY, Referrer-Policy no-referrer, nosniff) come from http/headers.ts on
 * every answer.
 */
export function sendPage(reply: FastifyReply, status: number, html: string, policy: PagePolicy = {}): FastifyReply {
  if (policy.referrerPolicy !== undefined) reply.header('referrer-policy', policy.referrerPolicy);
  return reply
    .code(status)
    .header('content-security-policy', pageCsp(policy))
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(html);
}
