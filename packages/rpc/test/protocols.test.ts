/**
 * The behaviour suite: every case (missing, malformed, bad signature, expired, revoked, under-scoped, good
 * token; public method; method without policy; streams) through every client kind (Connect binary and
 * JSON over h2c and HTTP/1.1, gRPC, gRPC-Web, @grpc/grpc-js), against a real auth server and a verifier
 * that follows its revocations, served with the interceptor alone and with the gate in front.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Code } from '@connectrpc/connect';
import { REFUSALS, type RefusalReason } from '@tessera/rpc';
import { SteppedClock } from '@tessera/testing';

import { AUDIENCE, nextRevocation, startAuthServer, startVerifier, type AuthServer } from './helpers/auth-server.js';
import { CALLERS, type Caller, type Outcome, type UnaryMethod } from './helpers/callers.js';
import { startInventory, type Inventory } from './helpers/inventory.js';

interface Tokens {
  reader: string;
  writer: string;
  admin: string;
  underScoped: string;
  otherAudience: string;
  expired: string;
  revoked: string;
}

interface Case {
  name: string;
  method: UnaryMethod | 'watchStock';
  authorization: (t: Tokens) => string | undefined;
  /** A refusal reason, or the caller the handler saw. */
  expect: RefusalReason | { caller?: string; status?: string };
}

const bearer = (token: string) => `Bearer ${token}`;
const show = (o: Outcome) => JSON.stringify(o, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v));

/** The signature of a JWS with its first character changed: the same token, signed by nobody. */
function tamper(token: string): string {
  const dot = token.lastIndexOf('.');
  const sig = token.slice(dot + 1);
  return `${token.slice(0, dot + 1)}${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
}

const CASES: Case[] = [
  { name: 'no token', method: 'getStock', authorization: () => undefined, expect: 'token_missing' },
  {
    name: 'another scheme (Basic)',
    method: 'getStock',
    authorization: () => 'Basic cmVhZGVyOnNlY3JldA==',
    expect: 'token_missing',
  },
  { name: 'malformed Bearer header', method: 'getStock', authorization: () => 'Bearer not a token', expect: 'token_malformed' },
  { name: 'not a JWT', method: 'getStock', authorization: () => 'Bearer abc.def', expect: 'token_invalid' },
  { name: 'invalid signature', method: 'getStock', authorization: (t) => bearer(tamper(t.reader)), expect: 'token_invalid' },
  {
    name: 'token for another audience',
    method: 'getStock',
    authorization: (t) => bearer(t.otherAudience),
    expect: 'token_invalid',
  },
  { name: 'expired token', method: 'getStock', authorization: (t) => bearer(t.expired), expect: 'token_expired' },
  { name: 'revoked token (RFC 7009)', method: 'getStock', authorization: (t) => bearer(t.revoked), expect: 'token_invalid' },
  { name: 'under-scoped token', method: 'getStock', authorization: (t) => bearer(t.underScoped), expect: 'insufficient_scope' },
  { name: 'good token', method: 'getStock', authorization: (t) => bearer(t.reader), expect: { caller: 'reader' } },
  {
    name: 'any-of: the first scope',
    method: 'adjustStock',
    authorization: (t) => bearer(t.writer),
    expect: { caller: 'writer' },
  },
  { name: 'any-of: the second scope', method: 'adjustStock', authorization: (t) => bearer(t.admin), expect: { caller: 'admin' } },
  { name: 'any-of: neither scope', method: 'adjustStock', authorization: (t) => bearer(t.reader), expect: 'insufficient_scope' },
  { name: 'public method, no token', method: 'health', authorization: () => undefined, expect: { status: 'ok' } },
  {
    name: 'public method, garbage token (not read)',
    method: 'health',
    authorization: () => 'Bearer !!',
    expect: { status: 'ok' },
  },
  { name: 'method without policy, good token', method: 'deleteItem', authorization: (t) => bearer(t.admin), expect: 'no_policy' },
  { name: 'method without policy, no token', method: 'deleteItem', authorization: () => undefined, expect: 'no_policy' },
  { name: 'stream: no token', method: 'watchStock', authorization: () => undefined, expect: 'token_missing' },
  { name: 'stream: expired token', method: 'watchStock', authorization: (t) => bearer(t.expired), expect: 'token_expired' },
  { name: 'stream: revoked token', method: 'watchStock', authorization: (t) => bearer(t.revoked), expect: 'token_invalid' },
  {
    name: 'stream: under-scoped token',
    method: 'watchStock',
    authorization: (t) => bearer(t.underScoped),
    expect: 'insufficient_scope',
  },
  { name: 'stream: good token', method: 'watchStock', authorization: (t) => bearer(t.reader), expect: {} },
];

function check(c: Case, outcome: Outcome, seenBefore: number, seenAfter: number): void {
  if (typeof c.expect === 'string') {
    const r = REFUSALS[c.expect];
    assert.equal(outcome.ok, false, `refused (${show(outcome)})`);
    if (outcome.ok) return;
    assert.equal(outcome.code, r.code, `code ${Code[outcome.code]}, expected ${Code[r.code]}`);
    assert.equal(outcome.message, r.message);
    assert.equal(outcome.reason, c.expect);
    assert.deepEqual(outcome.events ?? [], [], 'no stream message before the refusal');
    assert.equal(seenAfter, seenBefore, 'the handler never ran');
  } else {
    assert.equal(outcome.ok, true, `accepted (${show(outcome)})`);
    if (!outcome.ok) return;
    if (c.method === 'watchStock') assert.deepEqual(outcome.events, [1n, 2n, 3n]);
    if (c.expect.caller !== undefined) assert.equal(outcome.caller, c.expect.caller, 'the principal reached the handler');
    if (c.expect.status !== undefined) assert.equal(outcome.status, c.expect.status);
    assert.equal(seenAfter, seenBefore + 1, 'the handler ran once');
  }
}

describe('@tessera/rpc through every protocol and client', () => {
  let auth: AuthServer;
  let verifierHandle: Awaited<ReturnType<typeof startVerifier>>;
  const tokens = {} as Tokens;
  const clock = new SteppedClock();

  before(async () => {
    auth = await startAuthServer();
    // Verification with no clock tolerance on a clock of the test's, so that a 1-second token is expired once the
    // clock has passed its exp.
    verifierHandle = await startVerifier(auth, { clockTolerance: 0, now: clock.now });
    const reader = await auth.client('reader', ['inventory:read']);
    const writer = await auth.client('writer', ['inventory:write']);
    const admin = await auth.client('admin', ['inventory:admin']);
    const auditor = await auth.client('auditor', ['inventory:audit']);
    const elsewhere = await auth.client('elsewhere', ['inventory:read'], { audiences: ['https://orders.test'] });
    const brief = await auth.client('brief', ['inventory:read'], { accessTokenTtl: 1 });
    const leaker = await auth.client('leaker', ['inventory:read']);
    tokens.reader = await auth.token(reader, { resource: AUDIENCE });
    tokens.writer = await auth.token(writer);
    tokens.admin = await auth.token(admin);
    tokens.underScoped = await auth.token(auditor);
    tokens.otherAudience = await auth.token(elsewhere);
    tokens.expired = await auth.token(brief);
    tokens.revoked = await auth.token(leaker);
    await verifierHandle.verifier.verify(tokens.revoked); // verified (and cached) before its revocation
    const applied = nextRevocation(verifierHandle.revocations, () => true);
    await auth.revoke(leaker, tokens.revoked);
    await applied;
    await assert.rejects(verifierHandle.verifier.verify(tokens.revoked), /revoked/);
    const exp = JSON.parse(Buffer.from(tokens.expired.split('.')[1]!, 'base64url').toString()).exp as number;
    clock.advance(Math.max(0, exp * 1000 - clock.now() + 50));
  });
  after(async () => {
    verifierHandle.close();
    await auth.close();
  });

  for (const gate of [false, true]) {
    describe(gate ? 'gate + interceptor' : 'interceptor', () => {
      let inv: Inventory;
      const refusals: string[] = [];
      before(async () => {
        inv = await startInventory({
          verifier: verifierHandle.verifier,
          revocations: verifierHandle.revocations,
          gate,
          onRefusal: (e) => refusals.push(e.reason),
        });
      });
      after(() => inv.close());

      for (const { name, make } of CALLERS) {
        describe(name, () => {
          let caller: Caller;
          before(() => {
            caller = make(inv);
          });
          after(() => caller.close());
          for (const c of CASES) {
            it(c.name, async () => {
              const n = inv.seen.calls.length;
              const outcome =
                c.method === 'watchStock'
                  ? await caller.stream(c.authorization(tokens), 3)
                  : await caller.unary(c.method, c.authorization(tokens));
              check(c, outcome, n, inv.seen.calls.length);
            });
          }
        });
      }

      it('reported every refusal to onRefusal, with its reason', () => {
        const expected = CASES.filter((c) => typeof c.expect === 'string').length * CALLERS.length;
        assert.equal(refusals.length, expected);
      });
    });
  }
});
