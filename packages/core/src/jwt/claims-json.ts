/** The registered claims `signAccessToken` writes, in the order it writes them. */
export interface RegisteredClaims {
  iss: string;
  sub: string;
  aud: string | readonly string[];
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  scope: string | undefined;
}

/** What JSON.stringify escapes in a string: '"', '\', controls, and surrogates (lone ones; pairs too, here). */
// eslint-disable-next-line no-control-regex -- control characters are what JSON must escape
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * The JSON text of a claim set of registered claims only: exactly what JSON.stringify gives for the object
 * `{iss, sub, aud, exp, iat, jti, client_id, scope}` (scope left out when undefined), written directly,
 * without building the object, in about half the time. A string that needs an escape goes through
 * JSON.stringify itself. test/claims-json.test.ts holds it to JSON.stringify.
 */
export function registeredClaimsJson(c: RegisteredClaims): string {
  const aud = typeof c.aud === 'string' ? str(c.aud) : strings(c.aud);
  const json =
    `{"iss":${str(c.iss)},"sub":${str(c.sub)},"aud":${aud},"exp":${num(c.exp)},"iat":${num(c.iat)},` +
    `"jti":${str(c.jti)},"client_id":${str(c.client_id)}`;
  return c.scope === undefined ? `${json}}` : `${json},"scope":${str(c.scope)}}`;
}

function str(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

function strings(list: readonly string[]): string {
  let out = '[';
  for (let i = 0; i < list.length; i++) out += (i === 0 ? '' : ',') + str(list[i]!);
  return `${out}]`;
}

/** JSON.stringify of a number: its shortest round-trip form, `null` when not finite. */
function num(n: number): string {
  return Number.isFinite(n) ? `${n}` : 'null';
}
