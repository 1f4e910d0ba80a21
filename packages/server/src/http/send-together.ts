import type { FastifyInstance } from 'fastify';

/**
 * Answers leave in the event loop's check phase, together, instead of each one the moment its handler
 * returns. The requests read in one turn of the loop (many, under load) then have their answers written one
 * after another at the end of that turn.
 *
 * Why: writing to a TCP socket whose reader sleeps wakes the reader, and on one host (a client on the same
 * machine, a sidecar, loopback) the kernel does that delivery and wake-up in the writer's system call, on the
 * writer's CPU. A wake-up per answer cost the token endpoint 41 µs of kernel time per token against a client
 * on the other core (perf, bench/token-endpoint.mjs, December 2026: `sock_def_readable`, 19% of the server's
 * time), more than signing the token; answers written back to back wake a reader once, since the first one
 * already has it running. The cost is one pass of the loop (microseconds) added to each answer.
 */
export function sendTogether(app: FastifyInstance): void {
  app.addHook('onSend', (_req, _reply, payload, done) => {
    setImmediate(done, null, payload);
  });
}
