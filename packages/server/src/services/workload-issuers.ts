import type { ServerContext } from '../context.js';
import { StoreConflictError } from '../store/errors.js';
import {
  parseWorkloadIssuer,
  workloadIssuerView,
  type WorkloadIssuer,
  type WorkloadIssuerInput,
  type WorkloadIssuerView,
} from '../workload/issuer.js';
import type { Actor } from './actor.js';
import { AdminInputError, ConflictError, NotFoundError } from './errors.js';

/**
 * Trusted workload issuers as the admin service manages them: those of the config file (`workloadIssuers`,
 * read-only here: the file is their one source) and those added through the admin API or the CLI (the store).
 */

/** Where an issuer comes from: the config file (`config`) or the admin service (`admin`, stored). */
export type WorkloadIssuerSource = 'config' | 'admin';

export type SourcedWorkloadIssuer = WorkloadIssuer & { readonly source: WorkloadIssuerSource };

/** An issuer as the admin API and `tessera issuers --json` show it: its wire form and where it comes from. */
export function workloadIssuerRecordView(i: SourcedWorkloadIssuer): WorkloadIssuerView & { source: WorkloadIssuerSource } {
  // A config-file issuer is never stored: it has no creation or change time of its own.
  const times = i.source === 'config' ? { createdAt: undefined, updatedAt: undefined } : {};
  return { ...workloadIssuerView({ ...i, ...times }), source: i.source };
}

const fromConfig = (i: WorkloadIssuer): SourcedWorkloadIssuer => ({ ...i, source: 'config' });
const fromStore = (i: WorkloadIssuer): SourcedWorkloadIssuer => ({ ...i, source: 'admin' });

function readOnly(name: string): ConflictError {
  return new ConflictError(
    `the workload issuer ${name} is set in the config file (workloadIssuers): change it there, not through the admin service`,
  );
}

/** Refuses an issuer whose name or issuer one of the config file's holds. */
function assertNotConfigured(ctx: ServerContext, i: WorkloadIssuerInput): void {
  const configured = ctx.config.workloadIssuers;
  if (configured.some((c) => c.name === i.name)) throw readOnly(i.name);
  const same = configured.find((c) => c.issuer === i.issuer);
  if (same !== undefined) throw new ConflictError(`the issuer ${i.issuer} is the config file's workload issuer ${same.name}`);
}

/** Every rule must name an existing `workload_identity` client: a rule for anything else could never authenticate. */
async function assertRuleClients(ctx: ServerContext, i: WorkloadIssuerInput): Promise<void> {
  for (const [n, rule] of i.rules.entries()) {
    const client = await ctx.store.clients.get(rule.client);
    if (client === undefined) throw new AdminInputError(`rules[${n}].client: no client ${rule.client}`);
    if (client.authMethod !== 'workload_identity')
      throw new AdminInputError(
        `rules[${n}].client: ${rule.client} authenticates by ${client.authMethod}, not workload_identity`,
      );
  }
}

function conflict(i: WorkloadIssuerInput): ConflictError {
  return new ConflictError(`a workload issuer named ${i.name} or with the issuer ${i.issuer} exists`);
}

/** The config file's issuers, then the stored ones, by name. */
export async function listWorkloadIssuers(ctx: ServerContext): Promise<SourcedWorkloadIssuer[]> {
  const all = [...ctx.config.workloadIssuers.map(fromConfig), ...(await ctx.store.workloadIssuers.list()).map(fromStore)];
  return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function getWorkloadIssuer(ctx: ServerContext, name: string): Promise<SourcedWorkloadIssuer> {
  const configured = ctx.config.workloadIssuers.find((c) => c.name === name);
  if (configured !== undefined) return fromConfig(configured);
  const stored = await ctx.store.workloadIssuers.get(name);
  if (stored === undefined) throw new NotFoundError('workload issuer', name);
  return fromStore(stored);
}

/** Adds an issuer given in its wire form (parseWorkloadIssuer). */
export async function addWorkloadIssuer(ctx: ServerContext, by: Actor, input: unknown): Promise<SourcedWorkloadIssuer> {
  const parsed = parseWorkloadIssuer(input);
  assertNotConfigured(ctx, parsed);
  await assertRuleClients(ctx, parsed);
  const now = ctx.now();
  const issuer: WorkloadIssuer = { ...parsed, createdAt: now, updatedAt: now };
  try {
    await ctx.store.workloadIssuers.create(issuer);
    ctx.workloadIssuers.changed();
  } catch (err) {
    if (err instanceof StoreConflictError) throw conflict(parsed);
    throw err;
  }
  await ctx.audit.record({
    type: 'admin.workload_issuer.added',
    outcome: 'success',
    ...by,
    data: { name: issuer.name, issuer: issuer.issuer },
  });
  return fromStore(issuer);
}

/**
 * Replaces a stored issuer with the one given (PUT: every field as given, the defaults for those left out); it
 * keeps its name and creation time. A `name` in the input, if any, must be the same.
 */
export async function replaceWorkloadIssuer(
  ctx: ServerContext,
  by: Actor,
  name: string,
  input: unknown,
): Promise<SourcedWorkloadIssuer> {
  if (ctx.config.workloadIssuers.some((c) => c.name === name)) throw readOnly(name);
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new AdminInputError('a workload issuer must be an object');
  const named = input as Record<string, unknown>;
  if (named.name !== undefined && named.name !== name)
    throw new AdminInputError(`name ${String(named.name)} is not the issuer replaced (${name}); an issuer is not renamed`);
  const parsed = parseWorkloadIssuer({ ...named, name });
  assertNotConfigured(ctx, parsed);
  const existing = await ctx.store.workloadIssuers.get(name);
  if (existing === undefined) throw new NotFoundError('workload issuer', name);
  await assertRuleClients(ctx, parsed);
  const issuer: WorkloadIssuer = { ...parsed, createdAt: existing.createdAt, updatedAt: ctx.now() };
  let replaced: boolean;
  try {
    replaced = await ctx.store.workloadIssuers.replace(issuer);
    ctx.workloadIssuers.changed();
  } catch (err) {
    if (err instanceof StoreConflictError) throw new ConflictError(`another workload issuer has the issuer ${parsed.issuer}`);
    throw err;
  }
  if (!replaced) throw new NotFoundError('workload issuer', name);
  await ctx.audit.record({
    type: 'admin.workload_issuer.replaced',
    outcome: 'success',
    ...by,
    data: { name: issuer.name, issuer: issuer.issuer },
  });
  return fromStore(issuer);
}

/** Removes a stored issuer: its tokens authenticate no client from then on. */
export async function removeWorkloadIssuer(ctx: ServerContext, by: Actor, name: string): Promise<void> {
  // A stored issuer goes even when the config file has one of the same name (stored before the file named it):
  // it would otherwise stay trusted with no way to remove it.
  const removed = await ctx.store.workloadIssuers.delete(name);
  // This instance reads the stored issuers again at once; the others within STORED_DIRECTORY_REFRESH_MS.
  ctx.workloadIssuers.changed();
  if (!removed) {
    if (ctx.config.workloadIssuers.some((c) => c.name === name)) throw readOnly(name);
    throw new NotFoundError('workload issuer', name);
  }
  await ctx.audit.record({ type: 'admin.workload_issuer.removed', outcome: 'success', ...by, data: { name } });
}
