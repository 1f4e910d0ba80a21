/**
 * Usernames are compared in one normal form: Unicode NFKC (so full-width and compatibility forms fold
 * to their plain letters), then lower case (locale-independent `toLowerCase`), with surrounding white space
 * removed. A normalised username has 1 to 128 characters, none of them control, white space other than a
 * plain space, or the characters `"`, `'`, `<`, `>`, `\`, `` ` ``.
 */
export function normalizeUsername(input: unknown): string | undefined {
  if (typeof input !== 'string' || input.length > 512) return undefined;
  const u = input.normalize('NFKC').trim().toLowerCase();
  if (u.length < 1 || u.length > 128) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f"'<>\\`]|[^\S ]/u.test(u)) return undefined;
  return u;
}
