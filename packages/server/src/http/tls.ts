import { readFileSync } from 'node:fs';

import { ConfigError } from '@tessera/core';

import type { Config } from '../config/schema.js';
import { pemCertificates } from '../oauth/mtls.js';

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
 * The CA certificates of `tlsClientCa`, PEM, read once at start-up; undefined when unset. A missing or unreadable
 * file, or one without a CA certificate, is a ConfigError naming the setting.
 */
export function readClientCa(config: Pick<Config, 'tlsClientCa'>): string | undefined {
  if (config.tlsClientCa === undefined) return undefined;
  const ca = readPem('tlsClientCa', config.tlsClientCa, /-----BEGIN CERTIFICATE-----/);
  if (!pemCertificates(ca).some((c) => c.ca))
    throw new ConfigError('tlsClientCa', `${config.tlsClientCa} holds no valid CA certificate`);
  return ca;
}

/**
 * The TLS files of the listener, read once at start-up; undefined when TLS is off. A missing or unreadable file, or
 * one that holds no PEM certificate (key), is a ConfigError naming its setting.
 */
export function readTlsFiles(config: Pick<Config, 'tlsCert' | 'tlsKey' | 'tlsClientCa'>): TlsFiles | undefined {
  if (config.tlsCert === undefined || config.tlsKey === undefined) return undefined;
  const cert = readPem('tlsCert', config.tlsCert, /-----BEGIN CERTIFICATE-----/);
  const key = readPem('tlsKey', config.tlsKey, /-----BEGIN [A-Z ]*PRIVATE KEY-----/);
  const ca = readClientCa(config);
  return ca === undefined ? { cert, key } : { cert, key, ca };
}
