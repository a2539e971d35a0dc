/**
 * Runs the Mosquitto command-line clients (`mosquitto_pub`, `mosquitto_sub`,
 * from the Debian package `mosquitto-clients`) against a test broker, with
 * timeouts, and always stops them.
 *
 * @module
 */

/** A Mosquitto client program. */
export type MosquittoCommand = "mosquitto_pub" | "mosquitto_sub";

/** What a finished client printed and how it exited. */
export interface MosquittoResult {
  /** Exit code; 0 on success. */
  readonly code: number;
  /** Standard output, raw. */
  readonly stdout: Uint8Array;
  /** Standard output as UTF-8 text. */
  readonly text: string;
  /** Standard error as UTF-8 text. */
  readonly stderr: string;
}

/** Options for {@linkcode MosquittoProcess.spawn} and {@linkcode runMosquitto}. */
export interface MosquittoOptions {
  /** Bytes (or UTF-8 text) for standard input, which is then closed; none by default. */
  stdin?: Uint8Array | string;
}

/**
 * The arguments that point a client at a broker on 127.0.0.1, over TLS
 * trusting `caFile` when it is given.
 */
export function brokerArgs(port: number, caFile?: string): string[] {
  const args = ["-h", "127.0.0.1", "-p", String(port)];
  return caFile === undefined ? args : [...args, "--cafile", caFile];
}

/** A running Mosquitto client; `await using` kills it if it still runs. */
export class MosquittoProcess implements AsyncDisposable {
  readonly command: MosquittoCommand;
  readonly #child: Deno.ChildProcess;
  readonly #output: Promise<Deno.CommandOutput>;
  readonly #stdinDone: Promise<void>;
  #exited = false;

  private constructor(
    command: MosquittoCommand,
    args: string[],
    options: MosquittoOptions,
  ) {
    this.command = command;
    try {
      this.#child = new Deno.Command(command, {
        args,
        stdin: options.stdin === undefined ? "null" : "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new Error(
          `Cannot run ${command}: it is not installed; install the Debian package mosquitto-clients (apt-get install mosquitto-clients)`,
          { cause: error },
        );
      }
      throw error;
    }
    this.#output = this.#child.output().finally(() => this.#exited = true);
    const input = options.stdin;
    if (input === undefined) {
      this.#stdinDone = Promise.resolve();
    } else {
      const writer = this.#child.stdin.getWriter();
      const bytes = typeof input === "string"
        ? new TextEncoder().encode(input)
        : input;
      this.#stdinDone = writer.write(bytes)
        .then(() => writer.close())
        // The process died before reading it all: its exit code says why.
        .catch(() => {});
    }
  }

  /**
   * Starts a client.
   *
   * @throws {Error} With a clear message if the program is not installed.
   */
  static spawn(
    command: MosquittoCommand,
    args: string[],
    options: MosquittoOptions = {},
  ): MosquittoProcess {
    return new MosquittoProcess(command, args, options);
  }

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /**
   * Waits for the process to exit.
   *
   * @param timeout Milliseconds before it is killed, 5000 by default.
   * @throws {Error} If it did not exit in time (it is killed), with what it
   * printed on standard error.
   */
  async result(timeout = 5000): Promise<MosquittoResult> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeout);
    });
    const outcome = await Promise.race([this.#output, timedOut]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      this.kill();
      const output = await this.#output;
      await this.#stdinDone;
      throw new Error(
        `${this.command} did not finish within ${timeout} ms; it printed ${
          JSON.stringify(new TextDecoder().decode(output.stdout))
        } and on stderr ${
          JSON.stringify(new TextDecoder().decode(output.stderr))
        }`,
      );
    }
    await this.#stdinDone;
    return toResult(outcome);
  }

  /** Kills the process if it still runs. */
  kill(): void {
    if (this.#exited) return;
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // It exited meanwhile.
    }
  }

  /** Kills the process if needed and waits until it is gone. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.kill();
    await this.#output;
    await this.#stdinDone;
  }
}

/**
 * Runs a client to the end and returns what it printed.
 *
 * @param timeout Milliseconds before it is killed, 5000 by default.
 * @throws {Error} If it is not installed, or did not exit in time.
 */
export async function runMosquitto(
  command: MosquittoCommand,
  args: string[],
  options: MosquittoOptions & { timeout?: number } = {},
): Promise<MosquittoResult> {
  await using process = MosquittoProcess.spawn(command, args, options);
  return await process.result(options.timeout);
}

function toResult(output: Deno.CommandOutput): MosquittoResult {
  return {
    code: output.code,
    stdout: output.stdout,
    text: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}
