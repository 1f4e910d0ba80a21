import { REVOCATIONS_SCOPE } from '@tessera/verifier';
import { SseParser, type SseEvent } from '@tessera/verifier/internal';
import { until } from '@tessera/testing';

import { tokenOf } from './admin-api.js';
import { sample, scrape } from './metrics.js';
import type { ClientCreds } from './oauth.js';
import type { TestServer } from './server.js';

/** The audience of tokens for the revocation endpoints. */
export function revocationsAudience(t: TestServer): string {
  return `${t.url}/revocations`;
}

/** Registers a client allowed to read the revocation feed (what a verifier or gateway holds). */
export function feedClient(t: TestServer, id: string, extra: { accessTokenTtl?: number } = {}): Promise<ClientCreds> {
  return t.client({
    id,
    grantTypes: ['client_credentials'],
    scopes: [REVOCATIONS_SCOPE],
    audiences: [revocationsAudience(t)],
    ...extra,
  });
}

/** A token for the revocation endpoints. */
export function feedToken(t: TestServer, c: ClientCreds): Promise<string> {
  return tokenOf(t, c, { resource: revocationsAudience(t) });
}

/** Rejects when `p` takes longer than `ms`: a test that would hang fails instead. */
export async function within<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A revocation event stream read over real HTTP, its events parsed as they arrive. */
export interface EventStream {
  status: number;
  headers: Headers;
  /** The error body when the server refused to open the stream. */
  body: string;
  events: SseEvent[];
  retries: number[];
  /** True once the server ended the stream. */
  ended: boolean;
  /** Resolves when the stream ends (by the server, or by close()). */
  done: Promise<void>;
  /** The events named `name`. */
  named(name: string): SseEvent[];
  /** Waits for an event matching `match` (already received or to come). */
  next(what: string, match: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

/** Opens GET /revocations/stream with this token and, if given, a Last-Event-ID header or `?after=`. */
export async function openStream(
  t: TestServer,
  token: string | undefined,
  resume: { lastEventId?: string; after?: string } = {},
): Promise<EventStream> {
  const abort = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (resume.lastEventId !== undefined) headers['last-event-id'] = resume.lastEventId;
  const query = resume.after !== undefined ? `?after=${encodeURIComponent(resume.after)}` : '';
  const res = await fetch(`${t.url}/revocations/stream${query}`, { headers, signal: abort.signal });
  const s: EventStream = {
    status: res.status,
    headers: res.headers,
    body: '',
    events: [],
    retries: [],
    ended: false,
    done: Promise.resolve(),
    named: (name) => s.events.filter((e) => e.event === name),
    next: (what, match, timeoutMs = 5_000) => until(`${what} on the revocation stream`, () => s.events.find(match), timeoutMs),
    close: () => abort.abort(),
  };
  if (res.status !== 200) {
    s.body = await res.text();
    s.ended = true;
    return s;
  }
  const parser = new SseParser({ onEvent: (e) => s.events.push(e), onRetry: (ms) => s.retries.push(ms) });
  const decoder = new TextDecoder();
  s.done = (async () => {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
        parser.feed(decoder.decode(chunk, { stream: true }));
      s.ended = true;
    } catch {
      // Aborted by close().
    }
  })();
  return s;
}

/** The sequence numbers of the `revocation` events of a stream, in the order they came. */
export function seqs(s: EventStream): number[] {
  return s.named('revocation').map((e) => (JSON.parse(e.data) as { seq: number }).seq);
}

/** A port free right now (for a server that must come back on the same issuer URL). */
export { freePort } from '@tessera/testing';

/** The value of one Prometheus sample of the server's /metrics (0 when absent). */
export async function metric(t: TestServer, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sample(await scrape(t), name, labels) ?? 0;
}
