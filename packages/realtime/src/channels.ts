/**
 * Channels and the rights to them, from a token's scopes. Deny by default.
 *
 * Channel names: `<namespace>:<segment>[:<segment>...]`, each segment non-empty, of `A-Z a-z 0-9 _ - . = @ +`
 * only, at most 255 characters in all, the namespace one the gateway is configured with; or a user's
 * personal channel `user#<sub>`.
 *
 * Rights: a scope `<pattern>:<action>` grants `action` on every channel the pattern matches, where `action`
 * is `subscribe`, `publish`, `presence` (presence and presence stats) or `history`, and the pattern is a
 * channel name whose segments after the namespace may be `*` (exactly one segment, whatever it holds).
 * `chat:room:*:subscribe` lets a connection subscribe to `chat:room:42` but not to `chat:room:42:typing`
 * nor to `chat:lobby`. Scopes of any other form (`orders:read`) grant nothing here. A personal channel
 * `user#<sub>` can be subscribed to, and its presence and history read, by the connection whose token has
 * that `sub`; only the server API publishes to it.
 */

import { ConfigError } from '@tessera/core';

export const CHANNEL_ACTIONS = ['subscribe', 'publish', 'presence', 'history'] as const;
export type ChannelAction = (typeof CHANNEL_ACTIONS)[number];

const ACTION_SET: ReadonlySet<string> = new Set(CHANNEL_ACTIONS);

/** How a namespace's channels behave. */
export interface NamespaceOptions {
  /** Keep the last `size` publications for `ttlSeconds` after the last one (history, and recovery on reconnect). */
  readonly history?: { readonly size: number; readonly ttlSeconds: number };
  /** Keep who is subscribed (presence, presence stats). Default false. */
  readonly presence?: boolean;
  /** Tell subscribers when others join and leave (needs presence). Default false. */
  readonly joinLeave?: boolean;
  /** Require a subscription token for every subscribe, whatever the connection's scopes. Default false. */
  readonly subscriptionTokenRequired?: boolean;
}

export interface ChannelOptions {
  /** The namespaces channels may live in, by name (`chat` for `chat:...` channels). */
  readonly namespaces: Readonly<Record<string, NamespaceOptions>>;
  /** Options of the personal channels `user#<sub>`; false turns them off. Default `{}`. */
  readonly personal?: false | NamespaceOptions;
}

export const MAX_CHANNEL_LENGTH = 255;
export const PERSONAL_PREFIX = 'user#';

const SEGMENT = /^[A-Za-z0-9_\-.=@+]+$/;
const NAMESPACE = /^[A-Za-z0-9_\-.]+$/;

/** A channel name understood: its namespace options, or why it is refused. */
export type ChannelInfo =
  | { readonly ok: true; readonly personal: boolean; readonly owner: string | undefined; readonly options: NamespaceOptions }
  | { readonly ok: false; readonly reason: 'invalid' | 'unknown' };

/** A grant compiled from one scope. */
interface Grant {
  readonly action: ChannelAction;
  readonly segments: readonly string[];
}

/** The rights one token holds, compiled once per connect or refresh. */
export class ChannelRights {
  private readonly grants: readonly Grant[];
  constructor(
    grants: readonly Grant[],
    readonly sub: string | undefined,
  ) {
    this.grants = grants;
  }

  /** True when these rights allow `action` on `channel` (which `ChannelPolicy.describe` accepted). */
  allows(channel: string, info: ChannelInfo & { ok: true }, action: ChannelAction): boolean {
    if (info.personal) return action !== 'publish' && this.sub !== undefined && info.owner === this.sub;
    const segments = channel.split(':');
    for (const g of this.grants) {
      if (g.action !== action || g.segments.length !== segments.length) continue;
      let match = true;
      for (let i = 0; i < segments.length; i++) {
        const p = g.segments[i];
        if (p !== '*' && p !== segments[i]) {
          match = false;
          break;
        }
      }
      if (match) return true;
    }
    return false;
  }
}

export class ChannelPolicy {
  private readonly namespaces: ReadonlyMap<string, NamespaceOptions>;
  private readonly personal: NamespaceOptions | false;

  constructor(options: ChannelOptions) {
    const map = new Map<string, NamespaceOptions>();
    for (const [name, ns] of Object.entries(options.namespaces ?? {})) {
      if (!NAMESPACE.test(name))
        throw new ConfigError(`channels.namespaces.${name}`, 'a namespace name is of A-Z a-z 0-9 _ - . only');
      map.set(name, checkNamespace(name, ns ?? {}));
    }
    this.namespaces = map;
    this.personal = options.personal === false ? false : checkNamespace('personal', options.personal ?? {});
  }

  /** Parses a channel name: personal, in a known namespace, or refused. */
  describe(channel: string): ChannelInfo {
    if (channel.length === 0 || channel.length > MAX_CHANNEL_LENGTH) return { ok: false, reason: 'invalid' };
    if (channel.startsWith(PERSONAL_PREFIX)) {
      const owner = channel.slice(PERSONAL_PREFIX.length);
      if (owner.length === 0 || hasControl(owner)) return { ok: false, reason: 'invalid' };
      if (this.personal === false) return { ok: false, reason: 'unknown' };
      return { ok: true, personal: true, owner, options: this.personal };
    }
    const segments = channel.split(':');
    if (segments.length < 2 || !segments.every((s) => SEGMENT.test(s))) return { ok: false, reason: 'invalid' };
    const ns = this.namespaces.get(segments[0]!);
    if (!ns) return { ok: false, reason: 'unknown' };
    return { ok: true, personal: false, owner: undefined, options: ns };
  }

  /** Compiles the channel rights of a token's scopes and subject. */
  rights(scopes: readonly string[], sub: string | undefined): ChannelRights {
    const grants: Grant[] = [];
    for (const scope of scopes) {
      const segments = scope.split(':');
      if (segments.length < 3) continue;
      const action = segments.pop()!;
      if (!ACTION_SET.has(action)) continue;
      if (!this.namespaces.has(segments[0]!)) continue;
      if (!segments.every((s, i) => (i > 0 && s === '*') || SEGMENT.test(s))) continue;
      grants.push({ action: action as ChannelAction, segments });
    }
    return new ChannelRights(grants, sub);
  }
}

function checkNamespace(name: string, ns: NamespaceOptions): NamespaceOptions {
  const h = ns.history;
  if (h !== undefined) {
    if (!Number.isSafeInteger(h.size) || h.size < 0 || h.size > 10_000)
      throw new ConfigError(`channels.namespaces.${name}.history.size`, 'must be an integer in [0, 10000]');
    if (!Number.isFinite(h.ttlSeconds) || h.ttlSeconds <= 0)
      throw new ConfigError(`channels.namespaces.${name}.history.ttlSeconds`, 'must be positive');
  }
  if (ns.joinLeave && !ns.presence) throw new ConfigError(`channels.namespaces.${name}.joinLeave`, 'needs presence');
  return Object.freeze({ ...ns });
}

function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** True when the namespace keeps history. */
export function hasHistory(ns: NamespaceOptions): boolean {
  return ns.history !== undefined && ns.history.size > 0;
}
