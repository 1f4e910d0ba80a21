import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ConfigError } from '@tessera/core';
import Mustache from 'mustache';

import type { Config } from '../config/schema.js';
import { MESSAGES } from './messages.js';

/** The built-in templates, the stylesheet and the logo: packages/server/templates, shipped with the package. */
const BUILT_IN = fileURLToPath(new URL('../../templates/', import.meta.url));

/** The files an operator's `pageTemplatesDir` may replace. `layout.html` wraps each page (`{{> content}}`). */
export const TEMPLATE_FILES = [
  'layout.html',
  'login.html',
  'consent.html',
  'error.html',
  'logged-out.html',
  'logout-confirm.html',
  'form-post.html',
] as const;
export const STYLESHEET_FILE = 'tessera.css';
type TemplateFile = (typeof TEMPLATE_FILES)[number];

const LOGO_TYPES: Record<string, string> = {
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
};
const MAX_LOGO_BYTES = 1_048_576;

/** A file served under /assets: its bytes, type, and a version (digest prefix) for its URL and ETag. */
export interface Asset {
  body: Buffer;
  type: string;
  version: string;
}

/** What the login page shows: the client's name, a message, the username so far, and the form's hidden fields. */
export interface LoginView {
  clientName: string;
  error?: string;
  username: string;
  request: string;
  csrf: string;
}

/**
 * The hosted pages, rendered from Mustache templates read once at start-up: the built-in ones
 * (packages/server/templates) or the operator's (`pageTemplatesDir`), with every text from messages.ts and
 * every value HTML-escaped by Mustache's `{{name}}` (the built-in templates use no unescaped `{{{name}}}`).
 * The stylesheet and the logo are served by the server itself (`/assets/...`), so the pages' CSP allows only
 * 'self' for styles and images. `base` is the issuer: the pages' links are absolute under it.
 */
export class Pages {
  readonly stylesheet: Asset;
  readonly logo: Asset;
  private readonly templates: Record<TemplateFile, string>;

  constructor(config: Pick<Config, 'pageTemplatesDir' | 'pageLogoFile'>) {
    const dir = config.pageTemplatesDir;
    if (dir !== undefined && !(existsSync(dir) && statSync(dir).isDirectory()))
      throw new ConfigError('pageTemplatesDir', 'is not a folder');
    const read = (file: string): string => {
      const own = dir !== undefined ? join(dir, file) : undefined;
      return readFileSync(own !== undefined && existsSync(own) ? own : join(BUILT_IN, file), 'utf8');
    };
    this.templates = Object.fromEntries(
      TEMPLATE_FILES.map((file) => {
        const text = read(file);
        try {
          Mustache.parse(text);
        } catch (err) {
          throw new ConfigError('pageTemplatesDir', `${file} is not a valid template: ${(err as Error).message}`);
        }
        return [file, text];
      }),
    ) as Record<TemplateFile, string>;
    this.stylesheet = asset(Buffer.from(read(STYLESHEET_FILE)), 'text/css; charset=utf-8');
    this.logo = logoAsset(config.pageLogoFile);
  }

  login(base: string, view: LoginView): string {
    const t = MESSAGES.login;
    return this.render(base, 'login.html', {
      title: t.title,
      intro: t.intro(view.clientName),
      error: view.error,
      usernameLabel: t.username,
      passwordLabel: t.password,
      submit: t.submit,
      action: `${base}/login`,
      username: view.username,
      request: view.request,
      csrf: view.csrf,
    });
  }

  /**
   * The consent page of a third-party client: what it asks for in plain words (MESSAGES.consent.scopes, or the
   * scope's name), and Allow / Deny posting the pending request's reference and anti-forgery token.
   */
  consent(base: string, view: { clientName: string; username: string; scopes: string[]; request: string; csrf: string }): string {
    const t = MESSAGES.consent;
    return this.render(base, 'consent.html', {
      title: t.title,
      intro: t.intro(view.clientName),
      signedInAs: t.signedInAs(view.username),
      scopesIntro: t.scopesIntro,
      scopes: view.scopes.length > 0 ? view.scopes.map((s) => t.scopes[s] ?? t.otherScope(s)) : [t.noScopes],
      allow: t.allow,
      deny: t.deny,
      action: `${base}/consent`,
      request: view.request,
      csrf: view.csrf,
    });
  }

  /**
   * The error page: a message from MESSAGES, and the technical reason for the application's developers; its
   * title MESSAGES.error.title (sign-in) unless given (MESSAGES.logout.refusedTitle for a refused sign-out).
   */
  error(base: string, message: string, details?: string, title: string = MESSAGES.error.title): string {
    return this.render(base, 'error.html', { title, message, details, detailsLabel: MESSAGES.error.details });
  }

  loggedOut(base: string): string {
    return this.render(base, 'logged-out.html', { ...MESSAGES.loggedOut });
  }

  /**
   * The question of RP-initiated logout to a signed-in user: a form posting the logout request's parameters
   * (`fields`) back to /logout with `confirm=yes`. /logout takes the POST only with the issuer's `Origin`, so
   * the page's referrer policy is `same-origin` (sent with `sendPage`'s `referrerPolicy` to match).
   */
  logoutConfirm(base: string, fields: [string, string][]): string {
    const t = MESSAGES.logout;
    return this.render(base, 'logout-confirm.html', {
      title: t.confirmTitle,
      message: t.confirmMessage,
      submit: t.confirmSubmit,
      action: `${base}/logout`,
      fields: fields.map(([name, value]) => ({ name, value })),
      referrerPolicy: 'same-origin',
    });
  }

  /**
   * response_mode=form_post (OAuth 2.0 Form Post Response Mode): a form of hidden fields posted to the client's
   * redirect URI by a script allowed by its nonce, or without JavaScript by the user's press on Continue.
   */
  formPost(base: string, action: string, fields: [string, string][], nonce: string): string {
    const t = MESSAGES.formPost;
    return this.render(base, 'form-post.html', {
      ...t,
      action,
      fields: fields.map(([name, value]) => ({ name, value })),
      nonce,
    });
  }

  private render(base: string, file: Exclude<TemplateFile, 'layout.html'>, view: Record<string, unknown>): string {
    return Mustache.render(
      this.templates['layout.html'],
      {
        lang: MESSAGES.lang,
        logoAlt: MESSAGES.logoAlt,
        referrerPolicy: 'no-referrer',
        stylesheet: `${base}/assets/tessera.css?v=${this.stylesheet.version}`,
        logo: `${base}/assets/logo?v=${this.logo.version}`,
        ...view,
      },
      { content: this.templates[file] },
    );
  }
}

function asset(body: Buffer, type: string): Asset {
  return { body, type, version: createHash('sha256').update(body).digest('base64url').slice(0, 16) };
}

function logoAsset(file: string | undefined): Asset {
  if (file === undefined) return asset(readFileSync(join(BUILT_IN, 'logo.svg')), LOGO_TYPES['.svg']!);
  const type = LOGO_TYPES[extname(file).toLowerCase()];
  if (type === undefined) throw new ConfigError('pageLogoFile', `must end in one of ${Object.keys(LOGO_TYPES).join(', ')}`);
  if (!existsSync(file) || !statSync(file).isFile()) throw new ConfigError('pageLogoFile', 'is not a file');
  if (statSync(file).size > MAX_LOGO_BYTES) throw new ConfigError('pageLogoFile', 'is larger than 1 MiB');
  return asset(readFileSync(file), type);
}
