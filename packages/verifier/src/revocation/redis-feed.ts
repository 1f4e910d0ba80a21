import type { RedisSubscriber } from './options.js';
import { parseRevocationEntry, type RevocationEntry } from './set.js';

/** What a feed of revocations does to the list it keeps current (see RevocationList). */
export interface FeedTarget {
  /** The highest sequence number applied. */
  readonly sequence: number;
  readonly closed: boolean;
  /** Applies an entry; `advance`: it may move the sequence on. */
  accept(entry: RevocationEntry, advance: boolean): void;
  /** The server was heard from (an event, a heartbeat). */
  contact(): void;
  /** Reloads the snapshot (one at a time: callers share it). */
  resync(): Promise<void>;
  /** The feed opened or closed. */
  connected(open: boolean): void;
  onError(err: unknown): void;
}

/**
 * Keeps `target` current from the auth server's Redis channel: revocations and heartbeats as the server
 * publishes them, a resync from the snapshot at every (re)connection and on any gap (retried every
 * `retryMs` while it fails). Returns the function that stops it.
 */
export function subscribeRedis(subscriber: RedisSubscriber, channel: string, target: FeedTarget, retryMs: number): () => void {
  const resync = () => {
    target.resync().catch((err: unknown) => {
      target.onError(err);
      if (!target.closed) setTimeout(resync, retryMs).unref();
    });
  };
  const message = (c: string, m: string) => {
    if (c !== channel) return;
    try {
      const msg = JSON.parse(m) as { type?: unknown; revocation?: unknown; seq?: unknown };
      if (msg.type === 'revocation') {
        const entry = parseRevocationEntry(msg.revocation);
        // Only the next number moves the sequence on; anything else is applied (a revocation errs on the safe
        // side) and the snapshot settles the sequence: a message out of order, lost, or forged by whoever can
        // publish on the channel cannot make the list believe it holds records it never saw.
        const next = entry.seq === target.sequence + 1;
        target.accept(entry, next);
        target.contact();
        if (!next && entry.seq > target.sequence) resync();
      } else if (msg.type === 'heartbeat') {
        target.contact();
        if (typeof msg.seq === 'number' && msg.seq > target.sequence) resync();
      }
    } catch (err) {
      target.onError(err);
    }
  };
  // Messages published while the subscription was down are lost: resync at every (re)connection.
  const ready = () => {
    target.connected(true);
    resync();
  };
  // The connection is gone (ioredis reconnects by itself and says `ready` again).
  const close = () => target.connected(false);
  subscriber.on('message', message);
  subscriber.on('ready', ready);
  subscriber.on('close', close);
  subscriber.subscribe(channel).then(
    () => {
      target.connected(true);
      resync();
    },
    (err: unknown) => target.onError(err),
  );
  return () => {
    subscriber.removeListener('message', message);
    subscriber.removeListener('ready', ready);
    subscriber.removeListener('close', close);
    void subscriber.unsubscribe(channel).catch(() => undefined);
  };
}
