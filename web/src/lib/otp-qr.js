// qrImage shows the QR code identity drew for a TOTP enrolment
// (BeginTotpEnrollment's qr_png, base64 in the REST answer) as an <img>
// with a data: URL. dom.js's safeURL refuses data: URLs from data, so the
// source is set here, and only after checking that the bytes are base64
// of a PNG (its signature), so nothing but an image can come of it. The
// CSP allows data: for images only.
import { h } from './dom.js';

const pngSignature = 'iVBORw0KGgo'; // base64 of \x89PNG\r\n\x1a\n

export function qrImage(pngBase64, alt) {
  const b64 = String(pngBase64 ?? '');
  const img = h('img', { alt, width: 200, height: 200, class: 'qr' });
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(b64) && b64.startsWith(pngSignature)) img.src = `data:image/png;base64,${b64}`;
  return img;
}
