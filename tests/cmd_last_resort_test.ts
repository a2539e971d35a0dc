/**
 * The broker command's process-level safety nets: errors nothing caught are
 * logged and serving goes on; the open-files limit is logged at start.
 */

import { ok, strictEqual } from "node:assert/strict";
import { freePort } from "./_harness.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** A script that installs the handlers, then fails twice where nothing catches. */
const SCRIPT = `
import { installLastResortHandlers } from "${ROOT}cmd/_last_resort.ts";
import { Logger, StreamHandler } from "${ROOT}src/observe/logger.ts";
const logger = new Logger("broker", "info", { handlers: [new StreamHandler()] });
installLastResortHandlers(logger);
Promise.reject(new Error("Rejected with no handler"));
setTimeout(() => { throw new TypeError("Thrown from a timer"); }, 10);
setTimeout(() => console.log("still serving"), 100);
`;

Deno.test("installLastResortHandlers() logs unhandled rejections and uncaught errors with their stacks and keeps the process running", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", SCRIPT],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  const out = new TextDecoder().decode(stdout);
  const err = new TextDecoder().decode(stderr);
  strictEqual(code, 0, err);
  strictEqual(out.trim(), "still serving");
  ok(
    /ERROR +broker: unhandled promise rejection, still serving .*Rejected with no handler/
      .test(err),
    err,
  );
  ok(
    /ERROR +broker: uncaught error, still serving .*TypeError: Thrown from a timer/
      .test(err),
    err,
  );
  // The stack names where the error was made.
  ok(err.includes("$deno$eval"), err);
});

function hasPrlimit(): boolean {
  if (Deno.build.os !== "linux") return false;
  try {
    return new Deno.Command("prlimit", { args: ["--version"] }).outputSync()
      .success;
  } catch {
    return false;
  }
}

Deno.test({
  name:
    "broker command logs the open-files limit at start, raised to the hard limit from a soft limit of 256",
  ignore: !hasPrlimit(),
  async fn() {
    const hard = new TextDecoder().decode(
      new Deno.Command("sh", { args: ["-c", "ulimit -Hn"] }).outputSync()
        .stdout,
    ).trim();
    // Deno searches for the largest soft limit it can set when the hard
    // limit is unlimited: nothing exact to compare then.
    if (hard === "unlimited") return;
    const child = new Deno.Command("prlimit", {
      args: [
        `--nofile=256:${hard}`,
        Deno.execPath(),
        "run",
        "-A",
        `${ROOT}cmd/broker.ts`,
        "--host",
        "127.0.0.1",
        "--port",
        String(freePort()),
        "--sys-interval",
        "0",
      ],
      cwd: ROOT,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let text = "";
    const reader = child.stderr.pipeThrough(new TextDecoderStream())
      .getReader();
    const deadline = Date.now() + 15_000;
    while (!text.includes("open files limit") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    child.kill("SIGTERM");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    await child.status;
    const line = text.split("\n").find((l) => l.includes("open files limit"));
    ok(line !== undefined, text);
    ok(line.includes(`soft=${hard} hard=${hard}`), line);
  },
});
