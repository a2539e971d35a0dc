/**
 * Quoting of peer-supplied strings in error messages. Private to `packets/`.
 *
 * @module
 */

/** Characters of a quoted value kept in an error message. */
const QUOTE_LIMIT = 64;

/**
 * A value from the peer in double quotes for an error message, cut to 64
 * characters with "…" (on a code point boundary) so that a long topic never
 * makes a long message.
 *
 * @param value A topic, filter or other string from the peer.
 * @returns The quoted, shortened value.
 */
export function quote(value: string): string {
  if (value.length <= QUOTE_LIMIT) return `"${value}"`;
  let end = QUOTE_LIMIT - 1;
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--; // Keep surrogate pairs whole.
  return `"${value.slice(0, end)}…"`;
}
