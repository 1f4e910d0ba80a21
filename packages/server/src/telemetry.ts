import { readFileSync } from 'node:fs';

import { SpanStatusCode, trace, type Context, type Span, type SpanOptions } from '@opentelemetry/api';
import { TesseraError } from '@tessera/core';

import { OAuthError } from './oauth/errors.js';

/**
 * The server's OpenTelemetry traces, through @opentelemetry/api only: without an SDK registered by the operator
 * (docs/deployment.md, Telemetry) every span is the API's non-recording one and costs a few object allocations.
 * Attributes name what was done and to what (grant type, client id, user id, revocation kind), never a token,
 * secret, password or username.
 */
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export const tracer = trace.getTracer('@tessera/server', VERSION);

/** `tessera.outcome` of a failure: its OAuth error or Tessera code, else `error` (a fault, not a refusal). */
export function outcomeOf(err: unknown): string {
  if (err instanceof OAuthError) return err.error;
  if (err instanceof TesseraError) return err.code;
  return 'error';
}

/**
 * Marks `span` as failed with `outcome`; a `fault` (a failure that is no refusal) is recorded as an exception, by
 * its class name only (a driver's message may quote the input).
 */
export function failSpan(span: Span, outcome: string, fault?: unknown): void {
  span.setAttribute('tessera.outcome', outcome);
  span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
  if (fault !== undefined) span.recordException({ name: fault instanceof Error ? fault.name : 'Error' });
}

/**
 * Runs `work` in a new active span `name` (child of `parent`, else of the active span) and ends it:
 * `tessera.outcome` is `success`, or the failure's code with status ERROR, and the failure is rethrown.
 */
export function inSpan<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>, parent?: Context): Promise<T> {
  const run = async (span: Span): Promise<T> => {
    try {
      const result = await work(span);
      span.setAttribute('tessera.outcome', 'success');
      return result;
    } catch (err) {
      const outcome = outcomeOf(err);
      failSpan(span, outcome, outcome === 'error' ? err : undefined);
      throw err;
    } finally {
      span.end();
    }
  };
  return parent === undefined ? tracer.startActiveSpan(name, options, run) : tracer.startActiveSpan(name, options, parent, run);
}

/** The trace and span ids of the active span, for a log line (pino `mixin`); none outside a recorded span. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (span === undefined) return {};
  const context = span.spanContext();
  if (!trace.isSpanContextValid(context)) return {};
  return { trace_id: context.traceId, span_id: context.spanId };
}
