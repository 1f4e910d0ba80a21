/**
 * The global fetch, keeping one field of each form body it sends in `sent` (the request itself is not changed):
 * what a client under test presented, e.g. the `client_assertion` of each of a token source's requests.
 */
export function recordingFetch(field: string, sent: string[]): typeof fetch {
  return (input, init) => {
    sent.push(
      new URLSearchParams(typeof init?.body === 'string' || init?.body instanceof URLSearchParams ? init.body : '').get(field) ??
        '',
    );
    return fetch(input, init);
  };
}
