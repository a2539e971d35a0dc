/**
 * Process-level safety nets of the broker command: a handler for errors
 * and rejections nothing caught, and a report of the open-files limit.
 *
 * @module
 */

import type { Logger } from "../src/observe/logger.ts";

/**
 * Installs `unhandledrejection` and `error` listeners on `globalThis` that
 * log the error with its stack at error level and keep the process serving.
 * The library handles its own errors: this is a safety net, and each record
 * it logs is a bug to report.
 *
 * @param logger Where the errors are logged.
 * @returns A function that removes the listeners.
 */
export function installLastResortHandlers(logger: Logger): () => void {
  const onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    logger.error("unhandled promise rejection, still serving", {
      error: describe(event.reason),
      stack: stackOf(event.reason),
    });
  };
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    const error = event.error ?? event.message;
    logger.error("uncaught error, still serving", {
      error: describe(error),
      stack: stackOf(error),
      ...(event.filename ? { at: `${event.filename}:${event.lineno}` } : {}),
    });
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  globalThis.addEventListener("error", onError);
  return () => {
    globalThis.removeEventListener("unhandledrejection", onRejection);
    globalThis.removeEventListener("error", onError);
  };
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  try {
    return typeof error === "string" ? error : JSON.stringify(error) ?? "";
  } catch {
    return String(error);
  }
}

function stackOf(error: unknown): string {
  return error instanceof Error && error.stack !== undefined
    ? error.stack
    : "(no stack)";
}

/** The soft and hard limits on open files, as the kernel reports them. */
export interface OpenFilesLimit {
  /** The limit the process runs under. */
  readonly soft: number;
  /** How far the process may raise it; Infinity when unlimited. */
  readonly hard: number;
}

/**
 * Reads the open-files limit of this process from /proc/self/limits (Linux
 * only; Deno has no getrlimit).
 *
 * @returns The limits, or undefined where they cannot be read.
 */
export function readOpenFilesLimit(): OpenFilesLimit | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync("/proc/self/limits");
  } catch {
    return undefined;
  }
  const line = text.split("\n").find((l) => l.startsWith("Max open files"));
  const match = line?.match(/^Max open files\s+(\S+)\s+(\S+)/);
  if (!match) return undefined;
  const value = (s: string) => s === "unlimited" ? Infinity : Number(s);
  return { soft: value(match[1]!), hard: value(match[2]!) };
}

/**
 * Logs the open-files limit at info level, and warns when it is below the
 * connections the broker accepts. Deno itself raises the soft limit to the
 * hard one when it starts (Linux and macOS), so there is nothing left to
 * raise here; a larger limit is the hard limit's business (`ulimit -Hn`,
 * `LimitNOFILE=` in systemd).
 *
 * @param logger Where to log.
 * @param maxConnections The broker's connection limit.
 */
export function reportOpenFilesLimit(
  logger: Logger,
  maxConnections: number,
): void {
  const limit = readOpenFilesLimit();
  if (limit === undefined) return;
  logger.info("open files limit", { soft: limit.soft, hard: limit.hard });
  if (limit.soft < maxConnections) {
    logger.warn(
      "open files limit is below max_connections: connections past it fail",
      { openFiles: limit.soft, maxConnections },
    );
  }
}
