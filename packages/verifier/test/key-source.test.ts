/**
 * The `keys` option: keys held in the process that change while the verifier lives (an issuer's own live
 * signing keys). A cached verification holds only while the function returns the set it was verified against.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  AlgorithmNotAllowedError,
  ConfigError,
  generateKey,
  KeyNotFoundError,
  KeySet,
  SignatureInvalidError,
} from '@tessera/core';
import { createVerifier, KeysUnavailableError, TokenRevokedError } from '@tessera/verifier';

import { AUDIENCE, ISSUER, TestIssuer } from './helpers/issuer.js';

const base = { issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'] } as const;

describe('Verifier keys option (a key-source function)', () => {
  it('verifies against the KeySet or the single Key the function returns', async () => {
    const issuer = new TestIssuer('ES256');
    const old = issuer.key;
    issuer.rotate();
    const set = new KeySet(issuer.keys);
    const v = createVerifier({ ...base, keys: () => set });
    assert.equal((await v.verify(issuer.token({ sub: 'old' }, { key: old }))).sub, 'old');
    assert.equal((await v.verify(issuer.token({ sub: 'new' }))).sub, 'new');
    const single = createVerifier({ ...base, keys: () => issuer.key });
    assert.equal((await single.verify(issuer.token())).sub, 'alice');
    await assert.rejects(single.verify(issuer.token({}, { key: old })), SignatureInvalidError);
  });

  it('a key removed from the source is refused, even when its token was cached', async () => {
    const issuer = new TestIssuer('ES256');
    const retired = issuer.key;
    issuer.rotate();
    let current = new KeySet(issuer.keys);
    const v = createVerifier({ ...base, keys: () => current });
    const token = issuer.token({}, { key: retired });
    const header = `Bearer ${token}`;
    await v.verify(token);
    assert.equal(v.cacheSize, 1);
    assert.equal(v.authorizeCached(header)?.sub, 'alice', 'cached while the set is the same object');
    current = new KeySet([issuer.key]);
    assert.equal(v.authorizeCached(header), undefined, 'the cached entry is not used under another set');
    await assert.rejects(v.verify(token), KeyNotFoundError);
    await assert.rejects(v.authorize(header), KeyNotFoundError);
    // A token of a key the new set still holds verifies again, and is cached under the new set.
    const kept = issuer.token({ sub: 'bob' });
    await v.verify(kept);
    assert.equal(v.authorizeCached(`Bearer ${kept}`)?.sub, 'bob');
  });

  it('a new set with the same keys costs a full verification, not a refusal', async () => {
    const issuer = new TestIssuer('ES256');
    let current = new KeySet(issuer.keys);
    const v = createVerifier({ ...base, keys: () => current });
    const token = issuer.token();
    await v.verify(token);
    current = new KeySet(issuer.keys);
    assert.equal(v.authorizeCached(`Bearer ${token}`), undefined);
    assert.equal((await v.verify(token)).sub, 'alice');
    assert.equal(v.authorizeCached(`Bearer ${token}`)?.sub, 'alice');
    assert.equal(v.cacheSize, 1);
  });

  it('fails closed when the function returns neither a Key nor a KeySet', async () => {
    const issuer = new TestIssuer('ES256');
    // @ts-expect-error the function returns a Key or a KeySet, not a JWKS document
    const v = createVerifier({ ...base, keys: () => issuer.jwks() });
    await assert.rejects(v.verify(issuer.token()), KeysUnavailableError);
  });

  it('is one key source among the others: exactly one is required, and it must be a function', () => {
    const issuer = new TestIssuer('ES256');
    const set = new KeySet(issuer.keys);
    assert.throws(() => createVerifier({ ...base, keys: () => set, jwks: set }), ConfigError);
    assert.throws(() => createVerifier({ ...base, keys: () => set, publicKey: issuer.key }), ConfigError);
    // @ts-expect-error keys is a function: a KeySet that never changes is `jwks`
    assert.throws(() => createVerifier({ ...base, keys: set }), ConfigError);
    assert.throws(() => createVerifier({ ...base }), ConfigError);
  });

  it('keeps the algorithm allowlist: a key of the source with another alg does not verify', async () => {
    const ed = generateKey('EdDSA');
    const issuer = new TestIssuer('ES256');
    const v = createVerifier({ ...base, keys: () => new KeySet([issuer.key, ed]) });
    await assert.rejects(v.verify(issuer.token({}, { key: ed })), AlgorithmNotAllowedError);
    assert.equal((await v.verify(issuer.token())).sub, 'alice');
  });
});

describe('TokenRevokedError', () => {
  it('carries the Principal the revoked token would have established', async () => {
    const issuer = new TestIssuer('ES256');
    const set = new KeySet(issuer.keys);
    const v = createVerifier({ ...base, keys: () => set, isRevoked: (p) => p.sub === 'mallory' });
    await assert.rejects(
      v.verify(issuer.token({ sub: 'mallory' })),
      (e: unknown) => e instanceof TokenRevokedError && e.principal?.sub === 'mallory' && e.principal.clientId === 'web',
    );
  });
});
