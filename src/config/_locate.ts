/**
 * Finds the line of a key path in the text of a configuration file, for
 * messages.
 *
 * @module
 */

import type { Path } from "./_error.ts";

/**
 * The line (from 1) of the node at a key path in block-style YAML, or of the
 * deepest key found on the way; `undefined` if not even the first is found.
 * A best effort for messages: flow collections are not searched.
 *
 * @param text The YAML text.
 * @param at The key path.
 * @returns The line, from 1, or `undefined`.
 */
export function locate(text: string, at: Path): number | undefined {
  const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
  const isContent = (i: number): boolean => {
    const t = (lines[i] ?? "").trimStart();
    return t !== "" && !t.startsWith("#");
  };
  const indentOf = (i: number): number => {
    const l = lines[i] ?? "";
    return l.length - l.trimStart().length;
  };
  const isDash = (i: number, indent: number): boolean =>
    /^-(?:\s|$)/.test((lines[i] ?? "").slice(indent));
  /** The first content line from `from` that ends a node at `indent`. */
  const endOf = (from: number, to: number, indent: number, dashes: boolean) => {
    for (let i = from; i < to; i++) {
      if (!isContent(i)) continue;
      const n = indentOf(i);
      if (n < indent || (n === indent && !(dashes && isDash(i, n)))) return i;
    }
    return to;
  };
  let start = 0;
  let end = lines.length;
  let found: number | undefined;
  for (const part of at) {
    let first = start;
    while (first < end && !isContent(first)) first++;
    if (first >= end) return found;
    const indent = indentOf(first);
    let hit = -1;
    let seen = -1;
    for (let i = first; i < end && hit === -1; i++) {
      if (!isContent(i) || indentOf(i) !== indent) continue;
      const line = (lines[i] ?? "").slice(indent);
      if (typeof part === "number") {
        if (isDash(i, indent) && ++seen === part) hit = i;
      } else {
        const key = /^(?:"([^"]*)"|'([^']*)'|([^\s"'#][^:#]*?))\s*:(?:\s|$)/
          .exec(line);
        if (key !== null && (key[1] ?? key[2] ?? key[3]) === part) hit = i;
      }
    }
    if (hit === -1) return found;
    found = hit + 1;
    if (typeof part === "number") {
      // Blank the dash, so a compact "- key: value" reads as a mapping.
      lines[hit] = " ".repeat(indent + 1) +
        (lines[hit] ?? "").slice(indent + 1);
      start = isContent(hit) ? hit : hit + 1;
      end = endOf(hit + 1, end, indent, false);
    } else {
      start = hit + 1;
      end = endOf(hit + 1, end, indent, true);
    }
  }
  return found;
}
