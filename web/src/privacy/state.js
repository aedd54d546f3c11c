// What the privacy centre remembers while it runs (memory only): the shop
// it is for and where to go. The shop comes from the page's query string
// (?tenant=, an id like the widget's); nothing a person types is ever put
// in a URL.

const params = new URLSearchParams(location.search);
const t = params.get('tenant') ?? '';
export const tenant = /^[a-z0-9][a-z0-9_-]{0,62}$/.test(t) ? t : 'default';

// href is an in-app link: /privacy/<page>, keeping the shop.
export const href = (page) => `/privacy/${page}${t && tenant === t ? `?tenant=${encodeURIComponent(t)}` : ''}`;

let go = () => {};
export function setNavigator(f) {
  go = f;
}

// navigate shows another page of the centre without a reload.
export function navigate(page) {
  go(page);
}

// A value handed from one page to the next in memory (the e-mail address
// from sign-up to sign-in), never through the URL.
export const carry = { email: '' };
