/**
 * Server-sent events: a streaming `Response` whose body the API writes
 * events to, bounded in what it buffers for a slow reader, with a comment
 * now and then so that proxies and the client see it alive.
 *
 * @module
 */

/** Bytes an event stream buffers for its reader before it counts as full. */
const BUFFERED_BYTES = 256 * 1024;
/** Milliseconds between two keep-alive comments. */
const KEEP_ALIVE = 15_000;

const ENCODER = new TextEncoder();

/** One open event stream; see {@linkcode EventStream.response}. */
export class EventStream {
  /** The response to answer with; its body is the stream. */
  readonly response: Response;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #open = true;
  readonly #onClose: () => void;
  readonly #keepAlive: ReturnType<typeof setInterval>;

  /**
   * Opens a stream.
   *
   * @param onClose Called once when the stream ends: the client went away,
   * the server stopped, or {@linkcode EventStream.close} was called.
   */
  constructor(onClose: () => void) {
    this.#onClose = onClose;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      cancel: () => this.#ended(),
    }, { highWaterMark: BUFFERED_BYTES, size: (chunk) => chunk.byteLength });
    this.response = new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
    this.#keepAlive = setInterval(() => this.#write(": \n\n"), KEEP_ALIVE);
  }

  /** Whether it is still open. */
  get open(): boolean {
    return this.#open;
  }

  /** Whether the reader is behind: what it has not read fills the buffer. */
  get full(): boolean {
    return (this.#controller?.desiredSize ?? 0) <= 0;
  }

  /**
   * Sends one event.
   *
   * @param event The event's name.
   * @param data Its data, sent as JSON on one line.
   */
  send(event: string, data: unknown): void {
    this.sendRaw(event, JSON.stringify(data));
  }

  /**
   * Sends one event whose data is JSON already (one line), to share the
   * text among streams.
   */
  sendRaw(event: string, json: string): void {
    this.#write(`event: ${event}\ndata: ${json}\n\n`);
  }

  /** Ends the stream. */
  close(): void {
    if (!this.#open) return;
    try {
      this.#controller?.close();
    } catch {
      // Already cancelled.
    }
    this.#ended();
  }

  #write(text: string): void {
    if (!this.#open) return;
    try {
      this.#controller?.enqueue(ENCODER.encode(text));
    } catch {
      this.#ended();
    }
  }

  #ended(): void {
    if (!this.#open) return;
    this.#open = false;
    clearInterval(this.#keepAlive);
    this.#onClose();
  }
}
