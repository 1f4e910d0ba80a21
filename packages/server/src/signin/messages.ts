/**
 * Every text the hosted pages show a user, in one place so that it can be translated: a translation replaces
 * this module's values (the templates hold no text of their own, only where each goes). `lang` is the pages'
 * language (the `lang` attribute).
 */
export const MESSAGES = {
  lang: 'en',
  logoAlt: 'Tessera',
  login: {
    title: 'Sign in',
    intro: (client: string) => `Sign in to continue to ${client}.`,
    username: 'Username',
    password: 'Password',
    submit: 'Sign in',
    /** One text for an unknown user, a wrong password and a disabled user: the page must not tell them apart. */
    badCredentials: 'The username or password is not correct.',
    missingFields: 'Enter your username and your password.',
    throttled: (minutes: number) =>
      `Too many failed sign-in attempts. Try again in ${minutes === 1 ? 'a minute' : `${minutes} minutes`}.`,
  },
  consent: {
    title: 'Allow access?',
    intro: (client: string) => `${client} asks for access to your account.`,
    signedInAs: (username: string) => `You are signed in as ${username}.`,
    scopesIntro: 'If you allow it, it will be able to:',
    /** The standard scopes in plain words; any other scope is named by `otherScope`. */
    scopes: {
      openid: 'Know who you are',
      profile: 'See your name and profile',
      email: 'See your email address',
      offline_access: 'Keep access while you are not using it',
    } as Record<string, string>,
    otherScope: (scope: string) => `Use the permission “${scope}”`,
    noScopes: 'Know that you signed in, nothing more',
    allow: 'Allow',
    deny: 'Deny',
  },
  error: {
    title: 'Sign-in cannot continue',
    /** The authorization request cannot be trusted (unknown client, redirect URI not registered, ...). */
    badRequest:
      'The application sent a sign-in request that cannot be accepted. Go back to the application and try again; if this happens again, tell its developers.',
    /** The login form came without its anti-forgery token, or with a wrong one. */
    forgedForm: 'This sign-in form was not sent from this page. Go back to the application and sign in again.',
    /** The pending sign-in is gone: expired, completed in another tab, or never existed. */
    expired: 'This sign-in has expired or was already completed. Go back to the application and sign in again.',
    details: 'Details',
  },
  loggedOut: {
    title: 'Signed out',
    message: 'You have signed out. You can close this window.',
  },
  logout: {
    /** The page asking a signed-in user to confirm a sign-out that did not come with their own ID token. */
    confirmTitle: 'Sign out?',
    confirmMessage: 'An application asks to sign you out. Do you want to sign out?',
    confirmSubmit: 'Sign out',
    /** The sign-out request cannot be trusted (an ID token not ours, a redirect URI not registered, ...). */
    refusedTitle: 'Sign-out cannot continue',
    refused:
      'The application sent a sign-out request that cannot be accepted, and nothing was changed. Go back to the application; if this happens again, tell its developers.',
  },
  formPost: {
    title: 'Returning to the application',
    noscript: 'JavaScript is turned off. Press Continue to return to the application.',
    submit: 'Continue',
  },
} as const;
