// The page's session: the access token lives in this module's memory only
// (never localStorage, sessionStorage or a URL), so a reload or a new tab
// starts from the refresh cookie. The refresh token is the gateway's
// HttpOnly __Host- cookie (services/gateway/internal/gateway/session.go),
// which scripts cannot read; every call that uses it carries the
// X-Sotto-Session header, which a cross-site page cannot send without a
// preflight the gateway never approves (CSRF). See docs/adr/0016-web-front.md.

let token = '';
let expiresAt = 0;
const listeners = new Set();

export const SESSION_HEADER = { 'X-Sotto-Session': 'cookie' };

export function accessToken() {
  return token && Date.now() < expiresAt ? token : '';
}

// setSession keeps tokens from a login, sign-up, step-up or refresh answer
// (identity's Tokens: access_token and expires_in or access_token_expires_at).
export function setSession(tokens) {
  token = tokens?.access_token || '';
  const exp = Date.parse(tokens?.access_token_expires_at ?? '');
  const secs = Number.parseInt(tokens?.expires_in ?? '', 10);
  expiresAt = token ? (Number.isFinite(exp) ? exp : Date.now() + (Number.isFinite(secs) ? secs * 1000 : 5 * 60 * 1000)) : 0;
  for (const f of listeners) f(Boolean(token));
}

export function clearSession() {
  setSession(null);
}

// onSessionChange calls f(signedIn) whenever the token changes.
export function onSessionChange(f) {
  listeners.add(f);
  return () => listeners.delete(f);
}

let refreshing = null;

// refreshSession asks for a new access token with the refresh cookie; true
// if one came. Concurrent callers share one request.
export function refreshSession() {
  refreshing ??= (async () => {
    try {
      const resp = await fetch('/v1/sessions:refresh', {
        method: 'POST',
        headers: { Accept: 'application/json', 'Content-Type': 'application/json', ...SESSION_HEADER },
        body: '{}',
        credentials: 'same-origin',
        cache: 'no-store',
        redirect: 'error',
        referrerPolicy: 'no-referrer',
      });
      if (!resp.ok) {
        clearSession();
        return false;
      }
      const body = await resp.json();
      setSession(body.tokens ?? body);
      return Boolean(token);
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

// claims are the current access token's claims, decoded for the page's own
// choices (which view to ask for, whose shop it is). They are not verified
// here and decide nothing the server does not check again.
export function claims() {
  const t = accessToken();
  try {
    const b64 = t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))));
  } catch {
    return {};
  }
}
