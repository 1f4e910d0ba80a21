// The chat page. It logs in through the chat server, which keeps the refresh token and answers access tokens
// only; then it talks to the gateway with the centrifuge SDK, which calls getToken (POST /token) whenever it
// needs a fresh token. What users write only ever goes into textContent.
/* global document, location, Centrifuge */

const CHANNEL = 'chat:room:lobby';
const $ = (id) => document.getElementById(id);

/** While logged in: { client, sub, me: { id, name } }. */
let chat;
/** User id -> username (publications name users by id). */
const names = new Map();
/** Offsets of the publications on the page (history and live ones overlap). */
const shown = new Set();
/** Client id -> user id of who is in the room. */
const online = new Map();

async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => ({})) };
}

async function getToken() {
  const { status, body } = await post('/token');
  if (status === 401) throw new Centrifuge.UnauthorizedError(body.error);
  if (status !== 200) throw new Error(body.error ?? `the chat server answered ${status}`);
  return body.token;
}

let people;
/** Resolves with the user's name, asking the chat server for the names it knows when this one is new. */
function nameOf(id) {
  if (names.has(id)) return Promise.resolve(names.get(id));
  people ??= fetch('/people')
    .then((res) => (res.ok ? res.json() : {}))
    .then((all) => Object.entries(all).forEach(([k, v]) => names.set(k, v)))
    .catch(() => {})
    .finally(() => (people = undefined));
  return people.then(() => names.get(id) ?? id.slice(0, 8));
}

function element(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function message(pub) {
  const user = pub.info?.user;
  const who = element('b', 'user', user ? (names.get(user) ?? '…') : 'server');
  if (user && !names.has(user)) void nameOf(user).then((name) => (who.textContent = name));
  const text = typeof pub.data?.text === 'string' ? pub.data.text : JSON.stringify(pub.data);
  const li = element('li', user === chat?.me.id ? 'mine' : '');
  li.append(who, ' ', element('span', 'text', text));
  if (pub.offset !== undefined) shown.add(pub.offset);
  return li;
}

function show(pub) {
  if (pub.offset !== undefined && shown.has(pub.offset)) return;
  const li = message(pub);
  $('messages').append(li);
  li.scrollIntoView({ block: 'nearest' });
}

/** The last messages of the room, before the live ones (on a first subscribe; a resubscribe recovers). */
async function loadHistory(sub) {
  const { publications } = await sub.history({ limit: 50, reverse: true });
  const first = $('messages').firstChild;
  for (const pub of publications.reverse()) if (!shown.has(pub.offset)) $('messages').insertBefore(message(pub), first);
}

async function showOnline() {
  const users = [...new Set(online.values())];
  const list = await Promise.all(users.map(nameOf));
  $('online').textContent = `online: ${list.sort().join(', ')}`;
}

async function loadPresence(sub) {
  const { clients } = await sub.presence();
  online.clear();
  for (const info of Object.values(clients)) online.set(info.client, info.user);
  await showOnline();
}

function setStatus(state, text) {
  $('status').dataset.state = state;
  $('status').textContent = text;
  $('text').disabled = state !== 'connected';
}

const notice = (text) => ($('notice').textContent = text);

function start({ token, user }) {
  names.set(user.id, user.name);
  $('me').textContent = user.name;
  $('messages').replaceChildren();
  shown.clear();
  notice('');
  $('login').hidden = true;
  $('chat').hidden = false;

  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const client = new Centrifuge(`${scheme}://${location.host}/connection/websocket`, { token, getToken });
  client.on('connecting', (ctx) => setStatus('connecting', `connecting: ${ctx.reason}`));
  client.on('connected', () => setStatus('connected', 'connected'));
  client.on('disconnected', (ctx) => setStatus('disconnected', `disconnected: ${ctx.reason} (code ${ctx.code})`));

  const sub = client.newSubscription(CHANNEL);
  sub.on('publication', show);
  sub.on('subscribed', (ctx) => {
    if (!ctx.wasRecovering) loadHistory(sub).catch((err) => notice(`history: ${err.message}`));
    loadPresence(sub).catch((err) => notice(`presence: ${err.message}`));
  });
  sub.on('join', (ctx) => {
    online.set(ctx.info.client, ctx.info.user);
    void showOnline();
  });
  sub.on('leave', (ctx) => {
    online.delete(ctx.info.client);
    void showOnline();
  });
  sub.on('error', (ctx) => notice(`${CHANNEL}: ${ctx.error.message}`));
  sub.subscribe();
  client.connect();
  chat = { client, sub, me: user };
}

function stop() {
  chat?.client.removeAllListeners();
  chat?.client.disconnect();
  chat = undefined;
  online.clear();
  $('chat').hidden = true;
  $('login').hidden = false;
}

$('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('login-error').textContent = '';
  const { status, body } = await post('/login', { username: $('username').value, password: $('password').value });
  $('password').value = '';
  if (status !== 200) $('login-error').textContent = body.error ?? `the chat server answered ${status}`;
  else start(body);
});

$('send').addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = $('text').value.trim();
  if (!text || !chat) return;
  try {
    await chat.sub.publish({ text });
    $('text').value = '';
    notice('');
  } catch (err) {
    notice(`not sent: ${err.message}`);
  }
});

$('logout').addEventListener('click', async () => {
  stop();
  await post('/logout');
});

// A session kept by the chat server (this browser logged in before) goes on without a login.
const resumed = await post('/token');
if (resumed.status === 200) start(resumed.body);
else $('login').hidden = false;
