import {
  JweInvalidError,
  JweUnsupportedError,
  KeyNotFoundError,
  type Algorithm,
  type EncryptionKey,
  type Key,
  type KeySet,
  type OptionalClaim,
  type TokenProfile,
} from '@tessera/core';
import { createVerifier } from '@tessera/verifier';

import { algorithmList, nonNegativeInteger, parseFlags, required, requiredList } from '../args.js';
import type { Command } from '../command.js';
import { loadDecryptionKeys } from '../decryption-key.js';
import { UsageError } from '../errors.js';
import { formatJson, note, out } from '../io.js';
import { isJwksUrl } from '../jwks-url.js';
import { readToken } from '../token-input.js';
import { describeSkipped, loadJwksFile, loadPublicKeyFile, loadSecretFile } from '../verification-key.js';

const OPTIONS = {
  jwks: { type: 'string' },
  'public-key': { type: 'string' },
  'secret-file': { type: 'string' },
  issuer: { type: 'string', multiple: true },
  audience: { type: 'string', multiple: true },
  alg: { type: 'string' },
  'clock-tolerance': { type: 'string' },
  typ: { type: 'string', multiple: true },
  'allow-no-typ': { type: 'boolean' },
  'optional-claim': { type: 'string', multiple: true },
  'require-claim': { type: 'string', multiple: true },
  'any-issuer': { type: 'boolean' },
  'any-audience': { type: 'boolean' },
  'allow-no-exp': { type: 'boolean' },
  'decryption-key': { type: 'string', multiple: true },
  json: { type: 'boolean' },
} as const;

const usage = `Usage: tessera token verify [TOKEN] (--jwks FILE|URL | --public-key FILE | --secret-file FILE)
                            (--issuer ISS | --any-issuer) (--audience AUD | --any-audience) --alg LIST
                            [--clock-tolerance SECONDS] [--decryption-key FILE]... [profile flags] [--json]

Verifies an access token under the strict RFC 9068 profile (signature; typ at+jwt; iss, exp, aud, sub,
iat and jti present; iss and aud as given; exp, nbf, iat on the clock) and prints its claims as JSON.
The token is read from the argument, else from standard input (preferred: it stays out of the process list).

Exactly one key source:
  --jwks FILE|URL       a JWKS document, or an http:// or https:// URL serving one
  --public-key FILE     a public key: PEM (SPKI or PKCS#1), a JWK, or an OpenSSH .pub line
  --secret-file FILE    an HMAC secret as base64url text, as "keys generate --alg HS256" writes

  --issuer ISS          accepted issuer, exact match (required; repeat for several)
  --audience AUD        this service's audience, exact match (required; repeat for several)
  --alg LIST            comma-separated algorithm allowlist, e.g. ES256 or ES256,EdDSA (required)
  --clock-tolerance S   seconds of clock skew tolerated on exp, nbf and iat (default 5)
  --decryption-key FILE an encrypted token (a nested JWT, as Tessera issues to a resource registered
                        with --encrypt): the resource's private encryption JWK (enc-private.jwk.json of
                        "keys generate --use enc"); the token is decrypted as the service's verifier
                        does (its decryptionKeys), then the signed token inside verified as above.
                        Repeatable (old and new key during a rotation). With it, only encrypted tokens
                        are accepted
  --json                accepted for uniformity: the claims are printed as JSON either way

Profile flags, for tokens of other issuers (Keycloak, Auth0, Entra ID, PyJWT); each names one relaxation:
  --typ TYP             accepted typ header instead of at+jwt (repeat for several), e.g. --typ JWT
  --allow-no-typ        accept a token with no typ header
  --optional-claim C    sub, iat or jti may be absent (repeat for several)
  --require-claim C     a further claim that must be present, e.g. client_id (repeat for several)
  --any-issuer          do not check iss (instead of --issuer): any issuer whose key verifies
  --any-audience        do not check aud (instead of --audience): a token meant for any service
  --allow-no-exp        accept a token without exp: it never expires

Exit codes: 0 valid (claims on stdout), 1 refused ("error: CODE: message" on stderr), 2 bad usage.
`;

type KeySourceFlag =
  { flag: '--jwks'; value: string } | { flag: '--public-key'; value: string } | { flag: '--secret-file'; value: string };

function keySourceFlag(values: { jwks?: string; 'public-key'?: string; 'secret-file'?: string }): KeySourceFlag {
  const given: KeySourceFlag[] = [];
  if (values.jwks !== undefined) given.push({ flag: '--jwks', value: values.jwks });
  if (values['public-key'] !== undefined) given.push({ flag: '--public-key', value: values['public-key'] });
  if (values['secret-file'] !== undefined) given.push({ flag: '--secret-file', value: values['secret-file'] });
  if (given.length === 0) throw new UsageError('a key source is required: --jwks, --public-key or --secret-file');
  if (given.length > 1) throw new UsageError(`give one key source, not ${given.map((g) => g.flag).join(' and ')}`);
  const source = given[0]!;
  if (source.value.length === 0) throw new UsageError(`${source.flag} must not be empty`);
  return source;
}

async function localKeys(
  source: KeySourceFlag,
  algorithms: readonly Algorithm[],
): Promise<{ keys: Key | KeySet; skippedNote: string }> {
  switch (source.flag) {
    case '--jwks': {
      const keys = await loadJwksFile(source.value, algorithms);
      return { keys, skippedNote: describeSkipped(keys.skipped) };
    }
    case '--public-key':
      return { keys: await loadPublicKeyFile(source.value, algorithms), skippedNote: '' };
    case '--secret-file':
      return { keys: await loadSecretFile(source.value, algorithms), skippedNote: '' };
  }
}

/** `--issuer` or `--any-issuer`, exactly one. */
function target(values: readonly string[] | undefined, flag: string, any: boolean | undefined, anyFlag: string) {
  if (!any) return requiredList(values, flag);
  if (values !== undefined) throw new UsageError(`give ${flag} or ${anyFlag}, not both`);
  return undefined;
}

function profileOf(values: {
  typ?: string[];
  'allow-no-typ'?: boolean;
  'optional-claim'?: string[];
  'require-claim'?: string[];
  'any-issuer'?: boolean;
  'any-audience'?: boolean;
  'allow-no-exp'?: boolean;
}): TokenProfile | undefined {
  const profile: TokenProfile = {};
  if (values.typ !== undefined) profile.typ = requiredList(values.typ, '--typ');
  if (values['allow-no-typ']) profile.allowMissingTyp = true;
  if (values['optional-claim'] !== undefined) {
    const claims = requiredList(values['optional-claim'], '--optional-claim');
    for (const c of claims) {
      if (c === 'exp') throw new UsageError('--optional-claim exp: use --allow-no-exp');
      if (c === 'iss' || c === 'aud')
        throw new UsageError(`--optional-claim ${c}: use --any-${c === 'iss' ? 'issuer' : 'audience'}`);
      if (c !== 'sub' && c !== 'iat' && c !== 'jti') throw new UsageError('--optional-claim takes sub, iat or jti');
    }
    profile.optionalClaims = claims as OptionalClaim[];
  }
  if (values['require-claim'] !== undefined) profile.requiredClaims = requiredList(values['require-claim'], '--require-claim');
  if (values['any-issuer']) profile.ignoreIssuer = true;
  if (values['any-audience']) profile.ignoreAudience = true;
  if (values['allow-no-exp']) profile.allowMissingExp = true;
  return Object.keys(profile).length === 0 ? undefined : profile;
}

async function run(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, OPTIONS);
  const source = keySourceFlag(values);
  const issuer = target(values.issuer, '--issuer', values['any-issuer'], '--any-issuer');
  const audience = target(values.audience, '--audience', values['any-audience'], '--any-audience');
  const profile = profileOf(values);
  const algorithms = algorithmList(required(values.alg, '--alg'), '--alg');
  const tolerance = values['clock-tolerance'];
  const clockTolerance = tolerance === undefined ? undefined : nonNegativeInteger(tolerance, '--clock-tolerance');
  if (positionals.length > 1) throw new UsageError('expected at most one TOKEN argument');
  const decryptionFiles = values['decryption-key'];
  if (decryptionFiles !== undefined) requiredList(decryptionFiles, '--decryption-key');
  // Decryption keys are the verifier's own (decryptionKeys), so they are read before it is built.
  const decryptionKeys = decryptionFiles === undefined ? undefined : await loadDecryptionKeys(decryptionFiles);

  // The Verifier every service runs, built first: a ConfigError here is bad usage, reported before any other
  // file or stdin is read. A JWKS URL is fetched as a service fetches it (timeout, size cap, parseJwks); local
  // keys are loaded after. It verifies one token, so its cache is off.
  const remote = source.flag === '--jwks' && isJwksUrl(source.value);
  let local: { keys: Key | KeySet; skippedNote: string } | undefined;
  const verifier = createVerifier({
    issuer,
    audience,
    algorithms,
    clockTolerance,
    profile,
    cache: false,
    ...(decryptionKeys === undefined ? {} : { decryptionKeys }),
    ...(remote ? { jwksUri: source.value } : { keys: () => local!.keys }),
  });
  let claims;
  let token: string | undefined;
  try {
    if (!remote) local = await localKeys(source, algorithms);
    token = await readToken(positionals);
    claims = (await verifier.verify(token)).claims;
  } catch (err) {
    const hint = token === undefined ? undefined : encryptionHint(token, decryptionKeys, err);
    if (hint !== undefined) note(hint);
    else if (err instanceof KeyNotFoundError && local?.skippedNote) note(`note: the JWKS has unusable keys${local.skippedNote}`);
    throw err;
  } finally {
    verifier.close();
  }
  out(formatJson(claims));
}

/** The `kid` of a compact JWE's protected header, or undefined for anything else (read only to explain a refusal). */
function jweKid(token: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 5) return undefined;
  try {
    const kid = (JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as { kid?: unknown }).kid;
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What to tell the user when an encrypted token is refused for want of its key: no --decryption-key given, or
 * keys other than the one the token names (its JWE kid, not secret), or a key of that kid that does not open it.
 */
function encryptionHint(token: string, keys: readonly EncryptionKey[] | undefined, err: unknown): string | undefined {
  const encrypted = token.split('.').length === 5;
  if (!encrypted)
    return keys !== undefined && err instanceof JweUnsupportedError && err.parameter === 'encryption'
      ? 'note: the token is signed, not encrypted: verify it without --decryption-key'
      : undefined;
  if (keys === undefined) return 'note: the token is encrypted (a JWE of five segments): pass its --decryption-key';
  const kid = jweKid(token);
  const given = keys.map((k) => k.kid).join(', ');
  if (err instanceof KeyNotFoundError && kid !== undefined && !keys.some((k) => k.kid === kid))
    return `note: the token is encrypted to key ${kid}, not to the --decryption-key given (${given})`;
  if (err instanceof JweInvalidError && err.reason === 'decryption')
    return `note: the --decryption-key given (${given}) does not open this token: it was encrypted to another key`;
  return undefined;
}

export const tokenVerify: Command = {
  name: 'token verify',
  summary: 'verify an access token (decrypting it with --decryption-key) and print its claims',
  usage,
  run,
};
