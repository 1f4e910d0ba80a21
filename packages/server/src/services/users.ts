import { hashPassword, passwordProblem } from '../security/password.js';
import { newId } from '../security/random.js';
import { normalizeUsername } from '../security/username.js';
import { StoreConflictError, type Store, type User } from '../store/types.js';

export class UserInputError extends Error {
  constructor(
    message: string,
    readonly conflict = false,
  ) {
    super(message);
  }
}

/** Creates a user: the username normalised, the password checked and hashed with argon2id. */
export async function createUserAccount(
  store: Store,
  input: { username: unknown; password: unknown; roles?: string[] },
  now: number,
): Promise<User> {
  const username = normalizeUsername(input.username);
  if (username === undefined)
    throw new UserInputError(
      'username must be 1-128 characters without control characters, quotes, angle brackets or backslashes',
    );
  const problem = passwordProblem(input.password);
  if (problem) throw new UserInputError(problem);
  const user: User = {
    id: newId(),
    username,
    passwordHash: await hashPassword(input.password as string),
    disabled: false,
    roles: [...new Set(input.roles ?? [])],
    createdAt: now,
    updatedAt: now,
  };
  try {
    await store.createUser(user);
  } catch (err) {
    if (err instanceof StoreConflictError) throw new UserInputError('a user with this username exists', true);
    throw err;
  }
  return user;
}
