/**
 * The broker with real third-party clients: `mosquitto_pub` and
 * `mosquitto_sub` over TCP and TLS, MQTT 3.1, 3.1.1 and 5.0. These tests
 * fail (they do not skip) when the clients are missing: CI installs them.
 *
 * @module
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { type QoS, Server, type ServerOptions } from "../mod.ts";
import {
  brokerArgs,
  MosquittoProcess,
  type MosquittoResult,
  runMosquitto,
} from "./_mosquitto.ts";
import { createTestCertificate } from "./_tls.ts";

const TLS = await createTestCertificate();

interface Broker extends AsyncDisposable {
  readonly server: Server;
  readonly tcpPort: number;
  readonly tlsPort: number;
  /** Arguments for `-h`, `-p` (and `--cafile` over TLS). */
  args(transport?: "tcp" | "tls"): string[];
}

/** Starts a server with a TCP and a TLS listener on 127.0.0.1. */
async function startBroker(options: ServerOptions = {}): Promise<Broker> {
  const server = new Server(options);
  server.listen({ hostname: "127.0.0.1", port: 0 });
  server.listen({ hostname: "127.0.0.1", port: 0, ...tlsFiles() });
  await server.start();
  const [tcpPort, tlsPort] = server.addresses.map((a) => a.port) as [
    number,
    number,
  ];
  return {
    server,
    tcpPort,
    tlsPort,
    args: (transport = "tcp") =>
      transport === "tcp"
        ? brokerArgs(tcpPort)
        : brokerArgs(tlsPort, TLS.certFile),
    [Symbol.asyncDispose]: () => server.stop({ timeout: 2000 }),
  };
}

function tlsFiles(): { certFile: string; keyFile: string } {
  return { certFile: TLS.certFile, keyFile: TLS.keyFile };
}

/**
 * Starts `mosquitto_sub` with client id `clientId` and waits until the
 * broker holds its subscriptions (so nothing published next is missed).
 */
async function subscriber(
  broker: Broker,
  clientId: string,
  args: string[],
  count = 1,
): Promise<MosquittoProcess> {
  const process = MosquittoProcess.spawn("mosquitto_sub", [
    "-i",
    clientId,
    ...args,
  ]);
  const deadline = Date.now() + 3000;
  while (broker.server.subscriptions({ clientId }).length < count) {
    if (process.exited || Date.now() > deadline) {
      await process[Symbol.asyncDispose]();
      const result = await process.result(100).catch((e) => e);
      throw new Error(
        `mosquitto_sub ${clientId} did not subscribe: ${
          result instanceof Error ? result.message : result.stderr
        }`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return process;
}

/** Asserts that a client exited with 0 and returns what it printed. */
function succeeded(result: MosquittoResult): MosquittoResult {
  strictEqual(result.code, 0, `exit code ${result.code}: ${result.stderr}`);
  return result;
}

for (const transport of ["tcp", "tls"] as const) {
  for (const qos of [0, 1, 2] as const) {
    Deno.test(`Server relays mosquitto_pub to mosquitto_sub at QoS ${qos} over ${transport.toUpperCase()}`, async () => {
      const published: QoS[] = [];
      await using broker = await startBroker({
        hooks: {
          checkPublish(_client, packet) {
            published.push(packet.qos);
            return undefined;
          },
        },
      });
      const topic = `gmqtt/${transport}/q${qos}`;
      await using sub = await subscriber(broker, "sub", [
        ...broker.args(transport),
        "-q",
        String(qos),
        "-t",
        topic,
        "-C",
        "1",
        "-F",
        "%q %r %t %p",
      ]);
      succeeded(
        await runMosquitto("mosquitto_pub", [
          ...broker.args(transport),
          "-i",
          "pub",
          "-q",
          String(qos),
          "-t",
          topic,
          "-m",
          `hello at QoS ${qos} ünïcode`,
        ]),
      );
      const { text } = succeeded(await sub.result());
      strictEqual(text, `${qos} 0 ${topic} hello at QoS ${qos} ünïcode\n`);
      deepStrictEqual(published, [qos]);
    });
  }
}

Deno.test("Server relays a 100 KB binary file from mosquitto_pub -f byte for byte", async () => {
  await using broker = await startBroker();
  const payload = new Uint8Array(100 * 1024);
  for (let at = 0; at < payload.length; at += 65536) {
    crypto.getRandomValues(payload.subarray(at, at + 65536));
  }
  const file = await Deno.makeTempFile({ prefix: "gmqtt_payload_" });
  try {
    await Deno.writeFile(file, payload);
    for (const transport of ["tcp", "tls"] as const) {
      await using sub = await subscriber(broker, `big-${transport}`, [
        ...broker.args(transport),
        "-q",
        "1",
        "-t",
        "gmqtt/big",
        "-C",
        "1",
        "-N",
      ]);
      succeeded(
        await runMosquitto("mosquitto_pub", [
          ...broker.args(transport),
          "-q",
          "1",
          "-t",
          "gmqtt/big",
          "-f",
          file,
        ]),
      );
      const { stdout } = succeeded(await sub.result());
      strictEqual(stdout.length, payload.length);
      deepStrictEqual(stdout, payload);
    }
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("Server relays every line of mosquitto_pub -l in order", async () => {
  await using broker = await startBroker();
  const lines = Array.from(
    { length: 500 },
    (_, i) => `line ${String(i).padStart(4, "0")} ${"~".repeat(i % 40)}`,
  );
  await using sub = await subscriber(broker, "lines", [
    ...broker.args(),
    "-q",
    "1",
    "-t",
    "gmqtt/lines",
    "-C",
    String(lines.length),
    "-v",
  ]);
  succeeded(
    await runMosquitto("mosquitto_pub", [
      ...broker.args(),
      "-q",
      "1",
      "-t",
      "gmqtt/lines",
      "-l",
    ], { stdin: lines.join("\n") + "\n" }),
  );
  const { text } = succeeded(await sub.result());
  strictEqual(text, lines.map((l) => `gmqtt/lines ${l}\n`).join(""));
});

Deno.test("Server gives a retained message from mosquitto_pub -r to a later mosquitto_sub", async () => {
  await using broker = await startBroker();
  succeeded(
    await runMosquitto("mosquitto_pub", [
      ...broker.args(),
      "-q",
      "1",
      "-r",
      "-t",
      "gmqtt/retained",
      "-m",
      "kept",
    ]),
  );
  // [MQTT-3.3.1-6] A new subscription gets the retained message, with the
  // RETAIN flag set [MQTT-3.3.1-8].
  for (const transport of ["tcp", "tls"] as const) {
    const later = succeeded(
      await runMosquitto("mosquitto_sub", [
        ...broker.args(transport),
        "-q",
        "1",
        "-t",
        "gmqtt/#",
        "-C",
        "1",
        "-F",
        "%r %q %t %p",
      ]),
    );
    strictEqual(later.text, "1 1 gmqtt/retained kept\n");
  }
  // [MQTT-3.3.1-10] An empty retained message deletes it.
  succeeded(
    await runMosquitto("mosquitto_pub", [
      ...broker.args(),
      "-r",
      "-n",
      "-t",
      "gmqtt/retained",
    ]),
  );
  deepStrictEqual(broker.server.retained("gmqtt/#"), []);
});

Deno.test("Server serves mosquitto clients speaking MQTT 5.0 (-V mqttv5)", async () => {
  await using broker = await startBroker();
  await using sub = await subscriber(broker, "sub-v5", [
    ...broker.args("tls"),
    "-V",
    "mqttv5",
    "-q",
    "2",
    "-t",
    "gmqtt/v5",
    "-C",
    "1",
    "-F",
    "%q %t %p|%C|%R|%P",
  ]);
  strictEqual(broker.server.client("sub-v5")?.protocolVersion, 5);
  succeeded(
    await runMosquitto("mosquitto_pub", [
      ...broker.args("tls"),
      "-V",
      "mqttv5",
      "-q",
      "2",
      "-t",
      "gmqtt/v5",
      "-m",
      "21.5",
      "-D",
      "publish",
      "content-type",
      "text/plain",
      "-D",
      "publish",
      "response-topic",
      "gmqtt/reply",
      "-D",
      "publish",
      "user-property",
      "unit",
      "C",
    ]),
  );
  const { text } = succeeded(await sub.result());
  // Properties go through unchanged [MQTT-3.3.2-20] [MQTT-3.3.2-17].
  strictEqual(text, "2 gmqtt/v5 21.5|text/plain|gmqtt/reply|unit:C\n");
});

Deno.test("Server serves mosquitto clients speaking MQTT 3.1 (-V mqttv31)", async () => {
  await using broker = await startBroker();
  await using sub = await subscriber(broker, "sub-v31", [
    ...broker.args(),
    "-V",
    "mqttv31",
    "-q",
    "1",
    "-t",
    "gmqtt/v31",
    "-C",
    "2",
    "-v",
  ]);
  strictEqual(broker.server.client("sub-v31")?.protocolVersion, 3);
  for (const version of ["mqttv31", "mqttv5"]) {
    succeeded(
      await runMosquitto("mosquitto_pub", [
        ...broker.args(),
        "-V",
        version,
        "-q",
        "1",
        "-t",
        "gmqtt/v31",
        "-m",
        `from ${version}`,
      ]),
    );
  }
  const { text } = succeeded(await sub.result());
  strictEqual(text, "gmqtt/v31 from mqttv31\ngmqtt/v31 from mqttv5\n");
});

for (const version of ["mqttv311", "mqttv5"] as const) {
  Deno.test(`Server keeps QoS 1 messages for a mosquitto_sub -c session while it is away (${version})`, async () => {
    await using broker = await startBroker();
    // -x: a 5.0 session ends with its connection unless given an expiry.
    const session = version === "mqttv5" ? ["-x", "600"] : [];
    const base = [
      ...broker.args(),
      "-V",
      version,
      "-c",
      ...session,
      "-q",
      "1",
      "-t",
      "gmqtt/persist",
    ];
    // -E: subscribe, then leave.
    await using first = await subscriber(broker, "keeper", [...base, "-E"]);
    succeeded(await first.result());
    const deadline = Date.now() + 2000;
    while (broker.server.session("keeper")?.connected !== false) {
      if (Date.now() > deadline) throw new Error("keeper never went away");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    succeeded(
      await runMosquitto("mosquitto_pub", [
        ...broker.args(),
        "-q",
        "1",
        "-t",
        "gmqtt/persist",
        "-l",
      ], { stdin: "one\ntwo\nthree\n" }),
    );
    strictEqual(broker.server.session("keeper")?.queued, 3);
    // [MQTT-3.1.2-5] Back with the same client id: the stored messages.
    const back = succeeded(
      await runMosquitto("mosquitto_sub", [
        ...base,
        "-i",
        "keeper",
        "-C",
        "3",
        "-F",
        "%q %t %p",
      ]),
    );
    strictEqual(
      back.text,
      "1 gmqtt/persist one\n1 gmqtt/persist two\n1 gmqtt/persist three\n",
    );
  });
}
