import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';

import { ConfigError } from '@tessera/core';

import type { Config } from '../config/schema.js';

/** What node's HTTPS server is given: the server's certificate and key, and the CAs of tls_client_auth clients. */
export interface TlsFiles {
  cert: string;
  key: string;
  ca?: string;
}

function readPem(setting: 'tlsCert' | 'tlsKey' | 'tlsClientCa', file: string, what: RegExp): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(setting, `cannot read ${file}`);
  }
  if (!what.test(text))
    throw new ConfigError(setting, `${file} holds no PEM ${setting === 'tlsKey' ? 'private key' : 'certificate'}`);
  return text;
}

/**
 * The TLS files of the configuration, read once at start-up; undefined when TLS is off. A missing or unreadable
 * file, or one that holds no PEM certificate (key), is a ConfigError naming its setting; so is a CA file whose
 * first certificate does not parse.
 */
export function readTlsFiles(config: Pick<Config, 'tlsCert' | 'tlsKey' | 'tlsClientCa'>): TlsFiles | undefined {
  if (config.tlsCert === undefined || config.tlsKey === undefined) return undefined;
  const cert = readPem('tlsCert', config.tlsCert, /-----BEGIN CERTIFICATE-----/);
  const key = readPem('tlsKey', config.tlsKey, /-----BEGIN [A-Z ]*PRIVATE KEY-----/);
  if (config.tlsClientCa === undefined) return { cert, key };
  const ca = readPem('tlsClientCa', config.tlsClientCa, /-----BEGIN CERTIFICATE-----/);
  try {
    new X509Certificate(ca);
  } catch {
    throw new ConfigError('tlsClientCa', `${config.tlsClientCa} holds no valid certificate`);
  }
  return { cert, key, ca };
}
