/**
 * RevocationSet and parseRevocationEntry: the rules every holder of revocations (the server's registry, each
 * verifier's list) answers with. Entries come from the network, so each field is checked; a cut-off only
 * ever moves forward; a token without a usable iat counts as issued before any cut-off (fail closed).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { revokes, type RevocationEntry } from '@tessera/verifier';
import { parseRevocationEntry, RevocationSet } from '@tessera/verifier/internal';

const NOW = 1_750_000_000_000;
const LATER = NOW + 3_600_000;

const valid = { seq: 3, kind: 'jti', value: 'token-1', cutoff: null, expiresAt: LATER } as const;

function entry(e: Partial<RevocationEntry> & Pick<RevocationEntry, 'seq' | 'kind' | 'value'>): RevocationEntry {
  return { cutoff: null, expiresAt: LATER, ...e };
}

/** Claims of a token issued at `iatMs` (whole seconds, as in a JWT). */
function issuedAt(iatMs: number, extra: Record<string, unknown> = {}) {
  return { sub: 'alice', client_id: 'web', jti: 'j', iat: Math.floor(iatMs / 1000), ...extra };
}

describe('parseRevocationEntry', () => {
  it('accepts a valid entry of each kind and drops extra fields', () => {
    assert.deepEqual(parseRevocationEntry({ ...valid, reason: 'rfc7009', createdAt: 1 }), valid);
    for (const kind of ['subject', 'client'] as const) {
      const e = { seq: 1, kind, value: 'x', cutoff: NOW, expiresAt: LATER };
      assert.deepEqual(parseRevocationEntry(e), e);
    }
    assert.deepEqual(parseRevocationEntry({ ...valid, kind: 'family' }), { ...valid, kind: 'family' });
  });

  const refusals: [string, unknown, RegExp][] = [
    ['not an object', 'jti:x', /must be an object/],
    ['null', null, /must be an object/],
    ['an array', [valid], /must be an object/],
    ['seq missing', { ...valid, seq: undefined }, /seq/],
    ['seq a string', { ...valid, seq: '3' }, /seq/],
    ['seq zero', { ...valid, seq: 0 }, /seq/],
    ['seq negative', { ...valid, seq: -1 }, /seq/],
    ['seq fractional', { ...valid, seq: 1.5 }, /seq/],
    ['seq NaN', { ...valid, seq: Number.NaN }, /seq/],
    ['seq beyond safe integers', { ...valid, seq: 2 ** 53 }, /seq/],
    ['kind missing', { ...valid, kind: undefined }, /kind/],
    ['kind unknown', { ...valid, kind: 'user' }, /kind/],
    ['kind in capitals', { ...valid, kind: 'JTI' }, /kind/],
    ['kind a number', { ...valid, kind: 1 }, /kind/],
    ['value missing', { ...valid, value: undefined }, /value/],
    ['value empty', { ...valid, value: '' }, /value/],
    ['value a number', { ...valid, value: 42 }, /value/],
    ['value too long', { ...valid, value: 'x'.repeat(1025) }, /value/],
    ['cutoff missing', { ...valid, cutoff: undefined }, /cutoff/],
    ['cutoff a string', { ...valid, cutoff: String(NOW) }, /cutoff/],
    ['cutoff NaN', { ...valid, cutoff: Number.NaN }, /cutoff/],
    ['cutoff infinite', { ...valid, cutoff: Number.POSITIVE_INFINITY }, /cutoff/],
    ['subject without cutoff', { ...valid, kind: 'subject', cutoff: null }, /needs a cutoff/],
    ['client without cutoff', { ...valid, kind: 'client', cutoff: null }, /needs a cutoff/],
    ['expiresAt missing', { ...valid, expiresAt: undefined }, /expiresAt/],
    ['expiresAt a string', { ...valid, expiresAt: String(LATER) }, /expiresAt/],
    ['expiresAt NaN', { ...valid, expiresAt: Number.NaN }, /expiresAt/],
    ['expiresAt infinite', { ...valid, expiresAt: Number.POSITIVE_INFINITY }, /expiresAt/],
  ];
  for (const [name, input, message] of refusals) {
    it(`refuses ${name} with a TypeError naming the field`, () => {
      assert.throws(
        () => parseRevocationEntry(input),
        (err: unknown) => err instanceof TypeError && message.test(err.message),
      );
    });
  }

  it('accepts a value of exactly 1024 characters', () => {
    assert.equal(parseRevocationEntry({ ...valid, value: 'x'.repeat(1024) }).value.length, 1024);
  });
});

describe('RevocationSet', () => {
  it('matches each kind on its own claim only', () => {
    const s = new RevocationSet();
    s.apply(entry({ seq: 1, kind: 'jti', value: 'j1' }));
    s.apply(entry({ seq: 2, kind: 'family', value: 'f1' }));
    s.apply(entry({ seq: 3, kind: 'subject', value: 'bob', cutoff: NOW }));
    s.apply(entry({ seq: 4, kind: 'client', value: 'svc', cutoff: NOW }));
    const before = NOW - 10_000;
    assert.equal(s.isRevoked({ jti: 'j1' }, NOW), true);
    assert.equal(s.isRevoked({ sid: 'f1' }, NOW), true);
    assert.equal(s.isRevoked({ sub: 'bob', iat: before / 1000 }, NOW), true);
    assert.equal(s.isRevoked({ client_id: 'svc', iat: before / 1000 }, NOW), true);
    // A value under another claim is not a match: a jti equal to a family id, a sub equal to a client id.
    assert.equal(s.isRevoked({ sid: 'j1', jti: 'f1' }, NOW), false);
    assert.equal(s.isRevoked({ client_id: 'bob', sub: 'svc', iat: before / 1000 }, NOW), false);
    assert.equal(s.sequence, 4);
    assert.equal(s.size, 4);
  });

  it('a cut-off revokes tokens issued before it, not one issued at or after it', () => {
    const s = new RevocationSet();
    s.apply(entry({ seq: 1, kind: 'subject', value: 'alice', cutoff: NOW }));
    assert.equal(s.isRevoked(issuedAt(NOW - 1000), NOW), true);
    assert.equal(s.isRevoked(issuedAt(NOW), NOW), false);
    assert.equal(s.isRevoked(issuedAt(NOW + 1000), NOW), false);
    // iat has whole seconds: a cut-off inside a second revokes the tokens dated from that second.
    const mid = NOW + 500;
    assert.equal(revokes(entry({ seq: 1, kind: 'client', value: 'web', cutoff: mid }), issuedAt(NOW), NOW), true);
  });

  it('a token without a usable iat counts as issued before any cut-off', () => {
    const s = new RevocationSet();
    s.apply(entry({ seq: 1, kind: 'subject', value: 'alice', cutoff: 1 }));
    for (const iat of [undefined, null, '2000000000', Number.NaN, Number.POSITIVE_INFINITY, {}]) {
      assert.equal(s.isRevoked({ sub: 'alice', iat }, NOW), true, `iat ${String(iat)}`);
    }
    assert.equal(s.isRevoked({ sub: 'alice', iat: NOW / 1000 }, NOW), false);
  });

  it('a later cut-off supersedes an earlier one; an older record arriving late changes nothing', () => {
    const s = new RevocationSet();
    assert.equal(s.apply(entry({ seq: 5, kind: 'subject', value: 'alice', cutoff: NOW })), true);
    const between = issuedAt(NOW + 60_000);
    assert.equal(s.isRevoked(between, NOW), false);
    assert.equal(s.apply(entry({ seq: 9, kind: 'subject', value: 'alice', cutoff: NOW + 120_000 })), true);
    assert.equal(s.isRevoked(between, NOW), true);
    assert.equal(s.size, 1);
    assert.equal(s.latestCutoff('alice', 'nobody', NOW), NOW + 120_000);
    // The first record again (a snapshot racing the stream), or a duplicate: no change.
    assert.equal(s.apply(entry({ seq: 5, kind: 'subject', value: 'alice', cutoff: NOW })), false);
    assert.equal(s.apply(entry({ seq: 9, kind: 'subject', value: 'alice', cutoff: NOW + 120_000 })), false);
    assert.equal(s.isRevoked(between, NOW), true);
    assert.equal(s.latestCutoff('alice', 'nobody', NOW), NOW + 120_000);
    assert.equal(s.sequence, 9);
  });

  it('a later record with an earlier cut-off (another instance’s clock behind) does not un-revoke tokens', () => {
    const s = new RevocationSet();
    s.apply(entry({ seq: 1, kind: 'subject', value: 'alice', cutoff: NOW + 2_000, expiresAt: LATER + 5_000 }));
    s.apply(entry({ seq: 2, kind: 'subject', value: 'alice', cutoff: NOW, expiresAt: LATER }));
    assert.equal(s.isRevoked(issuedAt(NOW + 1_000), NOW), true, 'revoked by the first cut-off');
    assert.equal(s.latestCutoff('alice', 'nobody', NOW), NOW + 2_000);
    assert.equal(s.isRevoked(issuedAt(NOW + 1_000), LATER + 1_000), true, 'the record lasts as long as the longer of the two');
    assert.equal(s.sequence, 2);
  });

  it('latestCutoff is the later of the subject’s and the client’s', () => {
    const s = new RevocationSet();
    assert.equal(s.latestCutoff('alice', 'web', NOW), undefined);
    s.apply(entry({ seq: 1, kind: 'subject', value: 'alice', cutoff: NOW }));
    s.apply(entry({ seq: 2, kind: 'client', value: 'web', cutoff: NOW + 5 }));
    assert.equal(s.latestCutoff('alice', 'web', NOW), NOW + 5);
    assert.equal(s.latestCutoff('alice', 'other', NOW), NOW);
    assert.equal(s.latestCutoff('alice', 'web', LATER), undefined, 'expired records count for nothing');
  });

  it('an expired record revokes nothing; prune drops only expired records', () => {
    const s = new RevocationSet();
    s.apply(entry({ seq: 1, kind: 'jti', value: 'old', expiresAt: NOW }));
    s.apply(entry({ seq: 2, kind: 'jti', value: 'edge', expiresAt: NOW + 1 }));
    s.apply(entry({ seq: 3, kind: 'subject', value: 'alice', cutoff: NOW, expiresAt: LATER }));
    assert.equal(s.isRevoked({ jti: 'old' }, NOW), false);
    assert.equal(s.isRevoked({ jti: 'edge' }, NOW), true);
    assert.deepEqual(
      s.active(NOW).map((e) => e.seq),
      [2, 3],
    );
    assert.equal(s.prune(NOW), 1);
    assert.equal(s.size, 2);
    assert.equal(s.isRevoked({ jti: 'edge' }, NOW), true);
    assert.equal(s.prune(NOW), 0);
    assert.equal(s.prune(NOW + 1), 1);
    assert.deepEqual(
      s.active(NOW + 1).map((e) => e.seq),
      [3],
    );
    assert.equal(s.sequence, 3, 'pruning never lowers the sequence');
  });

  it('lists active records in sequence order, whatever the order they came in', () => {
    const s = new RevocationSet();
    for (const seq of [7, 2, 9, 4]) s.apply(entry({ seq, kind: 'jti', value: `j${seq}` }));
    assert.deepEqual(
      s.active(NOW).map((e) => e.seq),
      [2, 4, 7, 9],
    );
    assert.equal(s.sequence, 9);
  });

  it('advanceTo raises the sequence, never lowers it', () => {
    const s = new RevocationSet();
    s.advanceTo(10);
    assert.equal(s.sequence, 10);
    s.advanceTo(4);
    assert.equal(s.sequence, 10);
    assert.equal(s.size, 0);
  });
});
