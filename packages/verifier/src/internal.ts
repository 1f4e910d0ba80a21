// `@tessera/verifier/internal`: the revocation list's parts that the auth server and the tests reuse (the set
// of entries, the entry parser, the server-sent events parser). Not a stable API: use `createRevocationList`.
export { parseRevocationEntry, RevocationSet } from './revocation/set.js';
export { SseParser } from './revocation/sse.js';
export type { SseEvent } from './revocation/sse.js';
// The in-process rate limiter, shared by the auth server (its fallback when Redis is unreachable) and the
// real-time gateway (its per-connection budgets), which must not depend on the server.
export { MemoryRateLimiter } from './rate-limiter.js';
export type { RateLimiter, RateRule } from './rate-limiter.js';
// client_secret_basic's header, built once for the service token source and the CLI's OAuth commands.
export { clientSecretBasic } from './client-secret-basic.js';
// The bound of the in-process maps of attacker-chosen keys, shared with the auth server's login throttle.
export { hasRoom, makeRoom, MAX_ENTRIES } from './bounded-map.js';
// A response body read up to a size cap, for whoever fetches documents of other servers (the auth server's
// workload issuers' discovery documents).
export { readCapped } from './read-capped.js';
// The OpenTelemetry helpers the verifier's spans are made with, shared by the rpc interceptors' spans: a package's
// version for its tracer, and the outcome attribute's name.
export { OUTCOME, packageVersion } from './telemetry.js';
