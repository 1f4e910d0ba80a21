import { isScopeToken } from '@tessera/core';

import type { Client } from '../store/types.js';
import { OAuthError } from './errors.js';
import { param, type Form } from './form.js';

/** The requested scopes (`scope` parameter), checked against the grammar; undefined when absent. */
export function requestedScopes(form: Form): string[] | undefined {
  const scope = param(form, 'scope');
  if (scope === undefined) return undefined;
  const list = scope.split(' ');
  if (!list.every(isScopeToken)) throw new OAuthError('invalid_scope', 'scope is not a space-separated list of scope tokens');
  return [...new Set(list)];
}

/**
 * Scopes granted: the requested ones, each of which must be allowed, or, with no request, everything
 * allowed. `allowed` is the client's scopes (intersected with the user's permissions for user tokens).
 */
export function grantScopes(requested: string[] | undefined, allowed: readonly string[]): string[] {
  if (requested === undefined) return [...allowed];
  const denied = requested.filter((s) => !allowed.includes(s));
  if (denied.length > 0) throw new OAuthError('invalid_scope', 'a requested scope is not allowed for this client or user');
  return requested;
}

/**
 * The audience: `resource` (RFC 8707) or `audience`, one value per request (a repeated parameter is refused
 * with the form), which must be one of the client's audiences; with neither, the client's only audience.
 */
export function grantAudience(form: Form, client: Client): string[] {
  const resource = param(form, 'resource');
  const audience = param(form, 'audience');
  if (resource !== undefined && audience !== undefined && resource !== audience) {
    throw new OAuthError('invalid_request', 'give resource or audience, not both');
  }
  const wanted = resource ?? audience;
  if (wanted === undefined) {
    if (client.audiences.length === 1) return [client.audiences[0]!];
    throw new OAuthError(
      'invalid_target',
      client.audiences.length === 0
        ? 'this client may not request tokens for any audience'
        : 'name the audience with the resource parameter',
    );
  }
  if (!client.audiences.includes(wanted))
    throw new OAuthError('invalid_target', 'the requested audience is not allowed for this client');
  return [wanted];
}
