import { decodeUnverified, JweDecrypter } from '@tessera/core';

import { parseFlags, requiredList } from '../args.js';
import type { Command } from '../command.js';
import { loadDecryptionKeys } from '../decryption-key.js';
import { formatJson, note, out } from '../io.js';
import { readToken } from '../token-input.js';

export const UNVERIFIED_INNER_LABEL =
  'UNVERIFIED: decrypted, but the signed token inside was NOT verified (neither its signature nor its claims); use "token verify --decryption-key" to verify it';

const usage = `Usage: tessera token decrypt [TOKEN] --decryption-key FILE... [--json]

Decrypts an encrypted access token (a compact JWE holding a signed JWT, as Tessera issues to a resource
registered with --encrypt) with the resource's private key, and prints
{ "jwe_header": ..., "header": ..., "payload": ... }: the encryption header, then the header and claims of
the signed token inside, WITHOUT verifying its signature or claims: for inspection only ("token verify
--decryption-key" decrypts and verifies). The token is read from the argument, else from standard input.

  --decryption-key FILE  the resource's private encryption JWK (enc-private.jwk.json, as "keys generate
                         --use enc" writes it); repeatable (during a key rotation, the old and the new)
  --json                 accepted for uniformity: the output is JSON either way

Decryption is as strict as a service's verifier: ECDH-ES(+A256KW) and RSA-OAEP-256 only (the keys'
algorithms), A256GCM, compact serialization, no zip, no crit, the ephemeral key checked on its curve.
`;

async function run(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, {
    'decryption-key': { type: 'string', multiple: true },
    json: { type: 'boolean' },
  });
  const files = requiredList(values['decryption-key'], '--decryption-key');
  const keys = await loadDecryptionKeys(files);
  const token = await readToken(positionals);
  // The decrypter a service's Verifier builds for these keys: their algorithms, A256GCM.
  const { header, jws } = new JweDecrypter({ algorithms: [...new Set(keys.map((k) => k.alg))] }).decrypt(token, keys);
  const inner = decodeUnverified(jws);
  note(UNVERIFIED_INNER_LABEL);
  out(formatJson({ jwe_header: header, header: inner.header, payload: inner.payload }));
}

export const tokenDecrypt: Command = {
  name: 'token decrypt',
  summary: 'decrypt an encrypted token and show what it holds, unverified',
  usage,
  run,
};
