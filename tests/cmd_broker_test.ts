/**
 * Runs `cmd/broker.ts` as a subprocess: flags, configuration files, TLS and
 * WebSocket listeners, authentication, ACL, signals and exit codes.
 */

import { createTestCertificate } from "./_tls.ts";
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import {
  type ConnectPacket,
  decodePacket,
  encodePacket,
  type Packet,
  PacketDecoder,
} from "@gmqtt/broker/packets";
import { hashPassword, verifyPassword } from "@gmqtt/broker";
import { freePort } from "./_harness.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const BROKER = `${ROOT}cmd/broker.ts`;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A broker subprocess whose standard error is read line by line. */
class BrokerProcess implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly lines: string[] = [];
  readonly #reading: Promise<void>;
  #waiters: (() => void)[] = [];
  #status: Deno.CommandStatus | undefined;

  constructor(args: string[]) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", BROKER, ...args],
      cwd: ROOT,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#reading = this.#read();
    void this.child.status.then((status) => {
      this.#status = status;
      this.#wake();
    });
  }

  async #read(): Promise<void> {
    let rest = "";
    for await (
      const text of this.child.stderr.pipeThrough(new TextDecoderStream())
    ) {
      const parts = (rest + text).split("\n");
      rest = parts.pop() ?? "";
      this.lines.push(...parts);
      this.#wake();
    }
    if (rest !== "") this.lines.push(rest);
    this.#wake();
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  /** Waits for a line of standard error matching `pattern`. */
  async waitFor(pattern: RegExp, timeout = 10_000): Promise<string> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const line = this.lines.find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (this.#status !== undefined || Date.now() > deadline) {
        throw new Error(
          `Cannot find ${pattern} in the broker's output (${
            this.#status ? `exited ${this.#status.code}` : "timed out"
          }):\n${this.lines.join("\n")}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until every listener is open. */
  started(): Promise<string> {
    return this.waitFor(/ broker: started |"msg":"started"/);
  }

  /** Sends a signal and waits for the exit. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    this.child.kill(signal);
    const status = await this.child.status;
    await this.#reading;
    return status;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#status === undefined) {
      try {
        this.child.kill("SIGKILL");
      } catch {
        // It exited in the meantime.
      }
    }
    await this.child.status;
    await this.#reading;
  }
}

/** Runs the command to its end. */
async function runBroker(
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", BROKER, ...args],
    cwd: ROOT,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(encoder.encode(stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}

/** Runs a mosquitto client to its end. */
async function mosquitto(
  program: "mosquitto_pub" | "mosquitto_sub",
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(program, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(15_000),
  }).output();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}

/** An MQTT client over TCP, written with the codec. */
class RawClient implements Disposable {
  readonly #conn: Deno.TcpConn;
  readonly #decoder: PacketDecoder;
  readonly #packets: Packet[] = [];
  readonly #buffer = new Uint8Array(4096);
  readonly #version: 4 | 5;

  private constructor(conn: Deno.TcpConn, version: 4 | 5) {
    this.#conn = conn;
    this.#version = version;
    this.#decoder = new PacketDecoder({ protocolVersion: version });
  }

  static async connect(
    port: number,
    clientId: string,
    options: Partial<ConnectPacket> = {},
  ): Promise<RawClient> {
    const version = options.protocolVersion === 5 ? 5 : 4;
    const client = new RawClient(
      await Deno.connect({ hostname: "127.0.0.1", port }),
      version,
    );
    await client.send({
      type: "connect",
      protocolName: "MQTT",
      protocolVersion: version,
      clean: true,
      keepAlive: 60,
      clientId,
      ...options,
    });
    const connack = await client.next();
    deepStrictEqual(
      connack.type === "connack" ? connack.reasonCode : connack.type,
      0,
    );
    return client;
  }

  async send(packet: Packet): Promise<void> {
    const bytes = encodePacket(packet, this.#version);
    let offset = 0;
    while (offset < bytes.length) {
      offset += await this.#conn.write(bytes.subarray(offset));
    }
  }

  /** The next packet from the server, within 5 seconds. */
  async next(): Promise<Packet> {
    const timer = setTimeout(() => this.#conn.close(), 5000);
    try {
      while (this.#packets.length === 0) {
        const n = await this.#conn.read(this.#buffer);
        if (n === null) throw new Error("Cannot read: the server closed");
        this.#packets.push(...this.#decoder.push(this.#buffer.subarray(0, n)));
      }
      return this.#packets.shift()!;
    } finally {
      clearTimeout(timer);
    }
  }

  [Symbol.dispose](): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }
}

/** Publishes one retained QoS 1 message over WebSocket, with the codec. */
async function wsPublish(
  port: number,
  topic: string,
  payload: string,
): Promise<void> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, "mqtt");
  ws.binaryType = "arraybuffer";
  const received: Packet[] = [];
  let wake = () => {};
  ws.onmessage = (event) => {
    received.push(decodePacket(new Uint8Array(event.data as ArrayBuffer)));
    wake();
  };
  const closed = new Promise((resolve) => ws.onclose = resolve);
  const next = async (): Promise<Packet> => {
    while (received.length === 0) {
      await new Promise<void>((resolve) => wake = resolve);
    }
    return received.shift()!;
  };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  strictEqual(ws.protocol, "mqtt");
  ws.send(encodePacket({
    type: "connect",
    protocolName: "MQTT",
    protocolVersion: 4,
    clean: true,
    keepAlive: 30,
    clientId: "ws-publisher",
  }));
  strictEqual((await next()).type, "connack");
  ws.send(encodePacket({
    type: "publish",
    topic,
    payload: encoder.encode(payload),
    qos: 1,
    packetId: 1,
    retain: true,
    dup: false,
  }));
  strictEqual((await next()).type, "puback");
  ws.send(encodePacket({ type: "disconnect" }));
  ws.close();
  await closed;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gmqtt_cmd_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function isPortFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "0.0.0.0", port }).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "broker with no arguments listens on 0.0.0.0:1883 and says so",
  ignore: !isPortFree(1883),
  async fn() {
    await using broker = new BrokerProcess([]);
    await broker.started();
    ok(
      broker.lines.some((l) =>
        / INFO {2}broker: listening name=tcp:1883 transport=tcp hostname=0\.0\.0\.0 port=1883$/
          .test(l)
      ),
      broker.lines.join("\n"),
    );
    const pub = await mosquitto("mosquitto_pub", [
      "-h",
      "127.0.0.1",
      "-p",
      "1883",
      "-t",
      "hello",
      "-m",
      "world",
    ]);
    strictEqual(pub.code, 0, pub.stderr);
    strictEqual((await broker.stop()).code, 0);
  },
});

Deno.test("broker stops gracefully with exit code 0 on SIGTERM and SIGINT", async () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    const port = freePort();
    await using broker = new BrokerProcess([
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
    ]);
    await broker.started();
    using client = await RawClient.connect(port, "watcher", {
      protocolVersion: 5,
    });
    const status = await broker.stop(signal);
    strictEqual(status.code, 0, broker.lines.join("\n"));
    // A 5.0 client is told "server shutting down" (0x8b).
    const disconnect = await client.next();
    deepStrictEqual(
      disconnect.type === "disconnect" ? disconnect.reasonCode : disconnect,
      0x8b,
    );
    ok(broker.lines.some((l) => / broker: stopped$/.test(l)));
  }
});

Deno.test("broker serves TCP, TLS and WebSocket listeners from a config file", async () => {
  await withDir(async (dir) => {
    const certificate = await createTestCertificate();
    await Deno.copyFile(certificate.certFile, `${dir}/server.crt`);
    await Deno.copyFile(certificate.keyFile, `${dir}/server.key`);
    certificate.remove();
    const [tcp, tls, ws] = [freePort(), freePort(), freePort()];
    await Deno.writeTextFile(
      `${dir}/broker.yml`,
      `listeners:
  - address: "127.0.0.1:${tcp}"
  - address: "127.0.0.1:${tls}"
    tls:
      cert: server.crt
      key: server.key
  - address: "127.0.0.1:${ws}"
    websocket:
      path: /mqtt
log:
  format: json
`,
    );
    await using broker = new BrokerProcess(["--config", `${dir}/broker.yml`]);
    await broker.started();
    const listening = broker.lines.map((l) => JSON.parse(l)).filter((r) =>
      r.msg === "listening"
    ).map((r) => `${r.transport} ${r.port}`);
    deepStrictEqual(listening, [`tcp ${tcp}`, `tls ${tls}`, `ws ${ws}`]);

    const pub = await mosquitto("mosquitto_pub", [
      "-h",
      "127.0.0.1",
      "-p",
      String(tls),
      "--cafile",
      `${dir}/server.crt`,
      "-t",
      "t/tls",
      "-m",
      "over-tls",
      "-q",
      "1",
      "-r",
    ]);
    strictEqual(pub.code, 0, pub.stderr);
    await wsPublish(ws, "t/ws", "over-ws");
    // Both retained messages reach a TCP subscriber.
    const sub = await mosquitto("mosquitto_sub", [
      "-h",
      "127.0.0.1",
      "-p",
      String(tcp),
      "-t",
      "t/#",
      "-v",
      "-C",
      "2",
      "-W",
      "10",
    ]);
    strictEqual(sub.code, 0, sub.stderr);
    deepStrictEqual(sub.stdout.trim().split("\n").sort(), [
      "t/tls over-tls",
      "t/ws over-ws",
    ]);
    strictEqual((await broker.stop()).code, 0);
  });
});

Deno.test("broker passwd writes a hashed password that the broker accepts", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/passwords`;
    const added = await runBroker(
      ["passwd", file, "alice", "--iterations", "1000"],
      "alice-pw\n",
    );
    strictEqual(added.code, 0, added.stderr);
    strictEqual(added.stderr, `Added "alice" in ${file}\n`);
    const changed = await runBroker([
      "passwd",
      file,
      "alice",
      "--password",
      "new-pw",
      "--iterations",
      "1000",
    ]);
    strictEqual(changed.code, 0, changed.stderr);
    const text = await Deno.readTextFile(file);
    const [line, ...rest] = text.trimEnd().split("\n");
    deepStrictEqual(rest, []);
    ok(line?.startsWith("alice:$pbkdf2-sha256$1000$"));
    strictEqual(await verifyPassword("new-pw", line!.slice(6)), true);
    strictEqual((await Deno.stat(file)).mode! & 0o777, 0o600);

    const port = freePort();
    await Deno.writeTextFile(
      `${dir}/broker.yml`,
      `listeners:\n  - address: "127.0.0.1:${port}"\nauth:\n  password_file: passwords\n`,
    );
    await using broker = new BrokerProcess(["--config", `${dir}/broker.yml`]);
    await broker.started();
    const args = ["-h", "127.0.0.1", "-p", String(port), "-t", "a", "-m", "x"];
    const good = await mosquitto("mosquitto_pub", [
      ...args,
      "-u",
      "alice",
      "-P",
      "new-pw",
    ]);
    strictEqual(good.code, 0, good.stderr);
    // 3.1.1: CONNACK return code 4; 5.0: reason code 0x86.
    const bad = await mosquitto("mosquitto_pub", [
      ...args,
      "-u",
      "alice",
      "-P",
      "alice-pw",
    ]);
    ok(bad.code !== 0);
    ok(/bad user name or password/i.test(bad.stderr), bad.stderr);
    const bad5 = await mosquitto("mosquitto_pub", [
      ...args,
      "-V",
      "5",
      "-u",
      "mallory",
      "-P",
      "x",
    ]);
    ok(bad5.code !== 0);
    ok(/bad user name or password/i.test(bad5.stderr), bad5.stderr);
    // No user name and no allow_anonymous: CONNACK 5, not authorized.
    const anonymous = await mosquitto("mosquitto_pub", args);
    ok(anonymous.code !== 0);
    ok(/not authori[sz]ed/i.test(anonymous.stderr), anonymous.stderr);
    ok(
      broker.lines.some((l) =>
        / connection refused .*reason_code="bad_user_name_or_password \(0x86\)"/
          .test(l)
      ),
    );
    strictEqual((await broker.stop()).code, 0);
  });
});

Deno.test("broker refuses subscriptions and drops publishes that the ACL denies", async () => {
  await withDir(async (dir) => {
    const port = freePort();
    const hash = await hashPassword("pw", { iterations: 1000 });
    await Deno.writeTextFile(
      `${dir}/broker.yml`,
      `listeners:
  - address: "127.0.0.1:${port}"
auth:
  allow_anonymous: true
  users:
    - username: alice
      password: "${hash}"
acl:
  rules:
    - {permission: deny, action: subscribe, topic: secret/#}
    - {permission: deny, action: publish, topic: readonly/#}
    - {permission: allow, action: all, topic: "#", username: alice}
    - {permission: allow, action: subscribe, topic: "#"}
    - {permission: allow, action: publish, topic: "clients/%c/#"}
  default: deny
`,
    );
    await using broker = new BrokerProcess(["--config", `${dir}/broker.yml`]);
    await broker.started();

    using subscriber = await RawClient.connect(port, "sub");
    await subscriber.send({
      type: "subscribe",
      packetId: 1,
      subscriptions: [
        { topicFilter: "secret/x", qos: 1 },
        { topicFilter: "#", qos: 1 },
        { topicFilter: "readonly/+", qos: 1 },
      ],
    });
    const suback = await subscriber.next();
    // "#" overlaps the deny rule on secret/#: granted, and secret/ topics
    // are withheld from it at delivery.
    deepStrictEqual(
      suback.type === "suback" ? suback.reasonCodes : suback,
      [0x80, 1, 1],
    );
    await subscriber.send({
      type: "subscribe",
      packetId: 2,
      subscriptions: [{ topicFilter: "clients/+/out", qos: 1 }],
    });
    const suback2 = await subscriber.next();
    deepStrictEqual(
      suback2.type === "suback" ? suback2.reasonCodes : suback2,
      [1],
    );

    using alice = await RawClient.connect(port, "pub", {
      username: "alice",
      password: encoder.encode("pw"),
    });
    const publish = (topic: string, packetId: number): Packet => ({
      type: "publish",
      topic,
      payload: encoder.encode(topic),
      qos: 1,
      packetId,
      retain: false,
      dup: false,
    });
    // Denied for everyone: acknowledged, but not delivered.
    await alice.send(publish("readonly/a", 1));
    deepStrictEqual(await alice.next(), { type: "puback", packetId: 1 });
    // Not allowed for an anonymous client other than on its own topics.
    using anon = await RawClient.connect(port, "anon");
    await anon.send(publish("clients/other/out", 1));
    strictEqual((await anon.next()).type, "puback");
    await alice.send(publish("readonly/b", 2));
    strictEqual((await alice.next()).type, "puback");
    // Routed, but the subscriber may not receive it.
    await alice.send(publish("secret/x", 3));
    strictEqual((await alice.next()).type, "puback");
    await anon.send(publish("clients/anon/out", 2));
    strictEqual((await anon.next()).type, "puback");
    // Allowed: the first message the subscriber gets is the allowed one.
    const delivered = await subscriber.next();
    strictEqual(
      delivered.type === "publish" ? delivered.topic : delivered.type,
      "clients/anon/out",
    );
    strictEqual((await broker.stop()).code, 0);
  });
});

Deno.test("broker flags override the config file, and config.example.yml runs", async () => {
  const [tcp, ws] = [freePort(), freePort()];
  await using broker = new BrokerProcess([
    "--config",
    "config.example.yml",
    "--host",
    "127.0.0.1",
    "--port",
    String(tcp),
    "--ws-port",
    String(ws),
    "--log-level",
    "debug",
    "--log-format",
    "json",
  ]);
  await broker.started();
  const records = broker.lines.map((l) => JSON.parse(l));
  deepStrictEqual(
    records.filter((r) => r.msg === "listening").map((r) =>
      `${r.transport} ${r.hostname}:${r.port}`
    ),
    [`tcp 127.0.0.1:${tcp}`, `ws 127.0.0.1:${ws}`],
  );
  // The example lets alice in, with its documented password.
  const pub = await mosquitto("mosquitto_pub", [
    "-h",
    "127.0.0.1",
    "-p",
    String(tcp),
    "-u",
    "alice",
    "-P",
    "alice-password",
    "-t",
    "admin/x",
    "-m",
    "x",
  ]);
  strictEqual(pub.code, 0, pub.stderr);
  strictEqual((await broker.stop()).code, 0);
});

Deno.test("broker --version and --help print to stdout and exit 0", async () => {
  const denoJson = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const version = await runBroker(["--version"]);
  strictEqual(version.code, 0);
  strictEqual(version.stdout, `${denoJson.name} ${denoJson.version}\n`);
  const help = await runBroker(["--help"]);
  strictEqual(help.code, 0);
  for (
    const flag of [
      "--config",
      "--port",
      "--host",
      "--ws-port",
      "--tls-port",
      "--tls-cert",
      "--tls-key",
      "--log-level",
      "--log-format",
      "--api-port",
      "--api-host",
      "--no-dashboard",
      "--sys-interval",
      "--persistence",
      "--version",
      "passwd",
    ]
  ) {
    ok(help.stdout.includes(flag), flag);
  }
});

Deno.test("broker exits 2 with one line for each kind of configuration error", async () => {
  await withDir(async (dir) => {
    const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      await Deno.writeTextFile(`${dir}/key.pem`, "no pem here\n");
      await Deno.writeTextFile(`${dir}/bad.db`, "not a database. ".repeat(64));
      const cases: [
        name: string,
        yaml: string | undefined,
        args: string[],
        RegExp,
      ][] = [
        [
          "unknown key",
          "listeners:\n  - address: :1\nbogus: 1\n",
          [],
          /^Cannot load config: \S+\/c\.yml:3: bogus: unknown key; expected one of /,
        ],
        [
          "wrong type",
          "mqtt:\n  max_inflight: many\n",
          [],
          /^Cannot load config: \S+:2: mqtt\.max_inflight: expected an integer from 1 to 65535, got "many"$/,
        ],
        [
          "bad value",
          "log:\n  format: xml\n",
          [],
          /^Cannot load config: \S+:2: log\.format: expected one of text, json, got "xml"$/,
        ],
        [
          "unreadable cert",
          "listeners:\n  - address: :1\n  - address: :2\n    tls:\n      cert: nope.pem\n      key: key.pem\n",
          [],
          /^Cannot load config: \S+:5: listeners\[1\]\.tls\.cert: cannot read "\S+\/nope\.pem": No such file/,
        ],
        [
          "port in use",
          `listeners:\n  - address: "127.0.0.1:${busy.addr.port}"\n`,
          [],
          new RegExp(
            `^Cannot start broker: \\S+/c\\.yml:2: listeners\\[0\\]\\.address: cannot listen on 127\\.0\\.0\\.1:${busy.addr.port}: the address is in use$`,
          ),
        ],
        [
          "API port in use",
          `listeners:\n  - address: "127.0.0.1:0"\napi:\n  address: "127.0.0.1:${busy.addr.port}"\n`,
          [],
          new RegExp(
            `^Cannot start broker: \\S+/c\\.yml:4: api\\.address: cannot listen on 127\\.0\\.0\\.1:${busy.addr.port}: the address is in use$`,
          ),
        ],
        [
          "API port in use, from the flag",
          'listeners:\n  - address: "127.0.0.1:0"\n',
          ["--api-port", String(busy.addr.port)],
          new RegExp(
            `^Cannot start broker: api\\.address: cannot listen on 127\\.0\\.0\\.1:${busy.addr.port}: the address is in use$`,
          ),
        ],
        [
          "unknown api key",
          "api:\n  port: 1\n",
          [],
          /^Cannot load config: \S+:2: api\.port: unknown key; expected one of /,
        ],
        [
          "ACL rule naming a user without users",
          "acl:\n  rules:\n    - {permission: allow, action: all, topic: '#', username: admin}\n",
          [],
          /^Cannot load config: \S+:3: acl\.rules\[0\]\.username: a rule for user "admin" needs users to log in as/,
        ],
        [
          "API on every interface without credentials",
          'listeners:\n  - address: "127.0.0.1:0"\napi:\n  address: ":0"\n',
          [],
          /^Cannot load config: \S+:4: api\.address: the API would listen on "0\.0\.0\.0" without credentials/,
        ],
        [
          "API host flag on every interface without credentials",
          'listeners:\n  - address: "127.0.0.1:0"\n',
          ["--api-port", "0", "--api-host", "0.0.0.0"],
          /^Cannot start broker: api\.address: cannot listen on 0\.0\.0\.0:0: Cannot serve the API on "0\.0\.0\.0" without credentials/,
        ],
        [
          "API host flag without an API",
          "",
          ["--api-host", "0.0.0.0"],
          /^Cannot start broker: --api-host needs --api-port/,
        ],
        [
          "dashboard flag without an API",
          "",
          ["--no-dashboard"],
          /^Cannot start broker: --no-dashboard needs --api-port/,
        ],
        [
          "bad $SYS interval flag",
          "",
          ["--sys-interval", "1m"],
          /^Cannot start broker: --sys-interval: expected seconds from 0 to 86400, got "1m"$/,
        ],
        [
          "YAML syntax",
          "mqtt:\n  max_inflight: [1, 2\n",
          [],
          /^Cannot load config: \S+:2: invalid YAML at column \d+: unterminated flow collection/,
        ],
        [
          "plain-text password",
          "auth:\n  users:\n    - {username: a, password: secret}\n",
          [],
          /^Cannot load config: \S+:3: auth\.users\[0\]\.password: expected a \$pbkdf2-sha256\$ hash/,
        ],
        [
          "missing config file",
          undefined,
          [],
          /^Cannot load config: \S+\/c\.yml: cannot read: No such file/,
        ],
        [
          "unknown flag",
          "",
          ["--frobnicate"],
          /^Cannot start broker: Unknown option '--frobnicate'; see --help$/,
        ],
        [
          "bad port flag",
          "",
          ["--port", "http"],
          /^Cannot start broker: --port: expected a port from 0 to 65535, got "http"$/,
        ],
        [
          "bad persistence flag",
          "",
          ["--persistence", "redis"],
          /^Cannot start broker: --persistence: expected memory, sqlite or sqlite:PATH, got "redis"$/,
        ],
        [
          "persistence flag without a path",
          "",
          ["--persistence", "sqlite:"],
          /^Cannot start broker: --persistence: expected memory, sqlite or sqlite:PATH, got "sqlite:"$/,
        ],
        [
          "bad persistence type",
          "persistence:\n  type: disk\n",
          [],
          /^Cannot load config: \S+:2: persistence\.type: expected one of memory, sqlite, redis, got "disk"$/,
        ],
        [
          "corrupt store file from the config file",
          'listeners:\n  - address: "127.0.0.1:0"\npersistence:\n  type: sqlite\n  path: bad.db\n',
          [],
          /^Cannot start broker: \S+\/c\.yml:5: persistence\.path: cannot use the store \S+\/bad\.db: file is not a database$/,
        ],
        [
          "corrupt store file from the flag",
          'listeners:\n  - address: "127.0.0.1:0"\n',
          ["--persistence", `sqlite:${dir}/bad.db`],
          /^Cannot start broker: cannot use the store \S+\/bad\.db: file is not a database$/,
        ],
        [
          "store file in a missing folder",
          'listeners:\n  - address: "127.0.0.1:0"\n',
          ["--persistence", `sqlite:${dir}/none/g.db`],
          /^Cannot start broker: cannot use the store \S+\/none\/g\.db: unable to open database file$/,
        ],
        [
          "TLS flag without a key",
          "",
          ["--tls-port", "8883", "--tls-cert", "x.pem"],
          /^Cannot start broker: --tls-port needs --tls-cert and --tls-key/,
        ],
      ];
      for (const [name, yaml, args, expected] of cases) {
        const file = `${dir}/c.yml`;
        await Deno.remove(file).catch(() => {});
        if (yaml !== undefined) await Deno.writeTextFile(file, yaml);
        const { code, stdout, stderr } = await runBroker([
          "--config",
          file,
          ...args,
        ]);
        strictEqual(code, 2, `${name}: ${stderr}`);
        strictEqual(stdout, "", name);
        const lines = stderr.trimEnd().split("\n");
        strictEqual(lines.length, 1, `${name}: ${stderr}`);
        ok(expected.test(lines[0]!), `${name}: ${stderr}`);
      }
    } finally {
      busy.close();
    }
  });
});

Deno.test("broker --api-port serves the HTTP API with the token of the config file", async () => {
  await withDir(async (dir) => {
    const [port, apiPort] = [freePort(), freePort()];
    await Deno.writeTextFile(
      `${dir}/broker.yml`,
      `listeners:\n  - address: "127.0.0.1:${port}"\napi:\n  token: s3cret\n`,
    );
    await using broker = new BrokerProcess([
      "--config",
      `${dir}/broker.yml`,
      "--api-port",
      String(apiPort),
    ]);
    await broker.started();
    // The API's address is printed with the listeners, before "started".
    const lines = broker.lines.map((l) => l.replace(/^\S+ /, ""));
    const api = lines.indexOf(
      `INFO  broker: api listening hostname=127.0.0.1 port=${apiPort}`,
    );
    ok(api > 0 && api < lines.indexOf("INFO  broker: started version=0.1.0"));

    const url = `http://127.0.0.1:${apiPort}`;
    const health = await fetch(`${url}/healthz`);
    strictEqual(health.status, 200);
    deepStrictEqual(await health.json(), { status: "ok" });
    const denied = await fetch(`${url}/api/v1/clients`);
    strictEqual(denied.status, 401);
    await denied.body?.cancel();
    // The dashboard's page needs no credential; its calls do.
    const page = await fetch(`${url}/ui/`);
    strictEqual(page.status, 200);
    ok((await page.text()).includes("gmqtt dashboard"));

    const sub = new Deno.Command("mosquitto_sub", {
      args: ["-h", "127.0.0.1", "-p", String(port), "-i", "watcher", "-t", "x"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      const clients = async (): Promise<string[]> => {
        const response = await fetch(`${url}/api/v1/clients`, {
          headers: { authorization: "Bearer s3cret" },
        });
        strictEqual(response.status, 200);
        const body = await response.json();
        return body.items.map((c: { clientId: string; connected: boolean }) =>
          `${c.clientId} ${c.connected}`
        );
      };
      const deadline = Date.now() + 10_000;
      let seen = await clients();
      while (!seen.includes("watcher true") && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        seen = await clients();
      }
      deepStrictEqual(seen, ["watcher true"]);
    } finally {
      sub.kill("SIGTERM");
      await sub.status;
    }
    strictEqual((await broker.stop()).code, 0);
    // The API stopped with the broker.
    await rejects(fetch(`${url}/healthz`));
  });
});

Deno.test("broker --no-dashboard serves the HTTP API without the dashboard", async () => {
  await withDir(async (dir) => {
    const [port, apiPort] = [freePort(), freePort()];
    await Deno.writeTextFile(
      `${dir}/broker.yml`,
      `listeners:\n  - address: "127.0.0.1:${port}"\n`,
    );
    await using broker = new BrokerProcess([
      "--config",
      `${dir}/broker.yml`,
      "--api-port",
      String(apiPort),
      "--no-dashboard",
    ]);
    await broker.started();
    const url = `http://127.0.0.1:${apiPort}`;
    const page = await fetch(`${url}/ui/`);
    strictEqual(page.status, 404);
    await page.body?.cancel();
    const about = await fetch(`${url}/api/v1/broker`);
    strictEqual(about.status, 200);
    await about.body?.cancel();
    strictEqual((await broker.stop()).code, 0);
  });
});

Deno.test("broker publishes $SYS topics every sys_interval seconds", async () => {
  await withDir(async (dir) => {
    const port = freePort();
    await Deno.writeTextFile(
      `${dir}/broker.yml`,
      `listeners:\n  - address: "127.0.0.1:${port}"\nsys_interval: 0.1\n`,
    );
    await using broker = new BrokerProcess(["--config", `${dir}/broker.yml`]);
    await broker.started();
    const sub = await mosquitto("mosquitto_sub", [
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
      "-t",
      "$SYS/broker/uptime",
      "-C",
      "1",
      // Under the default interval of 10 s, so the setting is what counts.
      "-W",
      "5",
    ]);
    strictEqual(sub.code, 0, sub.stderr);
    ok(/^[0-9]+ seconds$/.test(sub.stdout.trim()), sub.stdout);
    strictEqual((await broker.stop()).code, 0);
  });
});

Deno.test("deno task broker passwd works as the README writes it, with the task's permissions", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/passwords.txt`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", "broker", "passwd", file, "bob"],
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(20_000),
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(encoder.encode("s3cret\n"));
    await writer.close();
    const { code, stderr } = await child.output();
    strictEqual(code, 0, decoder.decode(stderr));
    const line = (await Deno.readTextFile(file)).trimEnd();
    ok(line.startsWith("bob:$pbkdf2-sha256$"), line);
    strictEqual(await verifyPassword("s3cret", line.slice(4)), true);
  });
});

/** Retained messages under `topic` that a new subscriber gets, as "topic payload" lines. */
async function retainedAt(port: number, topic: string): Promise<string> {
  const sub = await mosquitto("mosquitto_sub", [
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-t",
    topic,
    "-v",
    "-C",
    "1",
    "-W",
    "5",
  ]);
  strictEqual(sub.code, 0, sub.stderr);
  return sub.stdout.trim();
}

Deno.test("broker --persistence sqlite:PATH keeps retained messages and persistent sessions across a restart", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/state.db`;
    const port = freePort();
    const args = [
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--persistence",
      `sqlite:${file}`,
    ];
    {
      await using broker = new BrokerProcess(args);
      await broker.started();
      ok(
        broker.lines.some((l) =>
          l.includes(
            `broker: store opened type=sqlite path=${file} sync=normal`,
          )
        ),
        broker.lines.join("\n"),
      );
      strictEqual((await Deno.stat(file)).isFile, true);
      // A persistent session subscribes, then goes offline.
      {
        using client = await RawClient.connect(port, "keeper", {
          clean: false,
        });
        await client.send({
          type: "subscribe",
          packetId: 1,
          subscriptions: [{ topicFilter: "queued/#", qos: 1 }],
        });
        strictEqual((await client.next()).type, "suback");
        await client.send({ type: "disconnect" });
      }
      // One retained message, one queued for the offline session; both QoS 1,
      // acknowledged once committed.
      for (const extra of [["-t", "kept/a", "-r"], ["-t", "queued/b"]]) {
        const topic = extra[1];
        const pub = await mosquitto("mosquitto_pub", [
          ...["-h", "127.0.0.1", "-p", String(port), "-q", "1"],
          ...extra,
          ...["-m", `${topic} payload`],
        ]);
        strictEqual(pub.code, 0, pub.stderr);
      }
      strictEqual((await broker.stop()).code, 0);
      ok(broker.lines.some((l) => / broker: store closed path=/.test(l)));
    }
    await using again = new BrokerProcess(args);
    await again.started();
    await again.waitFor(/ broker: state loaded sessions=1 retained=1$/);
    strictEqual(await retainedAt(port, "kept/#"), "kept/a kept/a payload");
    using client = await RawClient.connect(port, "keeper", { clean: false });
    const queued = await client.next();
    strictEqual(queued.type, "publish");
    if (queued.type === "publish") {
      strictEqual(queued.topic, "queued/b");
      strictEqual(decoder.decode(queued.payload), "queued/b payload");
      strictEqual(queued.qos, 1);
      await client.send({ type: "puback", packetId: queued.packetId! });
    }
    strictEqual((await again.stop()).code, 0);
  });
});

Deno.test("broker persistence.path in the config file is relative to the file's folder", async () => {
  await withDir(async (dir) => {
    const port = freePort();
    await Deno.writeTextFile(
      `${dir}/broker.yml`,
      `listeners:\n  - address: "127.0.0.1:${port}"\npersistence:\n  type: sqlite\n  path: state.db\n  sync: full\n`,
    );
    await using broker = new BrokerProcess(["--config", `${dir}/broker.yml`]);
    await broker.started();
    await broker.waitFor(
      new RegExp(
        ` broker: store opened type=sqlite path=\\S+/state\\.db sync=full$`,
      ),
    );
    strictEqual((await Deno.stat(`${dir}/state.db`)).isFile, true);
    strictEqual((await broker.stop()).code, 0);
    // --persistence memory overrides the file: no store is opened.
    await using memory = new BrokerProcess([
      "--config",
      `${dir}/broker.yml`,
      "--persistence",
      "memory",
    ]);
    await memory.started();
    ok(!memory.lines.some((l) => l.includes("store opened")));
    strictEqual((await memory.stop()).code, 0);
  });
});

Deno.test("broker exits 2 naming the file when another broker holds the store", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/state.db`;
    await using first = new BrokerProcess([
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--persistence",
      `sqlite:${file}`,
    ]);
    await first.started();
    const second = await runBroker([
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--persistence",
      `sqlite:${file}`,
    ]);
    strictEqual(second.code, 2, second.stderr);
    strictEqual(second.stdout, "");
    const lines = second.stderr.trimEnd().split("\n");
    strictEqual(lines.length, 1, second.stderr);
    strictEqual(
      lines[0],
      `Cannot start broker: cannot use the store ${file}: database is locked (another broker, or another program, has it open)`,
    );
    // The first one is unharmed and stops as usual.
    strictEqual((await first.stop()).code, 0);
  });
});

Deno.test("broker --persistence keeps what was acknowledged through kill -9, and publishes the will of a client connected at the crash", async () => {
  await withDir(async (dir) => {
    const port = freePort();
    const args = [
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--persistence",
      `sqlite:${dir}/state.db`,
    ];
    {
      await using broker = new BrokerProcess(args);
      await broker.started();
      using _client = await RawClient.connect(port, "doomed", {
        clean: false,
        will: {
          topic: "wills/doomed",
          payload: encoder.encode("gone"),
          qos: 1,
          retain: true,
        },
      });
      const pub = await mosquitto("mosquitto_pub", [
        ...["-h", "127.0.0.1", "-p", String(port), "-q", "1", "-r"],
        ...["-t", "kept/crash", "-m", "acknowledged"],
      ]);
      strictEqual(pub.code, 0, pub.stderr);
      strictEqual((await broker.stop("SIGKILL")).signal, "SIGKILL");
    }
    await using again = new BrokerProcess(args);
    await again.started();
    strictEqual(await retainedAt(port, "kept/#"), "kept/crash acknowledged");
    strictEqual(await retainedAt(port, "wills/#"), "wills/doomed gone");
    strictEqual((await again.stop()).code, 0);
  });
});
