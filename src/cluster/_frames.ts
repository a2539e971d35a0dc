/**
 * What the nodes of a cluster write to each other through Redis, and read
 * back: batches of messages (each with the shared groups its node serves),
 * stream entries, heartbeats, control messages and interest changes.
 * Private to the cluster bus.
 *
 * @module
 */

import type { SharedGroupFilter } from "../core/ports.ts";
import { type RedisReply, replyText } from "../redis/mod.ts";
import { type GroupKey, groupKey } from "./_interest.ts";

/**
 * A node's last heartbeat. `at` is when this node read it, by its own
 * clock: nodes' clocks may differ.
 */
export interface Heartbeat {
  at: number;
  clients: number;
  subscriptions: number;
}

/** A control message between two nodes. */
export type Control =
  | { t: "release"; c: string; from: string; r: string }
  | { t: "released"; r: string };

/** An interest change, on the interest channel. */
export interface InterestChange {
  n: string;
  /** Adds a filter, removes one, the node joined (`j`) or left (`l`). */
  op: "+" | "-" | "j" | "l";
  f: string;
}

/** A heartbeat as stored; `undefined` when missing or unreadable. */
export function parseHeartbeat(
  reply: RedisReply | undefined,
): Heartbeat | undefined {
  if (reply === undefined || reply === null) return undefined;
  try {
    const beat = JSON.parse(replyText(reply)) as Partial<Heartbeat>;
    if (typeof beat.at !== "number") return undefined;
    return {
      at: Date.now(),
      clients: typeof beat.clients === "number" ? beat.clients : 0,
      subscriptions: typeof beat.subscriptions === "number"
        ? beat.subscriptions
        : 0,
    };
  } catch {
    return undefined;
  }
}

/**
 * The entries of an XREADGROUP reply for one stream: id, and the `b` field (a batch of messages)
 * (`undefined` when it lacks one). RESP2 answers `[[stream, entries]]`,
 * RESP3 `[stream, entries]` (a map as pairs); `null` when nothing came.
 */
export function streamEntries(
  reply: RedisReply,
): [id: string, message: Uint8Array | undefined][] {
  if (reply === null || !Array.isArray(reply) || reply.length === 0) return [];
  const first = reply[0];
  const entries = Array.isArray(first) ? first[1] : reply[1];
  if (!Array.isArray(entries)) return [];
  const out: [string, Uint8Array | undefined][] = [];
  for (const entry of entries) {
    if (!Array.isArray(entry)) continue;
    const id = replyText(entry[0] ?? null);
    const fields = entry[1];
    let message: Uint8Array | undefined;
    if (Array.isArray(fields)) {
      for (let i = 0; i + 1 < fields.length; i += 2) {
        const value = fields[i + 1];
        if (
          replyText(fields[i] ?? null) === "b" && value instanceof Uint8Array
        ) {
          message = value;
        }
      }
    }
    out.push([id, message]);
  }
  return out;
}

/** A message in a batch, with the shared groups its node serves. */
export type BatchEntry = [message: Uint8Array, groups: readonly GroupKey[]];

export const NO_GROUPS: readonly GroupKey[] = Object.freeze([]);
const TEXT = new TextEncoder();
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** The filter of the shared groups a node serves: these, none else. */
export function servedBy(
  groups: readonly GroupKey[] | undefined,
): SharedGroupFilter {
  if (groups === undefined || groups.length === 0) return () => false;
  return (share, filter) => groups.includes(groupKey(share, filter));
}

/**
 * Messages as one frame: each as a 32-bit length, the length of its group
 * list (16 bits), the list (group keys, newline-separated, UTF-8), and the
 * message.
 */
export function encodeBatch(entries: readonly BatchEntry[]): Uint8Array {
  const lists = entries.map(([, groups]) =>
    groups.length === 0 ? undefined : TEXT.encode(groups.join("\n"))
  );
  let size = 0;
  for (const [i, [m]] of entries.entries()) {
    size += 6 + (lists[i]?.length ?? 0) + m.length;
  }
  const frame = new Uint8Array(size);
  const view = new DataView(frame.buffer);
  let at = 0;
  for (const [i, [m]] of entries.entries()) {
    const list = lists[i];
    const listLength = list?.length ?? 0;
    view.setUint32(at, 2 + listLength + m.length);
    view.setUint16(at + 4, listLength);
    if (list !== undefined) frame.set(list, at + 6);
    frame.set(m, at + 6 + listLength);
    at += 6 + listLength + m.length;
  }
  return frame;
}

/** The entries of a frame made by `encodeBatch`; throws if malformed. */
export function decodeBatch(frame: Uint8Array): BatchEntry[] {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.length);
  const entries: BatchEntry[] = [];
  let at = 0;
  while (at < frame.length) {
    if (at + 6 > frame.length) throw new RangeError("truncated batch");
    const length = view.getUint32(at);
    const listLength = view.getUint16(at + 4);
    if (length < 2 + listLength || at + 4 + length > frame.length) {
      throw new RangeError("truncated batch");
    }
    const groups = listLength === 0
      ? NO_GROUPS
      : UTF8.decode(frame.subarray(at + 6, at + 6 + listLength)).split("\n");
    entries.push([
      frame.subarray(at + 6 + listLength, at + 4 + length),
      groups,
    ]);
    at += 4 + length;
  }
  return entries;
}
