/**
 * Messages the CLI did not write itself (parseArgs, unexpected exceptions) may quote their input. Any run
 * of 24 or more base64url characters, the shape of every token segment, key and secret, is replaced.
 * Tessera's own error messages are written never to hold such material and are printed as they are.
 */
export function redact(message: string): string {
  return message.replace(/[A-Za-z0-9_\-+/=]{24,}/g, '[redacted]');
}
