import { isIP } from 'node:net';

const PROXY_KEYWORDS = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * Proxy addresses for X-Forwarded-For: a list (or comma-separated string) of IP addresses, CIDR ranges and
 * proxy-addr's keywords. `false` means none; `true` ("trust anyone") is refused, since any client could then
 * choose the address that throttling and audit see.
 */
export function proxyAddresses(raw: unknown, fail: (why: string) => never): string[] {
  if (raw === false || raw === 'false' || raw === '0') return [];
  if (raw === true || raw === 'true' || raw === '1')
    fail(
      '`true` would trust X-Forwarded-For from any client; list the addresses or CIDR ranges of your proxies instead (e.g. 10.0.0.0/8)',
    );
  const items = Array.isArray(raw)
    ? raw
    : typeof raw === 'string'
      ? raw.split(',')
      : fail('must be a list of addresses or CIDR ranges');
  const out: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') return fail('must be a list of addresses or CIDR ranges');
    const entry = item.trim();
    if (entry === '') continue;
    if (!PROXY_KEYWORDS.includes(entry) && !isAddressOrRange(entry))
      fail(`${JSON.stringify(entry.slice(0, 60))} is not an IP address, a CIDR range or one of ${PROXY_KEYWORDS.join(', ')}`);
    out.push(entry);
  }
  return out;
}

function isAddressOrRange(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  const version = isIP(address!);
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}
