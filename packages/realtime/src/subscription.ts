/** One subscription of a connection, as the session and its commands keep it. */
import type { Timer } from './clock.js';
import type { ChannelInfo } from './channels.js';

export interface Subscription {
  readonly channel: string;
  readonly info: ChannelInfo & { ok: true };
  /** Granted by a subscription token rather than by the connection's scopes. */
  viaToken: boolean;
  /** The subscription token's expiry (ms), when granted by one. */
  expiresAt: number | undefined;
  timer: Timer | undefined;
  /** Pushes for the channel wait here until the subscribe reply has gone out, so they follow it. */
  pending: PendingPush[] | undefined;
  /** Entered in the channel's presence: a leave is due when it ends. */
  joined: boolean;
  /** History channels: the stream position of the last publication sent, to drop duplicates and see gaps. */
  epoch: string;
  offset: number;
}

export interface PendingPush {
  readonly frame: string | Buffer;
  readonly offset?: number | undefined;
  readonly epoch?: string | undefined;
  /** The server's unsubscribe push: sent after the reply even though the subscription has gone. */
  readonly final?: boolean;
}
