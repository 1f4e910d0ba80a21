import { TesseraError } from '@tessera/core';

/**
 * Errors of the `tessera` command itself. Like every Tessera error they carry a stable `code`; messages
 * name files and flags but never hold a token, a key or a secret. Errors from @tessera/core pass through
 * with their own codes.
 */
export class CliError extends TesseraError {}

/** A missing, unknown or invalid flag or argument. Exit code 2, with the command's usage. */
export class UsageError extends CliError {
  static readonly code = 'ERR_USAGE';
  constructor(message: string) {
    super(UsageError.code, message);
  }
}

/** `keys generate --out` or `init --dir` would overwrite a file. Nothing is written. */
export class FileExistsError extends CliError {
  static readonly code = 'ERR_FILE_EXISTS';
  readonly path: string;
  /** @param flag the flag that chooses another place, named in the message. */
  constructor(path: string, flag = '--out') {
    super(FileExistsError.code, `${path} already exists; refusing to overwrite it (move it away or choose another ${flag})`);
    this.path = path;
  }
}

/** A file or standard input could not be read, or is larger than the command accepts. */
export class InputError extends CliError {
  static readonly code = 'ERR_INPUT';
  constructor(message: string, options?: { cause?: unknown }) {
    super(InputError.code, message, options);
  }
}

/** A file could not be written (other than because it exists). */
export class OutputError extends CliError {
  static readonly code = 'ERR_OUTPUT';
  constructor(message: string, options?: { cause?: unknown }) {
    super(OutputError.code, message, options);
  }
}

/** The port a server was to listen on is taken (EADDRINUSE). Nothing keeps running. */
export class PortInUseError extends CliError {
  static readonly code = 'ERR_PORT_IN_USE';
  readonly port: number;
  /** @param setting what changes the port, e.g. `--port or TESSERA_PORT`. */
  constructor(host: string, port: number, setting: string) {
    super(
      PortInUseError.code,
      `port ${port} on ${host} is already in use; stop what holds it or choose another port with ${setting}`,
    );
    this.port = port;
  }
}

/** A running server refused a request: its HTTP status and OAuth `error` / `error_description` are shown. */
export class ServerRefusedError extends CliError {
  static readonly code = 'ERR_SERVER_REFUSED';
  readonly status: number;
  readonly error: string | undefined;
  constructor(url: string, status: number, error: string | undefined, description: string | undefined) {
    const what = [error, description].filter(Boolean).join(': ');
    super(ServerRefusedError.code, `${url} refused the request: HTTP ${status}${what ? ` ${what}` : ''}`);
    this.status = status;
    this.error = error;
  }
}

/** `token revoke --dir` found no live token of this server to revoke (unknown, expired, or issued elsewhere). */
export class TokenNotRevokedError extends CliError {
  static readonly code = 'ERR_TOKEN_NOT_REVOKED';
  constructor() {
    super(TokenNotRevokedError.code, 'no live token of this server matches: nothing was revoked');
  }
}

/** Anything that is not a Tessera error; reported with this code and a redacted message. */
export const UNEXPECTED_ERROR_CODE = 'ERR_UNEXPECTED';

/** Every code the CLI itself prints (besides those of @tessera/core and @tessera/verifier). */
export const CLI_ERROR_CODES: readonly string[] = Object.freeze([
  UsageError.code,
  FileExistsError.code,
  InputError.code,
  OutputError.code,
  PortInUseError.code,
  ServerRefusedError.code,
  TokenNotRevokedError.code,
  UNEXPECTED_ERROR_CODE,
]);
