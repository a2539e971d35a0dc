/**
 * The live watch of `GET /api/v1/watch?filter=`: an event stream of the
 * messages the server routes to a topic filter, through `Server.watch()`,
 * at most `rate` a second per stream (the rest counted and reported as
 * skipped) and at most `maxStreams` streams at once.
 *
 * @module
 */

import { isValidTopicFilter } from "../../packets/topic.ts";
import type { Properties } from "../../packets/types.ts";
import type { Message } from "../message.ts";
import type { Server } from "../server/server.ts";
import { badField, HttpError, quote } from "./_http.ts";
import { EventStream } from "./_sse.ts";

/** Bytes of a payload a watched message shows; the rest is cut. */
export const WATCH_PAYLOAD_LIMIT = 16 * 1024;

/** A watched message, as sent in a `message` event. */
export interface WatchedMessageView {
  topic: string;
  /** The payload, cut at {@linkcode WATCH_PAYLOAD_LIMIT} bytes. */
  payload: string;
  encoding: "utf8" | "base64";
  /** The whole payload's size in bytes. */
  size: number;
  truncated: boolean;
  qos: number;
  retain: boolean;
  publisher: string | null;
  time: string;
  /** MQTT 5.0 properties; byte arrays in base64. */
  properties: Record<string, unknown>;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** The view of a watched message. */
export function watchedMessageView(m: Message): WatchedMessageView {
  const truncated = m.payload.length > WATCH_PAYLOAD_LIMIT;
  const shown = truncated
    ? m.payload.subarray(0, WATCH_PAYLOAD_LIMIT)
    : m.payload;
  let payload: string, encoding: "utf8" | "base64";
  try {
    // A cut payload may end inside a character: `stream` lets it (with a
    // decoder of its own, left unfinished).
    payload = truncated
      ? new TextDecoder("utf-8", { fatal: true }).decode(shown, {
        stream: true,
      })
      : UTF8.decode(shown);
    encoding = "utf8";
  } catch {
    payload = shown.toBase64();
    encoding = "base64";
  }
  return {
    topic: m.topic,
    payload,
    encoding,
    size: m.payload.length,
    truncated,
    qos: m.qos,
    retain: m.retain,
    publisher: m.publisher ?? null,
    time: new Date(m.createdAt).toISOString(),
    properties: propertiesView(m.properties),
  };
}

function propertiesView(
  properties: Properties | undefined,
): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(properties ?? {})) {
    if (value === undefined) continue;
    view[name] = value instanceof Uint8Array ? value.toBase64() : value;
  }
  return view;
}

/** The watch streams of one API. */
export class WatchStreams {
  readonly #server: Server;
  readonly #maxStreams: number;
  readonly #rate: number;
  #open = 0;

  constructor(server: Server, options: { maxStreams: number; rate: number }) {
    this.#server = server;
    this.#maxStreams = options.maxStreams;
    this.#rate = options.rate;
  }

  /**
   * Opens a watch stream of a filter.
   *
   * @throws {HttpError} 400 for a bad filter, 429 when `maxStreams` are open.
   */
  open(filter: string): Response {
    if (!isValidTopicFilter(filter) || filter.startsWith("$share/")) {
      throw badField(
        "filter",
        `Cannot watch: ${quote(filter)} is not a valid topic filter`,
      );
    }
    if (this.#open >= this.#maxStreams) {
      throw new HttpError(
        429,
        `Cannot watch: ${this.#maxStreams} watch streams are open already (maxWatchStreams)`,
      );
    }
    let budget = this.#rate;
    let skipped = 0;
    let stop: (() => void) | undefined;
    // Once a second: a new budget, and what the last second skipped.
    const tick = setInterval(() => {
      budget = this.#rate;
      if (skipped > 0) {
        stream.send("skipped", { skipped });
        skipped = 0;
      }
    }, 1000);
    const stream = new EventStream(() => {
      this.#open--;
      clearInterval(tick);
      stop?.();
    });
    this.#open++;
    try {
      stop = this.#server.watch(filter, (message) => {
        if (budget > 0 && !stream.full) {
          budget--;
          stream.send("message", watchedMessageView(message));
        } else {
          skipped++;
        }
      });
    } catch (error) {
      stream.close();
      throw badField("filter", (error as Error).message);
    }
    stream.send("ready", {
      filter,
      rate: this.#rate,
      payloadLimit: WATCH_PAYLOAD_LIMIT,
    });
    return stream.response;
  }
}
