import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate and its private key, both PEM. */
export interface CertificatePair {
  cert: string;
  key: string;
}

export interface ClientCertificateOptions {
  /** The subject, in openssl's `/CN=.../O=...` form. Default `/CN=<name>`. */
  subject?: string;
  /** subjectAltName entries in openssl's form: `DNS:svc.example`, `URI:spiffe://example.org/orders`, `IP:10.0.0.1`, `email:a@example.com`. */
  altNames?: readonly string[];
  /** Key type: `ec` (P-256, default) or `rsa` (2048). */
  keyType?: 'ec' | 'rsa';
  /** Days valid (at least 1). Default 30. */
  days?: number;
}

/**
 * A test PKI made by the openssl command (Debian's): a CA, a server certificate for localhost/127.0.0.1 signed
 * by it, and on demand client certificates signed by the CA or self-signed. Real X.509 for TLS tests: node's
 * TLS stack and every client check them as in production. `close()` removes its working folder.
 */
export interface TestPki {
  ca: CertificatePair;
  /** For `localhost`, `127.0.0.1` and `::1`, signed by the CA. */
  server: CertificatePair;
  /** A client certificate signed by the CA. */
  issueClient(name: string, options?: ClientCertificateOptions): Promise<CertificatePair>;
  /** A self-signed client certificate (RFC 8705 self_signed_tls_client_auth). */
  selfSigned(name: string, options?: ClientCertificateOptions): Promise<CertificatePair>;
  close(): Promise<void>;
}

function keyArgs(type: 'ec' | 'rsa' | undefined): string[] {
  return type === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
}

/** Creates a test PKI in a temporary folder (needs the `openssl` command). */
export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-pki-'));
  let serial = 1;
  const file = (name: string) => join(dir, name);
  const pair = async (base: string): Promise<CertificatePair> => ({
    cert: await readFile(file(`${base}.crt`), 'utf8'),
    key: await readFile(file(`${base}.key`), 'utf8'),
  });
  const extFile = async (base: string, lines: string[]) => {
    await writeFile(file(`${base}.ext`), lines.join('\n') + '\n');
    return file(`${base}.ext`);
  };

  await run('openssl', [
    'req',
    '-x509',
    '-nodes',
    ...keyArgs('ec'),
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
    '-days',
    '30',
    '-subj',
    '/CN=Tessera Test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);

  /** A certificate request for `base`, signed by the CA with the given extensions. */
  const signed = async (base: string, subject: string, ext: string[], options: ClientCertificateOptions = {}) => {
    await run('openssl', [
      'req',
      '-new',
      '-nodes',
      ...keyArgs(options.keyType),
      '-keyout',
      file(`${base}.key`),
      '-out',
      file(`${base}.csr`),
      '-subj',
      subject,
    ]);
    const args = [
      'x509',
      '-req',
      '-in',
      file(`${base}.csr`),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-set_serial',
      String(++serial),
      '-out',
      file(`${base}.crt`),
      '-extfile',
      await extFile(base, ext),
      '-days',
      String(options.days ?? 30),
    ];
    await run('openssl', args);
    return pair(base);
  };

  const server = await signed('server', '/CN=localhost', [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
  ]);

  const clientExt = (options: ClientCertificateOptions) => [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=clientAuth',
    ...(options.altNames && options.altNames.length > 0 ? [`subjectAltName=${options.altNames.join(',')}`] : []),
  ];
  let n = 0;
  return {
    ca: await pair('ca'),
    server,
    issueClient: (name, options = {}) => signed(`client-${++n}`, options.subject ?? `/CN=${name}`, clientExt(options), options),
    async selfSigned(name, options = {}) {
      const base = `self-${++n}`;
      const args = [
        'req',
        '-x509',
        '-nodes',
        ...keyArgs(options.keyType),
        '-keyout',
        file(`${base}.key`),
        '-out',
        file(`${base}.crt`),
        '-subj',
        options.subject ?? `/CN=${name}`,
        '-days',
        String(options.days ?? 30),
      ];
      for (const e of clientExt(options)) args.push('-addext', e);
      await run('openssl', args);
      return pair(base);
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
