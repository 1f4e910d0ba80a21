import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { ConfigError } from '@tessera/core';

import { ADMIN_SCOPE, adminAudience } from '../admin/guard.js';
import { contextOf } from '../context.js';
import { createServer } from '../server.js';
import { registerClient } from './clients.js';
import { acceptedUsername, createUserAccount } from './users.js';

export const CONFIG_FILE = 'tessera.json';
export const ADMIN_ROLE = 'admin';
export const ADMIN_CLIENT = 'tessera-admin';

export interface InitOptions {
  dir: string;
  issuer?: string;
  port?: number;
  adminUsername?: string;
  /** Extra settings written to the config file. */
  settings?: Record<string, unknown>;
}

/** What `tessera init --json` prints: the admin credentials, shown once (snake_case like every Tessera JSON). */
export interface InitResult {
  config_file: string;
  issuer: string;
  admin_user: { username: string; password: string };
  admin_client: { client_id: string; client_secret: string; scope: string; audience: string };
}

/**
 * Sets up a data folder: config file, master key (0600), SQLite database (migrated), signing keys, an
 * `admin` role granting tessera:admin, a first admin user and an admin client. The credentials are returned
 * once and stored only as hashes and digests. Refuses a folder that already holds a config file.
 */
export async function initialize(options: InitOptions): Promise<InitResult> {
  // The folder as the caller named it, made absolute once: the settings below resolve against it.
  const dir = resolve(options.dir);
  const configFile = join(dir, CONFIG_FILE);
  if (existsSync(configFile)) throw new ConfigError('dir', `${options.dir} is already initialised (${CONFIG_FILE} exists)`);
  // Checked before anything is written; createUserAccount below normalises it the same way.
  const username = acceptedUsername(options.adminUsername ?? 'admin');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const settings = {
    dataDir: '.',
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...options.settings,
  };
  const server = await createServer({
    file: undefined,
    cwd: dir,
    overrides: { ...(settings as object), dataDir: dir, logLevel: 'silent' },
  });
  try {
    const { store, master } = contextOf(server);
    const now = contextOf(server).now();
    const issuer = server.config.issuer;
    await store.roles.put({ name: ADMIN_ROLE, permissions: [ADMIN_SCOPE] });
    const password = randomBytes(18).toString('base64url');
    await createUserAccount(store, { username, password, roles: [ADMIN_ROLE] }, now);
    const { secret } = await registerClient(
      store,
      master,
      {
        id: ADMIN_CLIENT,
        name: 'Tessera administration',
        grantTypes: ['client_credentials', 'password', 'refresh_token'],
        firstParty: true,
        scopes: [ADMIN_SCOPE],
        audiences: [adminAudience(issuer)],
      },
      now,
    );
    writeFileSync(configFile, JSON.stringify(settings, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    return {
      config_file: configFile,
      issuer,
      admin_user: { username, password },
      admin_client: { client_id: ADMIN_CLIENT, client_secret: secret!, scope: ADMIN_SCOPE, audience: adminAudience(issuer) },
    };
  } finally {
    await server.close();
  }
}
