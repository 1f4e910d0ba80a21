import {
  Code,
  ConnectError,
  type StreamResponse,
  type UnaryRequest,
  type StreamRequest,
  type UnaryResponse,
} from '@connectrpc/connect';
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { OUTCOME, packageVersion } from '@tessera/verifier/internal';

import { REFUSAL_HEADER } from './refusal.js';

/**
 * OpenTelemetry traces of the interceptors, through @opentelemetry/api (a no-op unless the application registers
 * an SDK): a span per call, `rpc.call`, on the client (kind CLIENT, its W3C trace context injected into the
 * request headers) and on the server (kind SERVER, the child of the context extracted from the request headers;
 * the verification and the handler run inside it).
 */
const tracer = trace.getTracer('@tessera/rpc', packageVersion(new URL('../package.json', import.meta.url)));

export const RPC_SPAN = 'rpc.call';

const HEADER_GETTER: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};
const HEADER_SETTER: TextMapSetter<Headers> = { set: (headers, key, value) => headers.set(key, value) };

/** Writes the active trace context (W3C `traceparent`, and whatever else the registered propagator carries) into `headers`. */
export function injectContext(headers: Headers): void {
  propagation.inject(context.active(), headers, HEADER_SETTER);
}

/** The trace context a request's headers carry, on top of the active one. */
export function extractContext(headers: Headers): Context {
  return propagation.extract(context.active(), headers, HEADER_GETTER);
}

type Req = UnaryRequest | StreamRequest;
type Res = UnaryResponse | StreamResponse;

/**
 * Runs `run` (the rest of the call) in an `rpc.call` span, the child of `parent`: the span is ended when the call
 * is, a response stream's when its last message was read (or it failed). A failure sets status ERROR, with the
 * refusal's reason (`tessera-refusal`) as message when there is one, and `rpc.connect_rpc.error_code`; on the
 * server (`outcome`) the reason is the span's `tessera.outcome` too.
 */
export async function inRpcSpan(
  kind: SpanKind.CLIENT | SpanKind.SERVER,
  req: Req,
  parent: Context,
  run: (span: Span) => Promise<Res>,
): Promise<Res> {
  const span = tracer.startSpan(
    RPC_SPAN,
    {
      kind,
      attributes: { 'rpc.system': 'connect_rpc', 'rpc.service': req.service.typeName, 'rpc.method': req.method.name },
    },
    parent,
  );
  const active = trace.setSpan(parent, span);
  let res: Res;
  try {
    res = await context.with(active, run, undefined, span);
  } catch (err) {
    failed(span, err, kind === SpanKind.SERVER);
    span.end();
    throw err;
  }
  if (!res.stream) {
    span.end();
    return res;
  }
  return { ...res, message: endsSpan(res.message, span, active, kind === SpanKind.SERVER) };
}

/** A response stream whose messages are produced in the call's context, its span ended with the stream. */
async function* endsSpan<T>(messages: AsyncIterable<T>, span: Span, active: Context, outcome: boolean): AsyncGenerator<T> {
  const it = messages[Symbol.asyncIterator]();
  let done = false;
  try {
    for (;;) {
      const next = await context.with(active, () => it.next());
      if (next.done === true) {
        done = true;
        return;
      }
      yield next.value;
    }
  } catch (err) {
    failed(span, err, outcome);
    throw err;
  } finally {
    // A stream the reader left early (cancelled): its source is closed too, without waiting (it may be blocked on
    // its own next event).
    if (!done) void Promise.resolve(it.return?.()).catch(() => undefined);
    span.end();
  }
}

function failed(span: Span, err: unknown, outcome: boolean): void {
  const connect = ConnectError.from(err);
  const reason = err instanceof ConnectError ? err.metadata.get(REFUSAL_HEADER) : null;
  span.setAttribute('rpc.connect_rpc.error_code', Code[connect.code].replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase());
  if (outcome && reason !== null) span.setAttribute(OUTCOME, reason);
  span.setStatus({ code: SpanStatusCode.ERROR, message: reason ?? Code[connect.code] });
}
