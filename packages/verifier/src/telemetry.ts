import { readFileSync } from 'node:fs';

import { SpanStatusCode, trace, type Attributes, type Span, type SpanOptions, type Tracer } from '@opentelemetry/api';
import { TesseraError } from '@tessera/core';

import type { Principal } from './principal.js';

/**
 * OpenTelemetry traces of the verifier, through @opentelemetry/api: a no-op unless the application registers an
 * SDK. The tracer is taken once (the API's proxy tracer, which finds an SDK registered later); per verification
 * there is one `startSpan` and a few `setAttribute` calls on constants, nothing allocated beyond the API's span.
 * No token, subject or claim ever goes into an attribute: tokens and subjects are personal data.
 */

/** The version of the package `packageJson` (a URL) describes, for a tracer's instrumentation scope. */
export function packageVersion(packageJson: URL): string | undefined {
  try {
    const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: unknown };
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

const tracer: Tracer = trace.getTracer('@tessera/verifier', packageVersion(new URL('../package.json', import.meta.url)));

/** Span names and attribute keys (stable: dashboards and alerts are built on them). */
export const VERIFY_SPAN = 'tessera.verify';
export const JWKS_FETCH_SPAN = 'tessera.jwks.fetch';
export const OUTCOME = 'tessera.outcome';
const CACHED = 'tessera.cached';
const BINDING = 'tessera.binding';

// Shared, frozen span options: starting a span allocates nothing of ours.
const NOT_CACHED: SpanOptions = Object.freeze({ attributes: Object.freeze({ [CACHED]: false }) as Attributes });
const CACHE_HIT: SpanOptions = Object.freeze({ attributes: Object.freeze({ [CACHED]: true }) as Attributes });

/** A `tessera.verify` span, `tessera.cached` false until a cache hit says otherwise. */
export function startVerifySpan(cached = false): Span {
  return tracer.startSpan(VERIFY_SPAN, cached ? CACHE_HIT : NOT_CACHED);
}

/** Marks a verification answered from the verified-token cache. */
export function markCached(span: Span): void {
  span.setAttribute(CACHED, true);
}

/** Records the binding of a verified token: `dpop` (cnf.jkt), `mtls` (cnf x5t#S256), `dpop+mtls`, or nothing. */
export function markBinding(span: Span, principal: Principal): void {
  const dpop = principal.jkt !== undefined;
  const mtls = principal.x5t !== undefined;
  if (dpop || mtls) span.setAttribute(BINDING, dpop ? (mtls ? 'dpop+mtls' : 'dpop') : 'mtls');
}

/** Ends a span whose verification succeeded. */
export function endOk(span: Span): void {
  span.setAttribute(OUTCOME, 'ok');
  span.end();
}

/**
 * The outcome of a failure: a TesseraError's code (`ERR_TOKEN_EXPIRED`), otherwise `error` (a fault, not a
 * refusal of the caller). Never the error's message: it may quote what the caller sent.
 */
export function outcomeOf(err: unknown): string {
  return err instanceof TesseraError ? err.code : 'error';
}

/** Ends a span whose operation failed: its outcome is the error code, its status ERROR with that code. */
export function endFailed(span: Span, err: unknown): void {
  const code = outcomeOf(err);
  span.setAttribute(OUTCOME, code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: code });
  span.end();
}

/** The verifier's tracer, for the JWKS fetch span. */
export function verifierTracer(): Tracer {
  return tracer;
}
