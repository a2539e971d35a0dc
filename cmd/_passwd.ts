/**
 * The `passwd` subcommand: adds a user to a password file, or replaces its
 * password, with a PBKDF2-SHA256 hash.
 *
 * @module
 */

// deno-lint-ignore-file no-console

import { parseArgs } from "node:util";
import {
  DEFAULT_PBKDF2_ITERATIONS,
  hashPassword,
  parsePasswordFile,
  setPasswordFileUser,
} from "../src/hooks/auth.ts";

/** Usage of the subcommand, for `--help`. */
export const PASSWD_USAGE =
  `Usage: broker passwd FILE USER [--password PASSWORD] [--iterations N]

Adds USER to the password file FILE (made if missing, mode 0600), or replaces
its password. The password is read from --password, or else from standard
input: typed twice without echo on a terminal, or the first line of a pipe.

Options:
  --password PASSWORD  the password (visible in the process list: prefer stdin)
  --iterations N       PBKDF2 iterations, ${DEFAULT_PBKDF2_ITERATIONS} by default
  -h, --help           print this help
`;

/** A user error of the subcommand: printed as one line, exit code 2. */
export class UsageError extends Error {
  /** @param message The line to print. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Runs `passwd` with the arguments after the subcommand's name.
 *
 * @param args The arguments.
 * @returns The exit code.
 * @throws {UsageError} For bad arguments or an unusable file.
 */
export async function passwd(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        password: { type: "string" },
        iterations: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new UsageError(
      `Cannot set password: ${
        error instanceof Error ? error.message : String(error)
      }; see passwd --help`,
    );
  }
  if (parsed.values.help) {
    console.log(PASSWD_USAGE);
    return 0;
  }
  const [file, username, ...extra] = parsed.positionals;
  if (file === undefined || username === undefined || extra.length > 0) {
    throw new UsageError(
      "Cannot set password: expected FILE and USER; see passwd --help",
    );
  }
  if (username === "" || /[:\r\n]/.test(username)) {
    throw new UsageError(
      `Cannot set password: user name ${
        JSON.stringify(username)
      } must not be empty or hold ":" or a line break`,
    );
  }
  let iterations = DEFAULT_PBKDF2_ITERATIONS;
  if (parsed.values.iterations !== undefined) {
    iterations = Number(parsed.values.iterations);
    if (
      !/^[0-9]+$/.test(parsed.values.iterations) || iterations < 1000 ||
      iterations > 10_000_000
    ) {
      throw new UsageError(
        `Cannot set password: --iterations must be an integer from 1000 to 10000000, got ${
          JSON.stringify(parsed.values.iterations)
        }`,
      );
    }
  }
  let text = "";
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      throw new UsageError(
        `Cannot set password: cannot read ${file}: ${error}`,
      );
    }
  }
  let existed: boolean;
  try {
    existed = parsePasswordFile(text).has(username);
  } catch (error) {
    throw new UsageError(
      `Cannot set password: ${file} is not a valid password file: ${
        error instanceof Error
          ? error.message.replace(/^Cannot read password file: /, "")
          : String(error)
      }`,
    );
  }
  const password = parsed.values.password ?? await readPassword();
  if (password === "") {
    throw new UsageError("Cannot set password: the password is empty");
  }
  const hash = await hashPassword(password, { iterations });
  const updated = setPasswordFileUser(text, username, hash);
  // Write a new file and move it over the old one, so a crash never leaves a
  // half-written file.
  const temporary = `${file}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeTextFile(temporary, updated, { mode: 0o600 });
    await Deno.rename(temporary, file);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw new UsageError(`Cannot set password: cannot write ${file}: ${error}`);
  }
  console.error(
    `${existed ? "Changed the password of" : "Added"} ${
      JSON.stringify(username)
    } in ${file}`,
  );
  return 0;
}

/** Reads the password from standard input: twice without echo on a terminal. */
async function readPassword(): Promise<string> {
  if (!Deno.stdin.isTerminal()) {
    const text = new TextDecoder().decode(
      await new Response(Deno.stdin.readable).arrayBuffer(),
    );
    return text.split("\n")[0]?.replace(/\r$/, "") ?? "";
  }
  const first = await readHidden("Password: ");
  const second = await readHidden("Password again: ");
  if (first !== second) {
    throw new UsageError("Cannot set password: the two passwords differ");
  }
  return first;
}

/** Reads one line from the terminal without echoing it. */
async function readHidden(prompt: string): Promise<string> {
  const encoder = new TextEncoder();
  Deno.stderr.writeSync(encoder.encode(prompt));
  Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  const buffer = new Uint8Array(64);
  try {
    for (;;) {
      const n = await Deno.stdin.read(buffer);
      if (n === null) break;
      for (const byte of buffer.subarray(0, n)) {
        if (byte === 0x03) {
          throw new UsageError("Cannot set password: cancelled");
        }
        if (byte === 0x0d || byte === 0x0a) {
          return new TextDecoder().decode(Uint8Array.from(bytes));
        }
        if (byte === 0x7f || byte === 0x08) bytes.pop();
        else bytes.push(byte);
      }
    }
    return new TextDecoder().decode(Uint8Array.from(bytes));
  } finally {
    Deno.stdin.setRaw(false);
    Deno.stderr.writeSync(encoder.encode("\n"));
  }
}
