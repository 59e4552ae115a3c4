import { domainToASCII } from 'node:url';

/** A checked name (`name`: ASCII, lower case, no trailing dot), or why it was refused. */
export type NameCheck = { ok: true; name: string } | { ok: false; detail: string };

// RFC 1035 §2.3.4: 63 octets a label, 255 a name on the wire, which is 253
// characters in text without the trailing dot.
export const MAX_LABEL = 63;
export const MAX_NAME = 253;
// Longer input cannot become a valid name even after IDN mapping; refusing
// it first bounds the work a client can ask of the IDN converter.
const MAX_INPUT = 1024;
// Letters, digits, hyphen, and underscore for service labels (`_sip._tcp`,
// `_dmarc`): what real zones hold, not only the hostname rule of RFC 952.
const LABEL = /^[a-z0-9_-]+$/;
// UTS #46 treats these as label separators too: `例え。テスト` has two labels.
const IDN_DOTS = /[.\u3002\uff0e\uff61]/;
const NON_ASCII = /[\u0080-\uffff]/;
// A name already in the form checkName returns (lower case, 1-63 allowed
// characters a label, at most a trailing dot): what nearly every request
// carries, checked in one pass instead of split, lower-cased and joined.
const CANONICAL = /^(?:[a-z0-9_-]{1,63}\.)*[a-z0-9_-]{1,63}\.?$/;

/**
 * Checks a DNS name before any query is sent, the way Google's and
 * Cloudflare's resolvers do: 1-63 characters a label, 253 the name, no empty
 * label (`example..com`, `.example.com`), one trailing dot allowed; the
 * root is `.`. An
 * internationalised name is converted to its punycode (A-label) form
 * (`bücher.example` → `xn--bcher-kva.example`) with Node's UTS #46 mapping.
 */
export function checkName(input: string): NameCheck {
  if (input === '') return refuse(input, 'name is required');
  // The root: `dig . NS` and `dig . SOA` are questions like any other.
  if (input === '.') return { ok: true, name: '.' };
  if (input.length > MAX_INPUT) return refuse(input, `longer than ${MAX_NAME} characters`);
  if (input.length <= MAX_NAME + 1 && CANONICAL.test(input)) {
    const name = input.endsWith('.') ? input.slice(0, -1) : input;
    if (name.length <= MAX_NAME) return { ok: true, name };
  }
  let text = input;
  if (NON_ASCII.test(text)) {
    // Empty labels first: the IDN converter would report them less clearly.
    const empty = emptyLabel(withoutRoot(text.split(IDN_DOTS)));
    if (empty !== undefined) return refuse(input, empty);
    const ascii = domainToASCII(text);
    if (ascii === '') return refuse(input, 'not a valid internationalised name');
    text = ascii;
  }
  text = text.toLowerCase();
  const labels = withoutRoot(text.split('.'));
  const empty = emptyLabel(labels);
  if (empty !== undefined) return refuse(input, empty);
  for (const label of labels) {
    if (label.length > MAX_LABEL) {
      return refuse(input, `label "${clip(label)}" is longer than ${MAX_LABEL} characters`);
    }
    if (!LABEL.test(label)) {
      return refuse(input, `label "${clip(label)}" may hold only letters, digits, "-" and "_"`);
    }
  }
  const name = labels.join('.');
  if (name.length > MAX_NAME) return refuse(input, `longer than ${MAX_NAME} characters`);
  return { ok: true, name };
}

/** The labels without the empty one a single trailing dot (the root) leaves. */
function withoutRoot(labels: string[]): string[] {
  return labels.length > 1 && labels.at(-1) === '' ? labels.slice(0, -1) : labels;
}

function emptyLabel(labels: string[]): string | undefined {
  return labels.some((l) => l === '') ? 'empty label' : undefined;
}

function refuse(input: string, why: string): NameCheck {
  return { ok: false, detail: `Invalid name \`${clip(input)}\`: ${why}` };
}

/** Enough of the client's text to recognise it, never a kilobyte of it. */
function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
