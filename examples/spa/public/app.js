// The page: signs in with the authorization code flow and PKCE (oauth4webapi), through Tessera's hosted login.
// Tokens live in this module's memory only: never in localStorage, gone with the tab. Only the PKCE verifier
// and the state wait in sessionStorage for the round trip to the login page, and are removed on the way back.
/* global document, location, history, sessionStorage */
import * as oauth from '/vendor/oauth4webapi.js';

const $ = (id) => document.getElementById(id);
const show = (ids) => {
  for (const id of ['sign-in', 'load', 'refresh', 'sign-out']) $(id).hidden = !ids.includes(id);
};
const status = (text) => ($('status').textContent = text);

const config = await (await fetch('/config.json')).json();
const issuer = new URL(config.issuer);
// The demo's auth server speaks plain http on this machine; anywhere else it is https and this is false.
const insecure = issuer.protocol === 'http:';
const options = { [oauth.allowInsecureRequests]: insecure };
const as = await oauth.processDiscoveryResponse(
  issuer,
  await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' }),
);
const client = { client_id: config.clientId };
const clientAuth = oauth.None();
const redirectUri = `${location.origin}/callback`;
let tokens;

async function signIn() {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  sessionStorage.setItem('sign-in', JSON.stringify({ verifier, state }));
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: config.scope,
    resource: config.audience,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  }).toString();
  location.assign(url);
}

/** Back from the login page: the code (checked against the state and the issuer) exchanged for tokens. */
async function completeSignIn() {
  const callback = new URL(location.href);
  const saved = JSON.parse(sessionStorage.getItem('sign-in') ?? 'null');
  sessionStorage.removeItem('sign-in');
  // The code leaves the address bar (and the history) at once.
  history.replaceState(null, '', '/');
  if (!saved) throw new Error('no sign-in was started in this tab');
  const params = oauth.validateAuthResponse(as, client, callback, saved.state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, saved.verifier, {
    ...options,
    additionalParameters: { resource: config.audience },
  });
  tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
}

async function refresh() {
  const response = await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, options);
  tokens = await oauth.processRefreshTokenResponse(as, client, response);
  status(`Signed in; access token refreshed, valid for ${tokens.expires_in} s.`);
}

async function loadOrders() {
  const res = await fetch('/api/orders', { headers: { authorization: `Bearer ${tokens.access_token}` } });
  if (res.ok) {
    $('orders').textContent = JSON.stringify(await res.json(), null, 2);
    return;
  }
  // RFC 6750: the reason is in the WWW-Authenticate challenge.
  const challenge = res.headers.get('www-authenticate') ?? '';
  const description = /error_description="([^"]*)"/.exec(challenge)?.[1] ?? res.statusText;
  $('orders').textContent = `refused: ${res.status} ${description}`;
}

const guarded = (f) => async () => {
  try {
    await f();
  } catch (err) {
    status(`Error: ${err instanceof Error ? err.message : String(err)}`);
  }
};
$('sign-in').addEventListener('click', guarded(signIn));
$('load').addEventListener('click', guarded(loadOrders));
$('refresh').addEventListener('click', guarded(refresh));
$('sign-out').addEventListener('click', () => {
  tokens = undefined;
  $('orders').textContent = '';
  status('Signed out of this page (the tokens are forgotten).');
  show(['sign-in']);
});

try {
  if (location.pathname === '/callback') await completeSignIn();
} catch (err) {
  status(`Sign-in failed: ${err instanceof Error ? err.message : String(err)}`);
}
if (tokens) {
  status(`Signed in; access token valid for ${tokens.expires_in} s.`);
  show(['load', 'refresh', 'sign-out']);
} else {
  if ($('status').textContent === 'Loading…') status('Not signed in.');
  show(['sign-in']);
}
