/**
 * Whether an Accept header (RFC 9110 §12.5.1) prefers JSON over plain text.
 * JSON wins when `application/json` or `application/*` has a q-value above 0
 * and at least that of `text/plain`, `text/*` or `*∕*`; a tie goes to JSON
 * because a client that names it explicitly asked for it. No Accept, or one
 * that prefers text, gets text.
 */
export function prefersJson(accept: string | undefined): boolean {
  // Fast path: almost every Accept header (curl's, a browser's) never
  // mentions an application/ type.
  if (accept === undefined || accept === '*/*') return false;
  const lower = accept.toLowerCase();
  if (!lower.includes('application/')) return false;
  let json = 0;
  let text = 0;
  for (const part of lower.split(',')) {
    const [rawType = '', ...params] = part.split(';');
    const type = rawType.trim();
    let q = 1;
    for (const param of params) {
      const [key = '', value = ''] = param.split('=');
      if (key.trim() === 'q') {
        const parsed = Number(value.trim());
        q = Number.isFinite(parsed) && parsed >= 0 && parsed <= 1 ? parsed : 0;
      }
    }
    if (type === 'application/json' || type === 'application/*') json = Math.max(json, q);
    else if (type === 'text/plain' || type === 'text/*' || type === '*/*') text = Math.max(text, q);
  }
  return json > 0 && json >= text;
}
