/**
 * The value of the first cookie called `name` in a Cookie header (RFC 6265 section 5.4), if it has the shape
 * `shape` expects; undefined otherwise (absent, or not a value this server could have set).
 */
export function cookieValue(cookieHeader: string | undefined, name: string, shape: RegExp): string | undefined {
  if (cookieHeader === undefined) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return shape.test(value) ? value : undefined;
  }
  return undefined;
}

/**
 * A `__Host-` cookie (RFC 6265bis): Secure, Path=/, no Domain, so that no subdomain or plain-http page can set
 * or overwrite it; HttpOnly keeps it from scripts; SameSite=Lax sends it on top-level navigations only.
 * Max-Age 0 removes it.
 */
export function hostCookie(name: string, value: string, maxAgeSeconds: number): string {
  return `${name}=${value}; Max-Age=${maxAgeSeconds}; Path=/; Secure; HttpOnly; SameSite=Lax`;
}
