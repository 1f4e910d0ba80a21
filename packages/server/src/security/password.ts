import argon2 from 'argon2';

/**
 * argon2id with the OWASP password-storage parameters (19 MiB, 2 passes, 1 lane). A login for an unknown
 * user verifies against a dummy hash, so that it costs the same time as a wrong password.
 */
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

let dummy: Promise<string> | undefined;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

export async function verifyPassword(hash: string | undefined, password: string): Promise<boolean> {
  if (hash === undefined) {
    dummy ??= argon2.hash('tessera dummy password', OPTIONS);
    await argon2.verify(await dummy, password).catch(() => false);
    return false;
  }
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/** Passwords: 8 to 1,024 characters, no control characters. */
export function passwordProblem(password: unknown): string | undefined {
  if (typeof password !== 'string') return 'password must be a string';
  if (password.length < 8) return 'password must have at least 8 characters';
  if (password.length > 1024) return 'password must have at most 1024 characters';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(password)) return 'password must not contain control characters';
  return undefined;
}
