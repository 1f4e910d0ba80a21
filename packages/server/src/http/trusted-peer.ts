import { BlockList, isIP } from 'node:net';

/** The ranges of proxy-addr's keywords, as Fastify's `trustProxy` reads them. */
const KEYWORDS: Record<string, readonly [string, number, 'ipv4' | 'ipv6'][]> = {
  loopback: [
    ['127.0.0.0', 8, 'ipv4'],
    ['::1', 128, 'ipv6'],
  ],
  linklocal: [
    ['169.254.0.0', 16, 'ipv4'],
    ['fe80::', 10, 'ipv6'],
  ],
  uniquelocal: [
    ['10.0.0.0', 8, 'ipv4'],
    ['172.16.0.0', 12, 'ipv4'],
    ['192.168.0.0', 16, 'ipv4'],
    ['fc00::', 7, 'ipv6'],
  ],
};

/**
 * Whether a connection's peer address is one of the `trustProxy` entries (addresses, CIDR ranges, `loopback`,
 * `linklocal`, `uniquelocal`, checked by the settings engine), an IPv4-mapped IPv6 peer read as its IPv4 address.
 * Only such a peer's headers about the client (X-Forwarded-For, RFC 9440 Client-Cert) are believed.
 */
export function trustedPeers(trustProxy: readonly string[]): (address: string | undefined) => boolean {
  const list = new BlockList();
  for (const entry of trustProxy) {
    const ranges = KEYWORDS[entry];
    if (ranges) {
      for (const [net, prefix, family] of ranges) list.addSubnet(net, prefix, family);
      continue;
    }
    const [address, prefix] = entry.split('/');
    const family = isIP(address!) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address!, family);
    else list.addSubnet(address!, Number(prefix), family);
  }
  return (address) => {
    if (address === undefined) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    const peer = mapped ? mapped[1]! : address;
    const family = isIP(peer);
    return family !== 0 && list.check(peer, family === 6 ? 'ipv6' : 'ipv4');
  };
}
