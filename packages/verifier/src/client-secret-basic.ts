/**
 * The Authorization header of client_secret_basic (RFC 6749 section 2.3.1): client id and secret each
 * form-urlencoded (a space as `+`), joined by a colon, base64. The one place Tessera's clients build it.
 */
export function clientSecretBasic(clientId: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64')}`;
}
