// The `payroll` service: it receives encrypted access tokens. Registered with the auth server as resource
// "payroll" with its public encryption key, it gets its users' tokens as nested JWTs (signed, then encrypted to
// that key) carrying the user's email, which only payroll can read: not the client, its proxies or its logs. Its
// verifier decrypts with the private key (decryptionKeys), then verifies the signed token inside against the auth
// server's JWKS, as any service does.
import { generateEncryptionKey } from '@tessera/core';
import { createVerifier } from '@tessera/verifier';
import { tesseraFastify } from '@tessera/verifier/fastify';
import Fastify from 'fastify';

export const PAYROLL_AUDIENCE = 'payroll';
export const PAYROLL_SCOPE = 'payroll:read';

/**
 * Payroll's key pair for encrypted tokens, made at each start: the private key stays in this process, the
 * public JWK is what the auth server encrypts to (`setup.js` registers it).
 */
export function payrollKey() {
  return generateEncryptionKey('ECDH-ES+A256KW', { kid: `payroll-${new Date().toISOString().slice(0, 19)}Z` });
}

/** Starts payroll on `host:port`, decrypting with `key` (from `payrollKey`). */
export async function startPayroll({ issuer, host, port, key, logLevel = 'warn' }) {
  const verifier = createVerifier({
    issuer,
    audience: PAYROLL_AUDIENCE,
    algorithms: ['ES256'],
    jwksUri: `${issuer}/.well-known/jwks.json`,
    // Only tokens encrypted to this key are accepted: a signed token (readable by whoever holds it) is refused.
    decryptionKeys: [key],
  });
  const app = Fastify({ logger: { level: logLevel } });
  await app.register(tesseraFastify, { verifier, realm: 'payroll' });
  app.get('/payslip', { config: { tessera: { scopes: [PAYROLL_SCOPE] } } }, async (req) => ({
    employee: req.principal.sub,
    // The user's email came inside the encrypted token: the resource asked for it (access_token_claims).
    email: req.principal.claims.email ?? null,
    month: new Date().toISOString().slice(0, 7),
    net: { amount: 4210, currency: 'EUR' },
  }));
  await app.listen({ port, host });
  return {
    url: `http://${host}:${port}`,
    async close() {
      verifier.close();
      await app.close();
    },
  };
}
