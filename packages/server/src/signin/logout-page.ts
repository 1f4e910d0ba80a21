/**
 * The logout endpoint's pages: server-rendered HTML without scripts or styles (the server's Content-Security-Policy
 * `default-src 'none'` stays), every value escaped. The hosted login's templates will take these over.
 */
export type LogoutPage =
  | { kind: 'logged_out' }
  | { kind: 'refused'; reason: string }
  /** Asks the user to confirm; the form carries the request's parameters back by POST. */
  | { kind: 'confirm'; carried: [string, string][] };

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or an attribute value made safe for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function document(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

export function logoutPage(page: LogoutPage): string {
  switch (page.kind) {
    case 'logged_out':
      return document('You are signed out', '<p>You have been signed out. You can close this window.</p>');
    case 'refused':
      return document(
        'Sign-out request not valid',
        `<p>This sign-out request cannot be completed: ${escapeHtml(page.reason)}.</p>`,
      );
    case 'confirm': {
      const hidden = page.carried
        .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
        .join('\n');
      return document(
        'Sign out?',
        `<form method="post" action="/logout">
${hidden}
<input type="hidden" name="confirm" value="yes">
<button type="submit">Sign out</button>
</form>`,
      );
    }
  }
}
