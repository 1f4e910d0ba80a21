import { TesseraError } from '@tessera/core';

/**
 * A signing key stored encrypted could not be decrypted with this master key: the master key is not the
 * one the key was encrypted with, or the stored key was changed. `reason` is `format` (not an encrypted key
 * of this version) or `authentication` (the AES-GCM tag does not verify). `kid` names the key.
 */
export class KeyDecryptionError extends TesseraError {
  static readonly code = 'ERR_KEY_DECRYPTION';
  readonly kid: string;
  readonly reason: 'format' | 'authentication';
  constructor(kid: string, reason: 'format' | 'authentication') {
    super(
      KeyDecryptionError.code,
      reason === 'format'
        ? `signing key ${kid}: not an encrypted key of a known format`
        : `signing key ${kid}: cannot decrypt (wrong master key, or tampered data)`,
    );
    this.kid = kid;
    this.reason = reason;
  }
}

/**
 * Another instance (or the CLI) held the lease on the signing keys for longer than a change waits: nothing
 * was changed; try again.
 */
export class KeysBusyError extends TesseraError {
  static readonly code = 'ERR_KEYS_BUSY';
  constructor() {
    super(KeysBusyError.code, 'the signing keys are being changed by another instance; try again');
  }
}
