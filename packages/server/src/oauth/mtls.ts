import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';

import { certificateThumbprint, ConfigError } from '@tessera/core';
import type { FastifyRequest } from 'fastify';

import type { Config } from '../config/schema.js';
import { trustedPeers } from '../http/trusted-peer.js';
import type { Client, TlsClientAuthSubject, TlsSubjectKind } from '../store/types.js';

/** The client certificate of a request's mutual-TLS connection (RFC 8705). */
export interface ClientCertificate {
  /** The certificate, DER. */
  der: Buffer;
  /** RFC 8705 section 3.1 `x5t#S256`: SHA-256 of the DER, base64url. */
  thumbprint: string;
  /** The peer's chain verified against `tlsClientCa` during the handshake (node's `socket.authorized`). */
  authorized: boolean;
}

/** RFC 9440 section 2: the header a TLS-terminating proxy passes the client certificate in. */
export const CLIENT_CERT_HEADER = 'client-cert';
/** The DER of the OID 2.5.29.30 (id-ce-nameConstraints), as it stands in a certificate's extensions. */
const NAME_CONSTRAINTS_OID = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x1e]);
/** RFC 5280 id-kp-clientAuth: a certificate whose extended key usage is stated must allow client authentication. */
const CLIENT_AUTH_EKU = '1.3.6.1.5.5.7.3.2';

/**
 * Where a request's client certificate comes from, one per server instance. Over the server's own TLS the peer
 * certificate of the connection: the server asks for one (`requestCert`) but lets a connection without one in
 * (`rejectUnauthorized` false), and what the certificate proves is decided per client, never by the handshake; it is
 * `authorized` only when `tlsClientCa` is set (without it node would verify the chain against its default public CAs,
 * which are not trusted to name clients). With `clientCertHeader`, a request from a `trustProxy` peer carries it in
 * the RFC 9440 `Client-Cert` header instead, verified here against `tlsClientCa`; from such a peer the header is the
 * only source (the connection's own certificate is the proxy's), and a malformed header is no certificate. Anyone
 * else's header is ignored.
 *
 * The header's certificate must be issued directly by a CA of `tlsClientCa` (list the intermediate CAs there):
 * `Client-Cert-Chain` is not followed, since here no X.509 path validation (RFC 5280: path lengths, name
 * constraints, policies) runs as OpenSSL's does on the TLS path, and a chain through a constrained CA must not pass
 * where the handshake would refuse it. For the same reason a CA of `tlsClientCa` with name constraints is refused at
 * start-up in this mode (they would not be enforced).
 */
export class ClientCertificates {
  private readonly anchors: X509Certificate[];
  private readonly trusted: (address: string | undefined) => boolean;

  constructor(
    private readonly config: Pick<Config, 'clientCertHeader' | 'trustProxy'>,
    clientCa: string | undefined,
    private readonly now: () => number,
  ) {
    this.anchors = clientCa === undefined ? [] : pemCertificates(clientCa).filter((c) => c.ca);
    this.trusted = trustedPeers(config.trustProxy);
    if (config.clientCertHeader) {
      const constrained = this.anchors.find((a) => a.raw.includes(NAME_CONSTRAINTS_OID));
      if (constrained !== undefined)
        throw new ConfigError(
          'tlsClientCa',
          `the CA ${constrained.subject.replace(/\n/g, ', ')} has name constraints, which are not enforced on certificates from the Client-Cert header (clientCertHeader): end mutual TLS at Tessera, or trust an unconstrained CA`,
        );
    }
  }

  /** The request's client certificate; undefined when it has none. */
  of(req: FastifyRequest): ClientCertificate | undefined {
    if (this.config.clientCertHeader && this.trusted(req.raw.socket.remoteAddress)) return this.fromHeader(req);
    const socket = req.raw.socket as TLSSocket;
    if (typeof socket.getPeerCertificate !== 'function') return undefined;
    const peer = socket.getPeerCertificate();
    const der = peer && Buffer.isBuffer(peer.raw) && peer.raw.length > 0 ? peer.raw : undefined;
    if (!der) return undefined;
    return { der, thumbprint: certificateThumbprint(der), authorized: this.anchors.length > 0 && socket.authorized === true };
  }

  private fromHeader(req: FastifyRequest): ClientCertificate | undefined {
    const header = req.headers[CLIENT_CERT_HEADER];
    if (typeof header !== 'string') return undefined;
    const der = byteSequence(header);
    const leaf = der && certificate(der);
    if (!der || !leaf) return undefined;
    return { der, thumbprint: certificateThumbprint(der), authorized: this.verified(leaf) };
  }

  /**
   * The certificate is an end entity's, for client authentication, valid now, and issued (and signed) by a CA of
   * `tlsClientCa` valid now that may sign certificates (`checkIssued`: names, key identifiers, keyCertSign).
   */
  private verified(leaf: X509Certificate): boolean {
    if (leaf.ca || (leaf.keyUsage !== undefined && !leaf.keyUsage.includes(CLIENT_AUTH_EKU))) return false;
    const now = this.now();
    const valid = (c: X509Certificate) => Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo);
    if (!valid(leaf)) return false;
    return this.anchors.some((a) => valid(a) && leaf.checkIssued(a) && leaf.verify(a.publicKey));
  }
}

/** An RFC 8941 byte sequence (`:base64:`, as RFC 9440 sends a DER certificate); undefined for anything else. */
function byteSequence(text: string): Buffer | undefined {
  const m = /^\s*:([A-Za-z0-9+/]+={0,2}):\s*$/.exec(text);
  return m ? Buffer.from(m[1]!, 'base64') : undefined;
}

function certificate(der: Buffer): X509Certificate | undefined {
  try {
    return new X509Certificate(der);
  } catch {
    return undefined;
  }
}

/** The certificates of a PEM bundle (each `BEGIN CERTIFICATE` block that parses). */
export function pemCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const out: X509Certificate[] = [];
  for (const block of blocks) {
    try {
      out.push(new X509Certificate(block));
    } catch {
      /* not a certificate: left out */
    }
  }
  return out;
}

/** Whether the client authenticates by its certificate (RFC 8705 section 2). */
export function isMtlsClient(client: Pick<Client, 'authMethod'>): boolean {
  return client.authMethod === 'tls_client_auth' || client.authMethod === 'self_signed_tls_client_auth';
}

/**
 * Whether the certificate authenticates the client (RFC 8705 section 2): for tls_client_auth a chain the server's
 * `tlsClientCa` verified, naming the registered subject; for self_signed_tls_client_auth one of the certificates of
 * the client's registered jwks (`x5c`), compared by SHA-256 thumbprint. False for any other client.
 */
export function certificateAuthenticates(client: Client, certificate: ClientCertificate): boolean {
  if (client.authMethod === 'tls_client_auth') {
    if (!certificate.authorized || !client.tlsClientAuthSubject) return false;
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(certificate.der);
    } catch {
      return false;
    }
    return namesSubject(cert, client.tlsClientAuthSubject);
  }
  if (client.authMethod === 'self_signed_tls_client_auth')
    return registeredCertificates(client.jwks).includes(certificate.thumbprint);
  return false;
}

/**
 * The SHA-256 thumbprints of the certificates of a JWKS's `x5c` members (each key's first, its own certificate,
 * RFC 7517 section 4.7); entries that are not a certificate are skipped.
 */
export function registeredCertificates(jwks: Client['jwks']): string[] {
  const out: string[] = [];
  for (const key of jwks?.keys ?? []) {
    const first = Array.isArray(key.x5c) ? (key.x5c[0] as unknown) : undefined;
    if (typeof first !== 'string') continue;
    const der = Buffer.from(first, 'base64');
    if (certificate(der)) out.push(certificateThumbprint(der));
  }
  return out;
}

/** Whether the certificate names the subject: its DN, or a subjectAltName entry of the registered kind. */
export function namesSubject(cert: X509Certificate, subject: TlsClientAuthSubject): boolean {
  if (subject.kind === 'subject_dn') {
    const registered = parseDn(subject.value);
    return registered !== undefined && sameDn(subjectRdns(cert.subject), registered);
  }
  const kind = subject.kind;
  return altNames(cert.subjectAltName).some((n) => n.type === SAN_TYPES[kind] && sameSan(kind, n.value, subject.value));
}

const SAN_TYPES = { san_dns: 'DNS', san_uri: 'URI', san_ip: 'IP Address', san_email: 'email' } as const;

function sameSan(kind: Exclude<TlsSubjectKind, 'subject_dn'>, presented: string, registered: string): boolean {
  switch (kind) {
    case 'san_dns':
      // DNS names compare case-insensitively (RFC 4343).
      return presented.toLowerCase() === registered.toLowerCase();
    case 'san_ip': {
      const a = canonicalIp(presented);
      return a !== undefined && a === canonicalIp(registered);
    }
    default:
      return presented === registered;
  }
}

/** An IP address in one spelling (IPv6 compressed, lower case), undefined for anything else. */
export function canonicalIp(ip: string): string | undefined {
  const v = isIP(ip);
  if (v === 4) return new URL(`http://${ip}/`).hostname;
  if (v === 6) return new URL(`http://[${ip}]/`).hostname;
  return undefined;
}

/**
 * The entries of node's `subjectAltName` text (`DNS:a, URI:b, IP Address:c, email:d`): a value that holds a
 * separator or a quote is written as a JSON string there.
 */
function altNames(text: string | undefined): { type: string; value: string }[] {
  const out: { type: string; value: string }[] = [];
  if (!text) return out;
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon === -1) return [];
    const type = text.slice(i, colon);
    let value: string;
    let end: number;
    if (text[colon + 1] === '"') {
      end = colon + 2;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(text.slice(colon + 1, end + 1)) as string;
      } catch {
        return [];
      }
      end += 1;
    } else {
      end = text.indexOf(', ', colon);
      if (end === -1) end = text.length;
      value = text.slice(colon + 1, end);
    }
    out.push({ type, value });
    i = end + 2;
  }
  return out;
}

/** One attribute of a relative distinguished name: its type (upper case short name or dotted OID) and value. */
interface Attribute {
  type: string;
  value: string;
}

/** Short names of RFC 4514 section 3, and the ones node prints besides. */
const ATTRIBUTE_OIDS: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '2.5.4.5': 'SERIALNUMBER',
  '1.2.840.113549.1.9.1': 'EMAILADDRESS',
};

function attributeType(t: string): string {
  const trimmed = t.trim();
  const upper = trimmed.toUpperCase();
  const oid = upper.startsWith('OID.') ? upper.slice(4) : upper;
  return ATTRIBUTE_OIDS[oid] ?? upper;
}

/**
 * Splits `text` at each unescaped `sep` (RFC 4514 escapes: a backslash before a special character, or two hex
 * digits). Undefined for a dangling backslash.
 */
function splitUnescaped(text: string, sep: string): string[] | undefined {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') {
      if (i + 1 >= text.length) return undefined;
      i++;
      continue;
    }
    if (text[i] === sep) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** An RFC 4514 attribute value with its escapes undone; undefined for a malformed one. */
function unescapeValue(raw: string): string | undefined {
  const v = raw.trim();
  if (v.startsWith('#')) return v.toLowerCase(); // A hex-encoded BER value: compared as written.
  const bytes: number[] = [];
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = v.slice(i + 1, i + 3);
    if (/^[0-9a-fA-F]{2}$/.test(next)) {
      bytes.push(parseInt(next, 16));
      i += 2;
    } else if (i + 1 < v.length) {
      bytes.push(...Buffer.from(v[i + 1]!, 'utf8'));
      i += 1;
    } else return undefined;
  }
  return Buffer.from(bytes).toString('utf8');
}

function parseRdn(text: string): Attribute[] | undefined {
  const parts = splitUnescaped(text, '+');
  if (!parts) return undefined;
  const out: Attribute[] = [];
  for (const p of parts) {
    const eq = p.indexOf('=');
    if (eq < 1) return undefined;
    const type = attributeType(p.slice(0, eq));
    const value = unescapeValue(p.slice(eq + 1));
    if (type === '' || value === undefined) return undefined;
    out.push({ type, value });
  }
  return out;
}

/**
 * An RFC 4514 distinguished name (`CN=orders,O=Acme`: the most specific RDN first), as its RDNs in certificate
 * order (the least specific first); undefined when it is not one.
 */
export function parseDn(dn: string): Attribute[][] | undefined {
  if (dn.trim() === '') return undefined;
  const rdns = splitUnescaped(dn, ',');
  if (!rdns) return undefined;
  const out: Attribute[][] = [];
  for (const r of rdns) {
    const rdn = parseRdn(r);
    if (!rdn) return undefined;
    out.push(rdn);
  }
  return out.reverse();
}

/**
 * The RDNs of node's X509Certificate `subject` text: one line per RDN in certificate order, a multi-valued RDN's
 * attributes joined by ` + `, values escaped as RFC 2253 says.
 */
function subjectRdns(subject: string): Attribute[][] | undefined {
  const out: Attribute[][] = [];
  for (const line of subject.split('\n')) {
    if (line === '') continue;
    const rdn = parseRdn(line);
    if (!rdn) return undefined;
    out.push(rdn);
  }
  return out;
}

/** Values compared as RFC 4517's caseIgnoreMatch prepares them: case folded, inner white space collapsed, trimmed. */
function prepared(value: string): string {
  return value.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/**
 * RFC 8705 section 2.1.2: the DN compares as RFC 4517's distinguishedNameMatch: the same RDNs in the same order,
 * each with the same attributes in any order, values matched case-insensitively.
 */
function sameDn(presented: Attribute[][] | undefined, registered: Attribute[][]): boolean {
  if (!presented || presented.length !== registered.length) return false;
  return presented.every((rdn, i) => {
    const other = registered[i]!;
    if (rdn.length !== other.length) return false;
    const key = (a: Attribute) => `${a.type}=${prepared(a.value)}`;
    const mine = rdn.map(key).sort();
    const theirs = other.map(key).sort();
    return mine.every((k, j) => k === theirs[j]);
  });
}
