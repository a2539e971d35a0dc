/**
 * Runs fuzz cases against a broker over TCP and WebSocket, with a health
 * probe and the QoS 1 canary pair, and says whether the broker held.
 *
 * @module
 */

import { encodePacket, type Packet, PacketDecoder } from "../../packets/mod.ts";
import { Canary, type CanaryReport, withTimeout } from "./canary.ts";
import { type FuzzCase, makeCase } from "./cases.ts";

/** Where the broker is and how hard to push it. */
export interface FuzzOptions {
  /** The broker's address; 127.0.0.1 by default. */
  hostname?: string;
  /** Its MQTT TCP port (the canary and the probe use it). */
  port: number;
  /** Its MQTT WebSocket port; no WebSocket cases without it. */
  wsPort?: number;
  /** The WebSocket path; "/mqtt" by default. */
  wsPath?: string;
  /** The run's seed. */
  seed: number;
  /** Stop taking new cases once this many fuzz packets were sent. */
  packets: number;
  /** Index of the first case; 0 by default. */
  firstCase?: number;
  /** Run only this many cases (with `firstCase`, one case to replay). */
  cases?: number;
  /** Cases run at once; 32 by default. */
  concurrency?: number;
  /** A health probe after every this many cases; 200 by default. */
  probeEvery?: number;
  /** How long the probe may take, in ms; 5000 by default. */
  probeTimeout?: number;
  /** A "read" case stops after this many quiet ms; 100 by default. */
  readIdle?: number;
  /** How long a "fin" case waits for the broker to close, in ms; 3000. */
  finTimeout?: number;
  /** Whether to run the canary pair; true by default. */
  canary?: boolean;
  /** Pause between canary messages, in ms; 5 by default. */
  canaryInterval?: number;
  /**
   * The set of cases running, kept up to date by the run, for a caller that
   * must name them if the process is about to die; a new one by default.
   */
  inFlight?: Set<number>;
  /** Progress lines; none by default. */
  log?: (line: string) => void;
}

/** Why a run failed. */
export interface FuzzFailure {
  /** What failed. */
  readonly kind: "probe" | "canary" | "refused" | "stall" | "error";
  /** The error. */
  readonly message: string;
  /** Cases running when it failed. */
  readonly inFlight: number[];
  /** Cases finished since the last good probe (the last 50). */
  readonly sinceProbe: number[];
}

/** What a run did and saw. */
export interface FuzzResult {
  /** The run's seed. */
  readonly seed: number;
  /** Cases run. */
  readonly cases: number;
  /** Fuzz packets sent (valid and mutated). */
  readonly packets: number;
  /** Of them, mutated ones. */
  readonly mutated: number;
  /** Bytes sent. */
  readonly bytes: number;
  /** Cases over TCP and over WebSocket. */
  readonly tcpCases: number;
  readonly wsCases: number;
  /** Packets sent over WebSocket. */
  readonly wsPackets: number;
  /** Health probes that passed. */
  readonly probes: number;
  /**
   * TCP cases the broker had not closed within `finTimeout` after a FIN,
   * or that were still writing after 10 s.
   */
  readonly finStalls: number;
  /** WebSocket connections that did not open or close in time. */
  readonly wsFailures: number;
  /** Milliseconds the run took. */
  readonly durationMs: number;
  /** What the canary saw, if it ran. */
  readonly canary?: CanaryReport;
  /** Why the run failed; absent when the broker held. */
  readonly failure?: FuzzFailure;
}

/** Whether a case index goes over WebSocket (one in four, when there is one). */
export function overWebSocket(index: number, hasWs: boolean): boolean {
  return hasWs && index % 4 === 3;
}

/**
 * Runs the fuzzer.
 *
 * @param options The broker and the run's size.
 * @returns What happened; `failure` is set if the broker did not hold.
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const hostname = options.hostname ?? "127.0.0.1";
  const hasWs = options.wsPort !== undefined;
  const wsUrl = `ws://${hostname}:${options.wsPort}${
    options.wsPath ?? "/mqtt"
  }`;
  const concurrency = options.concurrency ?? 32;
  const probeEvery = options.probeEvery ?? 200;
  const probeTimeout = options.probeTimeout ?? 5000;
  const readIdle = options.readIdle ?? 100;
  const finTimeout = options.finTimeout ?? 3000;
  const first = options.firstCase ?? 0;
  const last = options.cases === undefined ? Infinity : first + options.cases;
  const log = options.log ?? (() => {});
  const started = Date.now();
  const stats = {
    cases: 0,
    packets: 0,
    mutated: 0,
    bytes: 0,
    tcpCases: 0,
    wsCases: 0,
    wsPackets: 0,
    probes: 0,
    finStalls: 0,
    wsFailures: 0,
  };
  const stalled: number[] = [];
  let next = first;
  let failure: FuzzFailure | undefined;
  const inFlight = options.inFlight ?? new Set<number>();
  let sinceProbe: number[] = [];
  const fail = (kind: FuzzFailure["kind"], message: string) => {
    failure ??= {
      kind,
      message,
      inFlight: [...inFlight].sort((a, b) => a - b),
      sinceProbe: sinceProbe.slice(-50),
    };
  };

  const canary = options.canary === false ? undefined : new Canary(
    hostname,
    options.port,
    {
      tag: `${options.seed}-${started}`,
      ...(options.canaryInterval !== undefined
        ? { interval: options.canaryInterval }
        : {}),
    },
  );
  try {
    await canary?.start();
  } catch (error) {
    fail("canary", `Cannot start the canary: ${error}`);
  }

  let probing: Promise<void> | undefined;
  let probeCount = 0;
  const runProbe = async () => {
    const ws = hasWs && probeCount++ % 2 === 1;
    const done = sinceProbe.length;
    try {
      await withTimeout(
        ws ? probeWebSocket(wsUrl) : probeTcp(hostname, options.port),
        probeTimeout,
        `${ws ? "WebSocket" : "TCP"} health probe answer`,
      );
      stats.probes++;
      sinceProbe = sinceProbe.slice(done);
    } catch (error) {
      fail("probe", error instanceof Error ? error.message : String(error));
    }
  };

  const worker = async () => {
    while (
      failure === undefined && stats.packets < options.packets && next < last
    ) {
      const index = next++;
      const c = makeCase(options.seed, index);
      const ws = overWebSocket(index, hasWs);
      inFlight.add(index);
      try {
        if (ws) {
          const ok = await runWebSocketCase(c, wsUrl, readIdle, finTimeout);
          if (!ok) stats.wsFailures++;
        } else {
          const ok = await runTcpCase(
            c,
            hostname,
            options.port,
            readIdle,
            finTimeout,
          );
          if (!ok) {
            stats.finStalls++;
            stalled.push(index);
          }
        }
      } catch (error) {
        if (error instanceof Deno.errors.ConnectionRefused) {
          fail("refused", `Case ${index}: the broker refused to connect`);
        } else fail("error", `Case ${index}: ${error}`);
      }
      inFlight.delete(index);
      sinceProbe.push(index);
      stats.cases++;
      stats.packets += c.packets;
      stats.mutated += c.mutated;
      for (const chunk of c.chunks) stats.bytes += chunk.length;
      if (ws) {
        stats.wsCases++;
        stats.wsPackets += c.packets;
      } else stats.tcpCases++;
      if (stats.cases % probeEvery === 0 && probing === undefined) {
        probing = runProbe().finally(() => probing = undefined);
      }
      if (stats.cases % 1000 === 0) {
        log(
          `${stats.cases} cases, ${stats.packets} packets, ${stats.probes} probes, ${
            ((Date.now() - started) / 1000).toFixed(1)
          } s`,
        );
      }
    }
  };
  if (failure === undefined) {
    await Promise.all(Array.from({ length: concurrency }, worker));
    await probing;
    if (failure === undefined) await runProbe();
  }
  if (stalled.length > 0) {
    // A connection the broker keeps after the client's FIN is a leak.
    fail(
      "stall",
      `The broker kept ${stalled.length} connections open ${finTimeout} ms after a FIN or took over ${CASE_TIMEOUT} ms to read a case: cases ${
        stalled.slice(0, 20).join(", ")
      }`,
    );
  }
  const report = canary === undefined ? undefined : await canary.stop();
  if (report !== undefined && report.lostCount > 0) {
    fail(
      "canary",
      `The canary lost ${report.lostCount} acknowledged messages, first ${
        report.lost.join(", ")
      }`,
    );
  }
  return {
    seed: options.seed,
    ...stats,
    durationMs: Date.now() - started,
    ...(report !== undefined ? { canary: report } : {}),
    ...(failure !== undefined ? { failure } : {}),
  };
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}

/** Reads and drops everything; resolves when the broker closed. */
async function drain(conn: Deno.Conn, seen: { at: number }): Promise<void> {
  const buffer = new Uint8Array(16384);
  try {
    while ((await conn.read(buffer)) !== null) seen.at = Date.now();
  } catch {
    // A reset or our own close.
  }
}

/**
 * Waits until `ended` resolves, or nothing came for `idle` ms, or 10 times
 * `idle` passed (a subscriber to "#" may never go quiet).
 */
async function quiet(
  ended: Promise<void>,
  seen: { at: number },
  idle: number,
): Promise<void> {
  let isOver = false;
  const over = ended.then(() => isOver = true);
  const deadline = Date.now() + 10 * idle;
  while (!isOver && Date.now() - seen.at < idle && Date.now() < deadline) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      over,
      new Promise((r) => timer = setTimeout(r, idle)),
    ]);
    clearTimeout(timer);
  }
}

/** How long one TCP case may take before it is closed, in ms. */
const CASE_TIMEOUT = 10_000;

/**
 * Runs one case over TCP; false if the broker did not close a "fin" case in
 * time or the case took longer than {@linkcode CASE_TIMEOUT}.
 */
async function runTcpCase(
  c: FuzzCase,
  hostname: string,
  port: number,
  readIdle: number,
  finTimeout: number,
): Promise<boolean> {
  const conn = await Deno.connect({ hostname, port });
  conn.setNoDelay(true);
  const seen = { at: Date.now() };
  const reading = drain(conn, seen);
  let ok = true;
  // A write the broker never reads would wait forever: close it then.
  const watchdog = setTimeout(() => {
    ok = false;
    try {
      conn.close();
    } catch {
      // Closed already.
    }
  }, CASE_TIMEOUT);
  try {
    for (const chunk of c.chunks) await writeAll(conn, chunk);
  } catch {
    // The broker closed first: it may, after a bad packet.
  }
  if (c.ending === "fin") {
    try {
      await conn.closeWrite();
    } catch {
      // Closed already.
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    ok = ok && await Promise.race([
      reading.then(() => true),
      new Promise<boolean>((r) => timer = setTimeout(r, finTimeout, false)),
    ]);
    clearTimeout(timer);
  } else if (c.ending === "read") {
    await quiet(reading, seen, readIdle);
  }
  clearTimeout(watchdog);
  try {
    conn.close();
  } catch {
    // The reader saw the end and the close raced it.
  }
  await reading;
  return ok;
}

/** Runs one case over WebSocket; false if the socket did not open or close. */
async function runWebSocketCase(
  c: FuzzCase,
  url: string,
  readIdle: number,
  finTimeout: number,
): Promise<boolean> {
  const socket = new WebSocket(url, ["mqtt"]);
  socket.binaryType = "arraybuffer";
  const seen = { at: Date.now() };
  const { promise: closed, resolve: onClosed } = Promise.withResolvers<
    void
  >();
  const { promise: opened, resolve: onOpened } = Promise.withResolvers<
    boolean
  >();
  socket.onopen = () => onOpened(true);
  socket.onerror = () => onOpened(false);
  socket.onclose = () => {
    onOpened(false);
    onClosed();
  };
  socket.onmessage = () => seen.at = Date.now();
  if (!(await opened)) {
    await closed;
    return false;
  }
  for (const chunk of c.chunks) {
    if (socket.readyState !== WebSocket.OPEN) break;
    socket.send(chunk);
  }
  if (c.ending !== "rst") await quiet(closed, seen, readIdle);
  if (socket.readyState !== WebSocket.CLOSED) socket.close();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ok = await Promise.race([
    closed.then(() => true),
    new Promise<boolean>((r) => timer = setTimeout(r, finTimeout, false)),
  ]);
  clearTimeout(timer);
  if (!ok) await closed;
  return ok;
}

/** CONNECT, CONNACK 0, PINGREQ, PINGRESP, DISCONNECT over `send`. */
async function probeExchange(
  send: (bytes: Uint8Array) => Promise<void> | void,
  next: () => Promise<Packet>,
): Promise<void> {
  const encode = (p: Packet) => encodePacket(p, 4);
  await send(encode({
    type: "connect",
    protocolName: "MQTT",
    protocolVersion: 4,
    clean: true,
    keepAlive: 0,
    clientId: "",
  }));
  const connack = await next();
  if (connack.type !== "connack" || connack.reasonCode !== 0) {
    throw new Error(
      `Health probe got ${JSON.stringify(connack)}, not CONNACK 0`,
    );
  }
  await send(encode({ type: "pingreq" }));
  const pong = await next();
  if (pong.type !== "pingresp") {
    throw new Error(`Health probe got ${pong.type}, not PINGRESP`);
  }
  await send(encode({ type: "disconnect" }));
}

/** Hands packets out one at a time, waiting for the next to come. */
class Inbox {
  readonly #decoder = new PacketDecoder({ protocolVersion: 4 });
  readonly #packets: Packet[] = [];
  #wake: (() => void) | undefined;
  #ended = false;

  push(bytes: Uint8Array): void {
    for (const p of this.#decoder.push(bytes)) this.#packets.push(p);
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async next(): Promise<Packet> {
    while (this.#packets.length === 0) {
      if (this.#ended) throw new Error("Health probe connection closed");
      await new Promise<void>((r) => this.#wake = r);
    }
    return this.#packets.shift()!;
  }
}

async function probeTcp(hostname: string, port: number): Promise<void> {
  const conn = await Deno.connect({ hostname, port });
  const inbox = new Inbox();
  const reading = (async () => {
    const buffer = new Uint8Array(4096);
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        inbox.push(buffer.subarray(0, n));
      }
    } catch {
      // Closed.
    }
    inbox.end();
  })();
  try {
    await probeExchange((b) => writeAll(conn, b), () => inbox.next());
  } finally {
    try {
      conn.close();
    } catch {
      // Closed already.
    }
    await reading;
  }
}

async function probeWebSocket(url: string): Promise<void> {
  const socket = new WebSocket(url, ["mqtt"]);
  socket.binaryType = "arraybuffer";
  const inbox = new Inbox();
  const { promise: closed, resolve: onClosed } = Promise.withResolvers<
    void
  >();
  const { promise: opened, resolve: onOpened } = Promise.withResolvers<
    boolean
  >();
  socket.onopen = () => onOpened(true);
  socket.onerror = () => onOpened(false);
  socket.onclose = () => {
    onOpened(false);
    inbox.end();
    onClosed();
  };
  socket.onmessage = (e) => {
    if (e.data instanceof ArrayBuffer) inbox.push(new Uint8Array(e.data));
  };
  try {
    if (!(await opened)) throw new Error("Health probe WebSocket did not open");
    await probeExchange((b) => socket.send(b), () => inbox.next());
  } finally {
    if (socket.readyState !== WebSocket.CLOSED) socket.close();
    await closed;
  }
}
