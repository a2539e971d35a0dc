/**
 * How the Redis store's writes reach Redis: private to the store.
 *
 * The writes of a turn are sent in one `MULTI`/`EXEC` in a microtask at
 * its end; one commit is in flight at a time, and the writes made
 * meanwhile go together in the next. A read (a page of a queue, a session)
 * goes in the same pipeline right after the writes made before it, so it
 * sees them. A commit that fails gives its writes back to go first in the
 * next one, tried after a growing delay (100 ms to 5 s) unless a write
 * brings one sooner; until that delay is over, a commit fails at once
 * with the same error. Scripts run as `EVALSHA`, and again with their
 * text when Redis does not know them.
 *
 * @module
 */

import {
  type RedisClient,
  RedisError,
  type RedisLogger,
  type RedisReply,
} from "../redis/mod.ts";
import {
  type Command,
  commandsOf,
  type Write,
  WriteBatch,
} from "./_redis_batch.ts";

/** What a {@linkcode Commits} needs from its store. */
export interface CommitsOptions {
  /** The Redis URL, its password masked, for the logs. */
  readonly url: string;
  /** Where a failed commit is reported. */
  readonly logger: RedisLogger | undefined;
  /** Resolves when Redis may be written (the schema is checked). */
  readonly ready: () => Promise<void>;
  /** The error a failed commit or read rejects with, from its cause. */
  readonly error: (cause: Error) => Error;
  /** The text of every script a read runs with `EVAL`. */
  readonly scripts: readonly string[];
}

/** A read sent after the writes before it. */
interface Read {
  readonly commands: Command[];
  resolve(replies: RedisReply[]): void;
  reject(error: Error): void;
}

/** A promise and what settles it. */
interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

/** The writes of a store on their way to Redis, and the reads after them. */
export class Commits {
  readonly #client: RedisClient;
  readonly #options: CommitsOptions;
  readonly #batch = new WriteBatch();
  /** Reads that wait for the next commit. */
  #reads: Read[] = [];
  #scheduled = false;
  /** Whether a commit is in flight. */
  #sending = false;
  /** Settled by the commit that takes the writes waiting. */
  #next: Deferred | undefined;
  /** Settled by the commit in flight. */
  #sent: Deferred | undefined;
  /** Why the last commit failed, while its writes wait to go again. */
  #failure: Error | undefined;
  #retryAt = 0;
  #backoff = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  /** The SHA-1 of each script, by its text, once known. */
  #shas: Map<string, string> | undefined;

  constructor(client: RedisClient, options: CommitsOptions) {
    this.#client = client;
    this.#options = options;
  }

  /** Adds a write, committed at the end of the turn. */
  write(commands: Command[], name?: string): void {
    this.#batch.add(commands, name);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#run();
    });
  }

  /** The write of that name, if not yet sent. */
  pending(name: string): Write | undefined {
    return this.#batch.pending(name);
  }

  /** Cancels the write of that name if not yet sent; whether it was. */
  cancel(name: string): boolean {
    return this.#batch.cancel(name);
  }

  /**
   * Sends commands after the writes so far; resolves with their replies
   * (an error reply is a value), rejects if the writes or the commands
   * cannot be sent.
   */
  read(commands: Command[]): Promise<RedisReply[]> {
    return new Promise((resolve, reject) => {
      this.#reads.push({ commands, resolve, reject });
      this.#run();
    });
  }

  /**
   * A promise that resolves once every write so far is committed, or
   * rejects if the commit that holds them fails; `undefined` when none
   * waits.
   */
  flush(): Promise<void> | undefined {
    if (!this.#batch.empty) return (this.#next ??= deferred()).promise;
    if (this.#sending) return (this.#sent ??= deferred()).promise;
    return undefined;
  }

  /**
   * Commits what waits now (without waiting for a retry's delay), waits
   * for it, and stops retrying. Rejects if that commit fails.
   */
  async close(): Promise<void> {
    this.#retryAt = 0;
    this.#run();
    try {
      await this.flush();
    } finally {
      this.#stopped = true;
      clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
    }
  }

  /**
   * Sends the writes waiting in one `MULTI`/`EXEC`, and the reads waiting
   * after it, unless a commit is in flight (the next one goes when it
   * answers) or the last one failed a moment ago (what waits fails at
   * once, and the writes go again when the retry is due).
   */
  #run(): void {
    if (this.#sending) return;
    const writes = !this.#batch.empty;
    if (!writes && this.#reads.length === 0) return;
    const failure = this.#failure;
    if (failure !== undefined && writes && Date.now() < this.#retryAt) {
      const next = this.#next;
      this.#next = undefined;
      next?.reject(failure);
      for (const read of this.#reads.splice(0)) read.reject(failure);
      return;
    }
    this.#sending = true;
    this.#send().catch((error) => {
      // #send settles its own failures: this would be a bug.
      this.#sending = false;
      this.#options.logger?.error("store commit failed unexpectedly", {
        url: this.#options.url,
        error: describe(error),
      });
    });
  }

  async #send(): Promise<void> {
    const writes = this.#batch.take();
    const reads = this.#reads;
    this.#reads = [];
    this.#sent = this.#next;
    this.#next = undefined;
    let failure: Error | undefined;
    let replies: RedisReply[] = [];
    try {
      await this.#options.ready();
      const shas = this.#shas ??= await sha1s(this.#options.scripts);
      const commands = commandsOf(writes);
      const pipeline: Command[] = commands.length === 0
        ? []
        : [["MULTI"], ...commands, ["EXEC"]];
      for (const read of reads) {
        for (const command of read.commands) {
          pipeline.push(short(command, shas));
        }
      }
      replies = await this.#client.pipeline(pipeline);
      if (commands.length > 0) {
        const exec = replies[commands.length + 1] ?? null;
        failure = execFailure(exec, replies.slice(0, commands.length + 1));
        replies = replies.slice(commands.length + 2);
      }
      if (failure === undefined) {
        replies = await this.#unknownScripts(reads, replies);
      }
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
    this.#sending = false;
    const sent = this.#sent;
    this.#sent = undefined;
    if (failure === undefined) {
      if (writes.length > 0) this.#committed();
      sent?.resolve();
      let at = 0;
      for (const read of reads) {
        read.resolve(replies.slice(at, at + read.commands.length));
        at += read.commands.length;
      }
    } else {
      const error = this.#options.error(failure);
      if (writes.length > 0) this.#failed(writes, error, failure);
      sent?.reject(error);
      for (const read of reads) read.reject(error);
    }
    this.#run();
  }

  /**
   * Sends again, with its text, each script Redis did not know (`NOSCRIPT`:
   * it restarted, or let go of its scripts); it did not run. Redis keeps
   * the text of a script run so, and `EVALSHA` finds it again.
   */
  async #unknownScripts(
    reads: Read[],
    replies: RedisReply[],
  ): Promise<RedisReply[]> {
    const again: number[] = [];
    replies.forEach((reply, i) => {
      if (reply instanceof RedisError && reply.code === "NOSCRIPT") {
        again.push(i);
      }
    });
    if (again.length === 0) return replies;
    const commands = reads.flatMap((read) => read.commands);
    const answers = await this.#client.pipeline(
      again.map((i) => commands[i]!),
    );
    const all = [...replies];
    again.forEach((at, i) => all[at] = answers[i]!);
    return all;
  }

  /** A commit succeeded: the writes of an earlier failure are in too. */
  #committed(): void {
    if (this.#failure !== undefined) {
      this.#options.logger?.info("store writes committed again", {
        url: this.#options.url,
      });
    }
    this.#failure = undefined;
    this.#backoff = 0;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  /**
   * A commit failed: its writes go first in the next, tried after a
   * growing delay unless a write brings one sooner. Logged once until a
   * commit succeeds.
   */
  #failed(writes: Write[], error: Error, cause: Error): void {
    this.#batch.keep(writes);
    if (this.#failure === undefined) {
      this.#options.logger?.error("store write failed", {
        url: this.#options.url,
        error: cause.message,
      });
    }
    this.#failure = error;
    this.#backoff = Math.min(Math.max(this.#backoff * 2, 100), 5_000);
    this.#retryAt = Date.now() + this.#backoff;
    if (this.#retryTimer === undefined && !this.#stopped) {
      const timer = setTimeout(() => {
        this.#retryTimer = undefined;
        this.#retryAt = 0;
        this.#run();
      }, this.#backoff);
      Deno.unrefTimer(timer as unknown as number);
      this.#retryTimer = timer;
    }
  }
}

/** Why an `EXEC` did not apply every write, if it did not. */
function execFailure(
  exec: RedisReply,
  queued: RedisReply[],
): Error | undefined {
  if (exec instanceof RedisError) {
    // EXECABORT: a command was refused as it was queued; say which.
    return queued.find((r) => r instanceof RedisError) as RedisError ?? exec;
  }
  if (!Array.isArray(exec)) {
    return new Error(`EXEC answered ${exec === null ? "nil" : typeof exec}`);
  }
  return exec.find((r) => r instanceof RedisError) as RedisError | undefined;
}

/** `EVAL script ...` as `EVALSHA sha ...`, when the script's SHA is known. */
function short(command: Command, shas: Map<string, string>): Command {
  if (command[0] !== "EVAL") return command;
  const sha = shas.get(command[1] as string);
  return sha === undefined ? command : ["EVALSHA", sha, ...command.slice(2)];
}

/** The SHA-1 of each script, in hex, as Redis names them. */
async function sha1s(scripts: readonly string[]): Promise<Map<string, string>> {
  const shas = new Map<string, string>();
  for (const script of scripts) {
    const digest = await crypto.subtle.digest(
      "SHA-1",
      new TextEncoder().encode(script),
    );
    shas.set(
      script,
      Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0"))
        .join(""),
    );
  }
  return shas;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Whoever waits sees the rejection; nobody waiting is no error.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
