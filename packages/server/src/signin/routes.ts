import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';
import { SignInAnswers } from './answer.js';
import { assetsRoute } from './assets-route.js';
import { authorizeRoute } from './authorize-route.js';
import { consentRoute } from './consent-route.js';
import { loginRoute } from './login-route.js';

/**
 * The browser-facing sign-in: /authorize, /login, /consent and the pages' assets, over the server's one set of pages
 * (`ctx.pages`, read at start-up: a bad `pageTemplatesDir` or `pageLogoFile` stops the start with a
 * ConfigError naming it, before the store is opened).
 */
export function signInRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const answers = new SignInAnswers(ctx);
  authorizeRoute(app, ctx, answers);
  loginRoute(app, ctx, answers);
  consentRoute(app, ctx, answers);
  assetsRoute(app, ctx.pages);
}
