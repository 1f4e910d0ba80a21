// `@tessera/realtime/internal`: the parts both brokers share, for whoever implements the `Broker` interface of the
// main entry (a new epoch, the history query applied to a stream, the position of no stream, the per-call
// deadline the gateway puts around any broker). Not a stable API: it changes with the gateway.
export { newEpoch, NO_STREAM, sameStream, selectHistory, withDeadline } from './broker.js';
