/**
 * What a person sees of a datagram's bytes, in the log and on /datagrams:
 * the text when it is printable UTF-8, else hex. "Printable" keeps out the
 * bytes that would act on a terminal or a log viewer rather than show:
 * control characters (tab, CR and LF aside; JSON escapes those), DEL, the C1
 * controls (0x9b is a CSI on some terminals) and the bidirectional overrides
 * that make text display in another order than it is (CVE-2021-42574).
 */
export type Preview = ({ text: string } | { hex: string }) & { truncated: boolean };

const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its job
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/**
 * `bytes` are the first bytes of a datagram of `size` bytes. When they were
 * cut short, a multi-byte character split at the end is dropped from the
 * text rather than turning the whole preview into hex.
 */
export function preview(bytes: Uint8Array, size: number): Preview {
  const truncated = bytes.length < size;
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes, {
      stream: truncated,
    });
  } catch {
    // not UTF-8: hex below
  }
  if (text !== undefined && !UNSAFE.test(text)) return { text, truncated };
  return {
    hex: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex'),
    truncated,
  };
}
