import { OAuthError } from './errors.js';

/** A parsed application/x-www-form-urlencoded body: each parameter once (RFC 6749 section 3.2). */
export interface Form {
  params: Map<string, string>;
  /** Names that appeared more than once. */
  duplicates: string[];
}

export function parseForm(body: string): Form {
  const params = new Map<string, string>();
  const duplicates = new Set<string>();
  for (const [k, v] of new URLSearchParams(body)) {
    if (params.has(k)) duplicates.add(k);
    else params.set(k, v);
  }
  return { params, duplicates: [...duplicates] };
}

/**
 * A POST's form as the content type parser made it (app.ts: one of each application/x-www-form-urlencoded
 * body), or an empty one, whose missing parameters the caller then refuses.
 */
/** The query string of a GET request as a form (no query: an empty one). */
export function queryForm(url: string): Form {
  const q = url.indexOf('?');
  return parseForm(q === -1 ? '' : url.slice(q + 1));
}

export function bodyForm(body: unknown): Form {
  const form = body as Form | undefined;
  return form && form.params instanceof Map ? form : { params: new Map(), duplicates: [] };
}

/** The form of a token-endpoint style request; refuses duplicates and empty values of the named parameters. */
export function requireForm(body: unknown): Form {
  const form = body as Form | undefined;
  if (!form || !(form.params instanceof Map))
    throw new OAuthError('invalid_request', 'the request body must be application/x-www-form-urlencoded');
  if (form.duplicates.length > 0) throw new OAuthError('invalid_request', `parameter ${form.duplicates[0]} is repeated`);
  return form;
}

export function param(form: Form, name: string, required: true): string;
export function param(form: Form, name: string, required?: false): string | undefined;
export function param(form: Form, name: string, required = false): string | undefined {
  const v = form.params.get(name);
  if (v === undefined || v === '') {
    if (required) throw new OAuthError('invalid_request', `missing parameter ${name}`);
    return undefined;
  }
  if (v.length > 4096) throw new OAuthError('invalid_request', `parameter ${name} is too long`);
  return v;
}
