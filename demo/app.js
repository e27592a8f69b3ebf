// The hush demo: everything the browser client does, made visible. Loads the client bundle the server
// serves at /assets/hush-client.js; no framework, no build step.
import { createAuthClient } from '/assets/hush-client.js';

// Read before the client starts (it clears the hint when the session turns out to be gone): was this browser
// signed in here before this page load?
const hadSession = (() => {
  try {
    return localStorage.getItem('hush:session') !== null;
  } catch {
    return false;
  }
})();
// Plain http off this machine: browsers drop the refresh cookie (it is Secure), so a reload signs out.
const LOOPBACK = /^(localhost|.+\.localhost|127(\.\d{1,3}){3}|\[::1\])$/;
const insecure = location.protocol === 'http:' && !LOOPBACK.test(location.hostname);

const auth = createAuthClient({ baseUrl: '/auth' });
// Handy in the devtools console: `await auth.getAccessToken()`, `await auth.fetch('/api/private')`.
window.auth = auth;

const $ = (id) => document.getElementById(id);
const USERNAME = /^[A-Za-z0-9._@-]{3,64}$/;

// ---------------------------------------------------------------- messages people can read

const MESSAGES = {
  invalid_credentials: 'That username and password don’t match.',
  username_taken: 'That username is already taken — try another one.',
  account_suspended: 'This account is suspended. Contact the administrator.',
  unavailable: 'The server is busy right now. Try again in a moment.',
  network_error: 'Can’t reach the server. Check your connection and try again.',
  csrf_failed: 'The request was refused because it didn’t come from this site.',
  payload_too_large: 'That’s too much text.',
  missing_token: 'Your session has ended. Please log in again.',
  invalid_token: 'Your session has ended. Please log in again.',
  invalid_refresh_token: 'Your session has ended. Please log in again.',
};

function describe(error) {
  if (error?.code === 'rate_limited') {
    const wait = error.retryAfter ? ` in ${formatWait(error.retryAfter)}` : ' later';
    return `Too many attempts. Please try again${wait}.`;
  }
  if (error?.code === 'invalid_request' && error.message && error.message !== error.code) return error.message;
  return MESSAGES[error?.code] ?? (error?.message || 'Something went wrong. Please try again.');
}

function formatWait(seconds) {
  const s = Math.ceil(seconds);
  return s < 90 ? `${s} second${s === 1 ? '' : 's'}` : `${Math.ceil(s / 60)} minutes`;
}

function show(el, text, tone = 'error') {
  el.textContent = text;
  el.dataset.tone = tone;
  el.hidden = !text;
}

// ---------------------------------------------------------------- status line and views

function setStatus(text, tone) {
  $('status-text').textContent = text;
  $('status').dataset.tone = tone;
}

/** Set while refreshes fail (network error, 429, 503): the header says so until one succeeds. */
let connectionProblem = false;

let view = 'loading';
function render(focus = false) {
  const next = auth.state === 'authenticated' ? 'signed-in' : auth.state === 'anonymous' ? 'signed-out' : 'loading';
  $('loading-view').hidden = next !== 'loading';
  $('signed-out-view').hidden = next !== 'signed-out';
  $('signed-in-view').hidden = next !== 'signed-in';
  document.body.dataset.view = next;
  const changed = next !== view;
  view = next;
  // when the focused control was just hidden (its view went away), put focus somewhere meaningful
  const active = document.activeElement;
  focus &&= changed && (!active || active === document.body || !!active.closest('[hidden]'));
  if (next === 'signed-in') {
    $('who').textContent = $('password-username').value = auth.user.username;
    if (connectionProblem) setStatus('Connection problem — retrying', 'warn');
    else setStatus(`Signed in as ${auth.user.username}`, 'good');
    if (changed) {
      loadSessions();
      if (focus) $('hello').focus();
    }
  } else if (next === 'signed-out') {
    setStatus('Signed out', 'neutral');
    showInsecureNote();
    if (changed) {
      stopCountdown();
      $('sessions-card').hidden = true;
      if (focus) $('auth-title').focus();
    }
  } else if (connectionProblem) {
    setStatus('Connection problem — retrying', 'warn');
  } else {
    setStatus('Checking your session…', 'neutral');
  }
}

/** On plain http off localhost, say why the session can't survive a reload (and why it just didn't). */
function showInsecureNote() {
  const note = $('insecure-note');
  note.hidden = !insecure;
  if (!insecure) return;
  const why = `this page is served over plain http from ${location.host}, so the browser drops hush’s Secure refresh cookie`;
  const fix = 'Use https, or http://localhost, or start hush with HUSH_COOKIE_SECURE=false for development.';
  note.textContent = hadSession ? `You were signed out by the reload: ${why}. ${fix}` : `A reload will sign you out: ${why}. ${fix}`;
}

// ---------------------------------------------------------------- the token's life, live

const token = { receivedAt: 0, lifetime: 0, jti: '', refreshes: 0 };
let ticker = 0;

function claimsOf(jwt) {
  try {
    return JSON.parse(window.atob(jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
  } catch {
    return {};
  }
}

async function trackToken() {
  const jwt = await auth.getAccessToken();
  if (!jwt) return;
  const claims = claimsOf(jwt);
  // like the client, reckon from when we received it, not from the device clock against exp
  token.receivedAt = Date.now();
  token.lifetime = typeof claims.exp === 'number' && typeof claims.iat === 'number' ? (claims.exp - claims.iat) * 1000 : 0;
  token.jti = typeof claims.jti === 'string' ? claims.jti : '';
  $('lifetime').textContent = token.lifetime ? formatDuration(token.lifetime) : '–';
  $('received').textContent = new Date(token.receivedAt).toLocaleTimeString();
  $('jti').textContent = token.jti ? `${token.jti.slice(0, 8)}…` : '–';
  $('refreshes').textContent = String(token.refreshes);
  startCountdown();
}

function formatDuration(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const m = Math.floor(total / 60);
  const s = String(total % 60).padStart(2, '0');
  return `${m}:${s}`;
}

function tick() {
  if (!token.lifetime) return;
  const left = token.receivedAt + token.lifetime - Date.now();
  $('countdown').textContent = formatDuration(left);
  const fraction = Math.max(0, Math.min(1, left / token.lifetime));
  $('meter-fill').style.width = `${(fraction * 100).toFixed(1)}%`;
  const badge = $('token-badge');
  const stage = left <= 0 ? 'expired' : fraction < 0.5 ? 'ageing' : 'fresh';
  badge.textContent = stage;
  badge.dataset.tone = stage;
  $('meter-fill').dataset.tone = stage;
}

function startCountdown() {
  clearInterval(ticker);
  tick();
  ticker = setInterval(tick, 250);
}

function stopCountdown() {
  clearInterval(ticker);
  ticker = 0;
  token.lifetime = 0;
  token.refreshes = 0;
}

// ---------------------------------------------------------------- what the client did

const LOG_TEXT = {
  signed_in: 'Signed in',
  refreshed: 'Token refreshed silently',
  signed_out: 'Signed out',
  refresh_failed: 'Refresh failed — staying signed in and retrying',
  restored: 'Session restored by a silent refresh',
};

function log(text, tone = 'neutral') {
  const item = document.createElement('li');
  item.dataset.tone = tone;
  const time = document.createElement('time');
  time.dateTime = new Date().toISOString();
  time.textContent = new Date().toLocaleTimeString();
  const label = document.createElement('span');
  label.textContent = text;
  item.append(time, label);
  $('log').prepend(item);
  while ($('log').children.length > 30) $('log').lastElementChild.remove();
}

auth.onChange((event) => {
  const tone = event.type === 'refresh_failed' ? 'warn' : event.type === 'signed_out' ? 'neutral' : 'good';
  const expired = event.type === 'refreshed' && token.lifetime && Date.now() > token.receivedAt + token.lifetime;
  // signed in while the page was still restoring: the start-up refresh (or a retry of it) brought the session back
  const restored = event.type === 'signed_in' && view === 'loading';
  const kind = restored ? 'restored' : event.type;
  const text = expired ? 'Token had expired (was the tab asleep?) — refreshed before it was used' : LOG_TEXT[kind];
  log(event.error ? `${text} (${describe(event.error)})` : text, tone);
  if (event.type === 'refreshed' || restored) token.refreshes++;
  connectionProblem = event.type === 'refresh_failed';
  render(true);
  if (event.type === 'signed_in' || event.type === 'refreshed') void trackToken();
});

// ---------------------------------------------------------------- sign in / sign up

let mode = 'login';
function selectTab(next, focus) {
  mode = next;
  const login = next === 'login';
  $('tab-login').setAttribute('aria-selected', String(login));
  $('tab-signup').setAttribute('aria-selected', String(!login));
  $('tab-login').tabIndex = login ? 0 : -1;
  $('tab-signup').tabIndex = login ? -1 : 0;
  $('auth-form').setAttribute('aria-labelledby', login ? 'tab-login' : 'tab-signup');
  $('auth-submit').textContent = login ? 'Log in' : 'Create account';
  $('password').autocomplete = login ? 'current-password' : 'new-password';
  show($('auth-error'), '');
  if (focus) $(login ? 'tab-login' : 'tab-signup').focus();
}
$('tab-login').addEventListener('click', () => selectTab('login'));
$('tab-signup').addEventListener('click', () => selectTab('signup'));
for (const id of ['tab-login', 'tab-signup']) {
  $(id).addEventListener('keydown', (e) => {
    if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key)) {
      e.preventDefault();
      const next = e.key === 'Home' ? 'login' : e.key === 'End' ? 'signup' : mode === 'login' ? 'signup' : 'login';
      selectTab(next, true);
    }
  });
}

function invalid(input, errorEl, message) {
  input.setAttribute('aria-invalid', 'true');
  show(errorEl, message);
  input.focus();
  return false;
}

function clearInvalid(...inputs) {
  for (const input of inputs) input.removeAttribute('aria-invalid');
}

async function busy(button, task) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await task();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

$('auth-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const username = $('username');
  const password = $('password');
  const error = $('auth-error');
  clearInvalid(username, password);
  show(error, '');
  if (!username.value.trim()) return invalid(username, error, 'Enter your username.');
  if (!USERNAME.test(username.value)) return invalid(username, error, 'Usernames are 3–64 letters, digits or . _ - @');
  if (!password.value) return invalid(password, error, 'Enter your password.');
  if ([...password.value].length < 8) return invalid(password, error, 'Passwords need at least 8 characters.');
  await busy($('auth-submit'), async () => {
    try {
      if (mode === 'login') await auth.login(username.value, password.value);
      else await auth.signup(username.value, password.value);
      password.value = '';
      $('hello').focus();
    } catch (err) {
      if (err?.code === 'username_taken') return invalid(username, error, describe(err));
      if (err?.code === 'invalid_credentials') return invalid(password, error, describe(err));
      show(error, describe(err));
    }
  });
});

// ---------------------------------------------------------------- the private resource

$('call-api').addEventListener('click', () =>
  busy($('call-api'), async () => {
    const out = $('api-result');
    out.hidden = false;
    try {
      const res = await auth.fetch('/api/private');
      const body = await res.json().catch(() => ({}));
      out.dataset.tone = res.ok ? 'good' : 'error';
      out.textContent = res.ok ? `${res.status} OK — ${body.message ?? ''}` : `${res.status} — ${describe({ code: body.error, message: body.error_description })}`;
    } catch (err) {
      out.dataset.tone = 'error';
      out.textContent = describe(err);
    }
  }),
);

// ---------------------------------------------------------------- session actions

$('reload').addEventListener('click', () => location.reload());

$('logout').addEventListener('click', () =>
  busy($('logout'), async () => {
    try {
      await auth.logout();
    } catch (err) {
      // signed out here anyway; say that the server may not know yet
      show($('auth-error'), `Signed out on this device, but ${describe(err).toLowerCase()}`);
    }
  }),
);

$('logout-all').addEventListener('click', () =>
  busy($('logout-all'), async () => {
    show($('session-error'), '');
    try {
      await auth.logoutAll();
    } catch (err) {
      show($('session-error'), describe(err));
    }
  }),
);

$('password-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const current = $('current-password');
  const next = $('new-password');
  const message = $('password-message');
  clearInvalid(current, next);
  show(message, '');
  if (!current.value) return invalid(current, message, 'Enter your current password.');
  if ([...next.value].length < 8) return invalid(next, message, 'The new password needs at least 8 characters.');
  await busy(e.submitter ?? $('password-form').querySelector('button'), async () => {
    try {
      await auth.changePassword(current.value, next.value);
      current.value = next.value = '';
      show(message, 'Password changed. Your other sessions have ended.', 'good');
      loadSessions();
    } catch (err) {
      if (err?.code === 'invalid_credentials') return invalid(current, message, 'That isn’t your current password.');
      show(message, describe(err));
    }
  });
});

// ---------------------------------------------------------------- sessions (rotating strategy)

/** Learnt from the first 404 not_supported: the stateless strategy keeps no session list, so stop asking. */
let sessionsSupported = true;

async function loadSessions() {
  const card = $('sessions-card');
  if (!sessionsSupported) return;
  try {
    const res = await auth.fetch('/auth/sessions');
    const body = await res.json().catch(() => ({}));
    if (res.status === 404 && body.error === 'not_supported') {
      card.hidden = true;
      sessionsSupported = false;
      return;
    }
    if (!res.ok) throw { code: body.error, message: body.error_description };
    card.hidden = false;
    show($('sessions-error'), '');
    renderSessions(body.sessions ?? []);
  } catch (err) {
    if (!card.hidden) show($('sessions-error'), describe(err));
  }
}

function renderSessions(sessions) {
  const list = $('sessions');
  list.replaceChildren();
  for (const s of sessions) {
    const item = document.createElement('li');
    const text = document.createElement('div');
    const title = document.createElement('strong');
    title.textContent = browserName(s.userAgent);
    if (s.current) {
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.dataset.tone = 'fresh';
      badge.textContent = 'this device';
      title.append(' ', badge);
    }
    const detail = document.createElement('span');
    detail.className = 'muted small';
    detail.textContent = `${s.address ?? 'unknown address'} · active ${new Date(s.lastUsedAt).toLocaleString()} · since ${new Date(s.createdAt).toLocaleDateString()}`;
    text.append(title, detail);
    item.append(text);
    if (!s.current) {
      const end = document.createElement('button');
      end.type = 'button';
      end.className = 'button small';
      end.textContent = 'End session';
      end.setAttribute('aria-label', `End session on ${browserName(s.userAgent)}, last active ${new Date(s.lastUsedAt).toLocaleString()}`);
      end.addEventListener('click', () =>
        busy(end, async () => {
          const res = await auth.fetch(`/auth/sessions/${encodeURIComponent(s.id)}`, { method: 'DELETE' }).catch((err) => err);
          if (res instanceof Response && (res.ok || res.status === 404)) {
            log('Ended another session', 'neutral');
            await loadSessions();
            $('sessions-title').focus();
          } else show($('sessions-error'), describe(res instanceof Response ? { code: 'unavailable' } : res));
        }),
      );
      item.append(end);
    }
    list.append(item);
  }
}

function browserName(ua = '') {
  const name = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : ua ? 'Browser' : 'Unknown client';
  const os = /Windows/.test(ua) ? 'Windows' : /Mac OS X/.test(ua) ? 'macOS' : /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Linux/.test(ua) ? 'Linux' : '';
  return os ? `${name} on ${os}` : name;
}

$('sessions-refresh').addEventListener('click', () => busy($('sessions-refresh'), loadSessions));
$('sessions-title').tabIndex = -1;

// ---------------------------------------------------------------- start

await auth.ready;
render();
if (auth.state === 'authenticated') void trackToken();
// `ready` may settle while still loading (the server was unreachable): the client retries by itself
if (auth.state === 'loading') setStatus('Connection problem — retrying', 'warn');
