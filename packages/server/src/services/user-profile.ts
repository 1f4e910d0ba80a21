import type { User, UserProfilePatch } from '../store/types.js';
import { AdminInputError } from './errors.js';

/** The longest name claim (name, given_name, family_name), characters. */
export const MAX_NAME_LENGTH = 256;
/** The longest email address (RFC 5321 section 4.5.3.1.3: a path of 256 octets, less the angle brackets). */
export const MAX_EMAIL_LENGTH = 254;

/**
 * An address `local@domain`: a local part without spaces, quotes, brackets or the specials of RFC 5322 (quoted
 * local parts are not taken), a domain of DNS labels. The syntax only: whether the user receives mail there is
 * what `email_verified` states.
 */
const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** The claims an admin sets, by their OpenID Connect names. */
export const PROFILE_CLAIMS = ['name', 'given_name', 'family_name', 'email', 'email_verified'] as const;

/** The profile as the admin API and the CLI give it (OpenID Connect claim names); null clears a claim. */
export interface ProfileInput {
  name?: unknown;
  given_name?: unknown;
  family_name?: unknown;
  email?: unknown;
  email_verified?: unknown;
}

function nameClaim(value: unknown, claim: string): string | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_NAME_LENGTH || CONTROL.test(value))
    throw new AdminInputError(`${claim} must be 1-${MAX_NAME_LENGTH} characters without control characters`);
  return value;
}

/**
 * The profile change of an input, checked (names bounded, the email's syntax, email_verified a boolean). A new
 * email address is unverified unless the input says otherwise.
 */
export function acceptedProfile(input: ProfileInput): UserProfilePatch {
  const patch: UserProfilePatch = {};
  const name = nameClaim(input.name, 'name');
  const givenName = nameClaim(input.given_name, 'given_name');
  const familyName = nameClaim(input.family_name, 'family_name');
  if (name !== undefined) patch.name = name;
  if (givenName !== undefined) patch.givenName = givenName;
  if (familyName !== undefined) patch.familyName = familyName;
  if (input.email !== undefined) {
    const email = input.email;
    if (email !== null && (typeof email !== 'string' || email.length > MAX_EMAIL_LENGTH || !EMAIL.test(email)))
      throw new AdminInputError(`email must be an address local@domain of at most ${MAX_EMAIL_LENGTH} characters`);
    patch.email = email;
    patch.emailVerified = false;
  }
  if (input.email_verified !== undefined) {
    if (typeof input.email_verified !== 'boolean') throw new AdminInputError('email_verified must be true or false');
    patch.emailVerified = input.email_verified;
  }
  return patch;
}

/** The fields of User a patch leads to (null: absent), for a user being created. */
export function profileFields(patch: UserProfilePatch): Partial<User> {
  const fields: Partial<User> = {};
  if (patch.name) fields.name = patch.name;
  if (patch.givenName) fields.givenName = patch.givenName;
  if (patch.familyName) fields.familyName = patch.familyName;
  if (patch.email) fields.email = patch.email;
  if (patch.emailVerified) fields.emailVerified = true;
  return fields;
}

/** The profile of a user as the admin API and `tessera users ... --json` show it (claim names; null: not set). */
export function profileView(u: User) {
  return {
    name: u.name ?? null,
    given_name: u.givenName ?? null,
    family_name: u.familyName ?? null,
    email: u.email ?? null,
    email_verified: u.emailVerified === true,
  };
}
