/**
 * What the hub needs of a connection: the hub indexes, fans out to and disconnects its members through
 * this interface, and the session implements it. The hub so depends on no session code.
 */
import type { Principal } from '@tessera/verifier';

import type { ClientInfo, DisconnectAdvice } from './protocol.js';

export interface Member {
  readonly id: string;
  /** The user (`sub`) of the connection's token; '' before connect. */
  readonly user: string;
  readonly principal: Principal | undefined;
  readonly clientInfo: ClientInfo;
  /** Whether it entered the presence of `channel` (and is still subscribed). */
  joined(channel: string): boolean;
  /** A push for a subscribed channel, with the publication's stream position when it has one. */
  deliver(channel: string, frame: string | Buffer, offset?: number, epoch?: string): void;
  /** Ends one subscription from the server side. */
  serverUnsubscribe(channel: string, advice: DisconnectAdvice): void;
  /** Ends the connection with a close code the client SDK understands. */
  disconnect(advice: DisconnectAdvice): void;
}
