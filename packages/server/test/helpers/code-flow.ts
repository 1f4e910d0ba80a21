import { createHash, randomBytes } from 'node:crypto';

import {
  contextOf,
  issueAuthorizationCode,
  startBrowserSession,
  type AuthorizationRequest,
  type BrowserSession,
} from '@tessera/server/internal';

import type { TestServer } from './server.js';

/** What a code is issued for: the client, the user, the checked request's redirect URI, scopes and audience. */
export interface CodeFor {
  clientId: string;
  userId: string;
  redirectUri: string;
  scopes: string[];
  audience: string[];
  /** The browser session the user signed in through; a new one when absent. */
  session?: Pick<BrowserSession, 'id' | 'authTime'>;
  /** DPoP: the key thumbprint the request bound the code to (`dpop_jkt`). */
  dpopJkt?: string;
}

/**
 * An authorization code issued as /authorize issues it (issueAuthorizationCode: digest only, 60 s, bound to the
 * browser session), for a checked request with a fresh S256 verifier. Returns the code, the verifier and the session.
 */
export async function issueCode(
  t: TestServer,
  f: CodeFor,
): Promise<{ code: string; verifier: string; session: Pick<BrowserSession, 'id' | 'authTime'> }> {
  const ctx = contextOf(t.server);
  const verifier = randomBytes(32).toString('base64url');
  const request: AuthorizationRequest = {
    client: (await ctx.store.clients.get(f.clientId))!,
    redirectUri: f.redirectUri,
    responseMode: 'query',
    state: undefined,
    scopes: f.scopes,
    audience: f.audience,
    codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
    ...(f.dpopJkt !== undefined ? { dpopJkt: f.dpopJkt } : {}),
  };
  const session = f.session ?? (await startBrowserSession(ctx, f.userId, undefined)).session;
  const code = await issueAuthorizationCode(ctx, request, (await ctx.store.users.getById(f.userId))!, session);
  return { code, verifier, session };
}
