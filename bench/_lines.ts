/**
 * How the idle benchmarks talk to the server they start: its output read a
 * JSON line at a time, and its end. Not part of the package.
 *
 * @module
 */

/** The JSON lines of a stream, one at a time. */
export interface JsonLines {
  /** The next line, parsed; throws once the stream has ended. */
  next(): Promise<Record<string, number>>;
  /** Stops reading. */
  cancel(): Promise<void>;
}

/**
 * A reader of the JSON lines a stream carries.
 *
 * @param stream The child's standard output.
 * @returns The reader.
 */
export function jsonLines(stream: ReadableStream<Uint8Array>): JsonLines {
  const out = stream.pipeThrough(new TextDecoderStream()).getReader();
  let pending = "";
  return {
    async next() {
      while (!pending.includes("\n")) {
        const { value, done } = await out.read();
        if (done) throw new Error("The server ended");
        pending += value;
      }
      const at = pending.indexOf("\n");
      const line = pending.slice(0, at);
      pending = pending.slice(at + 1);
      return JSON.parse(line);
    },
    cancel: () => out.cancel(),
  };
}

/**
 * Ends a server child: closes its input, stops reading its lines, kills it
 * and waits for it.
 *
 * @param child The child, started with piped input and output.
 * @param writer The writer of its input.
 * @param lines The reader of its output.
 */
export async function stopChild(
  child: Deno.ChildProcess,
  writer: WritableStreamDefaultWriter<Uint8Array>,
  lines: JsonLines,
): Promise<void> {
  await writer.close().catch(() => {});
  await lines.cancel().catch(() => {});
  try {
    child.kill("SIGKILL");
  } catch {
    // Gone already.
  }
  await child.status;
}
