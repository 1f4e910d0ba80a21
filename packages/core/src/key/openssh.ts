import { Buffer } from 'node:buffer';

import { KeyInvalidError } from '../errors.js';

/**
 * Reads an OpenSSH public key line (`ssh-rsa AAAA... comment`, as `ssh-keygen` writes to `.pub`) into a
 * public JWK. Supports ssh-rsa, ssh-ed25519 and ecdsa-sha2-nistp256/384/521 (RFC 4253 section 6.6,
 * RFC 5656, RFC 8709).
 */
export function sshPublicKeyToJwk(line: string): Record<string, string> {
  const parts = line.trim().split(/\s+/);
  const [type, b64] = parts;
  if (!type || !b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw bad('not an OpenSSH public key line');
  const r = new Reader(Buffer.from(b64, 'base64'));
  if (r.string().toString('latin1') !== type) throw bad('key type in the blob does not match the line');
  let jwk: Record<string, string>;
  switch (type) {
    case 'ssh-rsa': {
      const e = r.mpint();
      const n = r.mpint();
      jwk = { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') };
      break;
    }
    case 'ssh-ed25519': {
      const x = r.string();
      if (x.length !== 32) throw bad('Ed25519 key must be 32 bytes');
      jwk = { kty: 'OKP', crv: 'Ed25519', x: x.toString('base64url') };
      break;
    }
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521': {
      const size = { 'ecdsa-sha2-nistp256': 32, 'ecdsa-sha2-nistp384': 48, 'ecdsa-sha2-nistp521': 66 }[type];
      const crv = { 'ecdsa-sha2-nistp256': 'P-256', 'ecdsa-sha2-nistp384': 'P-384', 'ecdsa-sha2-nistp521': 'P-521' }[type];
      r.string(); // curve identifier, implied by the type
      const q = r.string();
      if (q.length !== 1 + 2 * size || q[0] !== 0x04) throw bad('EC point must be uncompressed');
      jwk = {
        kty: 'EC',
        crv,
        x: q.subarray(1, 1 + size).toString('base64url'),
        y: q.subarray(1 + size).toString('base64url'),
      };
      break;
    }
    default:
      throw bad('unsupported OpenSSH key type');
  }
  if (!r.done()) throw bad('trailing bytes in the OpenSSH key blob');
  return jwk;
}

function bad(message: string): KeyInvalidError {
  return new KeyInvalidError('openssh', message);
}

class Reader {
  private i = 0;
  constructor(private readonly b: Buffer) {}
  string(): Buffer {
    if (this.i + 4 > this.b.length) throw bad('truncated OpenSSH key blob');
    const len = this.b.readUInt32BE(this.i);
    this.i += 4;
    if (this.i + len > this.b.length) throw bad('truncated OpenSSH key blob');
    const out = this.b.subarray(this.i, this.i + len);
    this.i += len;
    return out;
  }
  /** A positive mpint without its sign byte. */
  mpint(): Buffer {
    const v = this.string();
    if (v.length === 0 || (v[0]! & 0x80) !== 0) throw bad('RSA integers must be positive');
    return v[0] === 0 ? v.subarray(1) : v;
  }
  done(): boolean {
    return this.i === this.b.length;
  }
}
