import { existsSync } from 'node:fs';
import { join } from 'node:path';

import type * as ServerEntry from '@tessera/server';
import type { TesseraServer } from '@tessera/server';
import type * as ServerInternal from '@tessera/server/internal';

import { UsageError } from './errors.js';

export const LOCAL_OPTIONS = {
  config: { type: 'string' },
  dir: { type: 'string' },
} as const;

/** The flags of every command on the local installation, as their usage lines show them. */
export const LOCAL_USAGE = '[--json] [--config FILE | --dir DIR]';

/** @tessera/server's public entry and its `./internal` subpath in one object. */
export type ServerModule = typeof ServerEntry & typeof ServerInternal;

/** The @tessera/server module, loaded only by the commands that need it (it is heavy to start). */
export async function serverModule(): Promise<ServerModule> {
  const [entry, internal] = await Promise.all([import('@tessera/server'), import('@tessera/server/internal')]);
  return { ...entry, ...internal };
}

/**
 * The config file of a data folder: --config FILE, else DIR/tessera.json (DIR from --dir, default .tessera;
 * the name is the server's CONFIG_FILE, the one `tessera init` writes).
 */
export function configFile(values: { config?: string; dir?: string }, mod: Pick<ServerModule, 'CONFIG_FILE'>): string {
  if (values.config !== undefined && values.dir !== undefined) throw new UsageError('give --config or --dir, not both');
  const file = values.config ?? join(values.dir ?? '.tessera', mod.CONFIG_FILE);
  if (!existsSync(file)) throw new UsageError(`${file} not found: run "tessera init" first (or pass --config / --dir)`);
  return file;
}

/**
 * Opens the local installation (store, master key, signing keys) without listening, runs `fn` with the
 * server, whose `server.admin` is the admin service every change goes through (its validation, its audit
 * record with the server's clock, its revocations), and the server module (the JSON views, CLI_ACTOR);
 * closes it.
 * Works beside a running server on the same SQLite file.
 */
export async function withLocal<T>(
  values: { config?: string; dir?: string },
  fn: (server: TesseraServer, admin: ServerModule) => Promise<T>,
): Promise<T> {
  const mod = await serverModule();
  const server = await mod.createServer({ file: configFile(values, mod), overrides: { logLevel: 'silent' }, tickMs: 3_600_000 });
  try {
    return await fn(server, mod);
  } finally {
    await server.close();
  }
}
