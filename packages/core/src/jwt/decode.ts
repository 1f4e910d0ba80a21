import { isUtf8 } from 'node:buffer';

import { JsonSyntaxError, TokenMalformedError } from '../errors.js';
import { decodeBase64url } from '../lib/base64url.js';
import { parseStrictJson } from '../lib/json.js';
import { DEFAULT_MAX_JSON_DEPTH, DEFAULT_MAX_TOKEN_LENGTH } from './verify.js';

export interface DecodedToken {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** Signature length in bytes. */
  signatureBytes: number;
}

/**
 * Decodes a compact JWT WITHOUT verifying it: nothing in the result can be trusted. For inspection and
 * debugging only (`tessera token decode`). The same strict parsing rules as verification apply.
 */
export function decodeUnverified(token: string): DecodedToken {
  if (typeof token !== 'string' || token.length > DEFAULT_MAX_TOKEN_LENGTH)
    throw new TokenMalformedError('size', 'not a token of acceptable size');
  const parts = token.split('.');
  if (parts.length !== 3) throw new TokenMalformedError('segments', 'token must have exactly three segments');
  const [h, p, s] = parts as [string, string, string];
  const signature = decodeBase64url(s);
  if (signature === undefined) throw new TokenMalformedError('base64url', 'signature is not canonical base64url');
  return { header: object(h, 'header'), payload: object(p, 'payload'), signatureBytes: signature.length };
}

function object(segment: string, what: string): Record<string, unknown> {
  const bytes = decodeBase64url(segment);
  if (bytes === undefined) throw new TokenMalformedError('base64url', `${what} is not canonical base64url`);
  if (!isUtf8(bytes)) throw new TokenMalformedError('utf8', `${what} is not valid UTF-8`);
  let v: unknown;
  try {
    v = parseStrictJson(bytes.toString('utf8'), DEFAULT_MAX_JSON_DEPTH);
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw new TokenMalformedError('json', `${what}: ${err.message}`);
    throw err;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new TokenMalformedError('json', `${what} must be a JSON object`);
  return v as Record<string, unknown>;
}
