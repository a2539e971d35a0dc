/**
 * How the idle benchmarks talk to the server they start in a child process
 * of their own: a line of text in, a JSON line out. Not part of the package.
 *
 * @module
 */

/** A server child: started by {@linkcode ServerChild.start}. */
export class ServerChild {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #out: ReadableStreamDefaultReader<string>;
  #pending = "";

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  }

  /**
   * Runs `deno run -A SCRIPT ARGS...` with piped input and output.
   *
   * @param script The script's path.
   * @param args Its arguments.
   * @returns The child.
   */
  static start(script: string, args: string[]): ServerChild {
    return new ServerChild(
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script, ...args],
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn(),
    );
  }

  /** The next line the child writes, parsed; throws once it has ended. */
  async next(): Promise<Record<string, number>> {
    while (!this.#pending.includes("\n")) {
      const { value, done } = await this.#out.read();
      if (done) throw new Error("The server ended");
      this.#pending += value;
    }
    const at = this.#pending.indexOf("\n");
    const line = this.#pending.slice(0, at);
    this.#pending = this.#pending.slice(at + 1);
    return JSON.parse(line);
  }

  /** Writes a line to the child and gives its answer. */
  async ask(line: string): Promise<Record<string, number>> {
    await this.#writer.write(new TextEncoder().encode(line + "\n"));
    return await this.next();
  }

  /** Closes its input, stops reading, kills it and waits for it. */
  async stop(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.#out.cancel().catch(() => {});
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Gone already.
    }
    await this.#child.status;
  }
}
