import type { FastifyInstance } from 'fastify';

import type { ServerContext } from '../context.js';
import { SignInAnswers } from './answer.js';
import { assetsRoute } from './assets-route.js';
import { authorizeRoute } from './authorize-route.js';
import { loginRoute } from './login-route.js';
import { Pages } from './pages.js';

/**
 * The browser-facing sign-in: /authorize, /login and the pages' assets, over one set of pages read at
 * start-up (a bad `pageTemplatesDir` or `pageLogoFile` stops the start with a ConfigError naming it).
 */
export function signInRoutes(app: FastifyInstance, ctx: ServerContext): Pages {
  const pages = new Pages(ctx.config);
  const answers = new SignInAnswers(ctx, pages);
  authorizeRoute(app, ctx, answers);
  loginRoute(app, ctx, answers);
  assetsRoute(app, pages);
  return pages;
}
