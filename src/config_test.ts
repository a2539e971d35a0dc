import {
  deepStrictEqual,
  ok,
  rejects,
  strictEqual,
  throws,
} from "node:assert/strict";
import {
  ConfigError,
  defaultConfig,
  loadConfig,
  parseConfig,
  toListenOptions,
  toServerOptions,
} from "./config.ts";
import { hashPassword, verifyPassword } from "./auth.ts";
import type { ClientInfo, Hooks } from "./hooks.ts";
import { Server } from "./server.ts";

const EXAMPLE = new URL("../config.example.yml", import.meta.url).pathname;
const HASH = await hashPassword("pw", { iterations: 1000 });
const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("loadConfig() loads config.example.yml", async () => {
  const config = await loadConfig(EXAMPLE);
  deepStrictEqual(toListenOptions(config), [
    { hostname: "0.0.0.0", port: 1883 },
    { hostname: "127.0.0.1", port: 8080, websocket: { path: "/mqtt" } },
  ]);
  deepStrictEqual(config.mqtt, {
    maxPacketSize: 268435460,
    maxKeepAlive: 0,
    maxInflight: 32,
    maxQueuedMessages: 1000,
    queueQoS0Messages: true,
    retainAvailable: true,
    allowEmptyClientId: true,
    sessionExpiry: 7200,
    topicAliasMaximum: 10,
    maxQoS: 2,
    maxOutputBuffer: 1048576,
    connectTimeout: 10,
    sweepInterval: 1000,
  });
  deepStrictEqual(config.log, { level: "info", format: "text" });
  strictEqual(config.auth.allowAnonymous, true);
  strictEqual(
    await verifyPassword("alice-password", config.auth.users.get("alice")!),
    true,
  );
  strictEqual(config.acl.rules.length, 3);
  strictEqual(config.acl.default, "allow");
  const options = toServerOptions(config);
  strictEqual(Array.isArray(options.hooks) && options.hooks.length, 2);
  ok(new Server(options));
});

Deno.test("parseConfig() gives the defaults for an empty file", () => {
  deepStrictEqual(parseConfig("# nothing\n", "b.yml"), {
    ...defaultConfig(),
    file: "b.yml",
  });
});

Deno.test("parseConfig() reads listener addresses", () => {
  const config = parseConfig(`
listeners:
  - address: ":1883"
  - address: "127.0.0.1:0"
  - address: "[::1]:8883"
  - address: "localhost:65535"
`);
  deepStrictEqual(
    config.listeners.map(({ hostname, port }) => `${hostname} ${port}`),
    ["0.0.0.0 1883", "127.0.0.1 0", "::1 8883", "localhost 65535"],
  );
});

Deno.test("parseConfig() reads durations as numbers or unit strings", () => {
  const config = parseConfig(`
mqtt:
  session_expiry: 1d2h
  max_keepalive: 1m30s
  connect_timeout: 5
  sweep_interval: 250ms
`);
  deepStrictEqual(config.mqtt, {
    sessionExpiry: 93600,
    maxKeepAlive: 90,
    connectTimeout: 5,
    sweepInterval: 250,
  });
});

Deno.test("parseConfig() reads TLS and secure WebSocket listeners with paths relative to the file", () => {
  const config = parseConfig(
    `
listeners:
  - address: ":8883"
    name: secure
    tls: {cert: certs/server.crt, key: /abs/server.key, verify: false}
  - address: ":8443"
    tls:
      cert: a.crt
      key: a.key
    websocket:
`,
    "/etc/gmqtt/broker.yml",
  );
  deepStrictEqual(toListenOptions(config), [
    {
      name: "secure",
      hostname: "0.0.0.0",
      port: 8883,
      certFile: "/etc/gmqtt/certs/server.crt",
      keyFile: "/abs/server.key",
    },
    {
      hostname: "0.0.0.0",
      port: 8443,
      certFile: "/etc/gmqtt/a.crt",
      keyFile: "/etc/gmqtt/a.key",
      websocket: { path: "/mqtt" },
    },
  ]);
});

Deno.test("parseConfig() reads auth and acl sections", () => {
  const config = parseConfig(`
auth:
  allow_anonymous: false
  users:
    - {username: alice, password: "${HASH}"}
acl:
  default: deny
  rules:
    - permission: allow
      action: subscribe
      topic: clients/%c/#
      clientid: c1
      username: alice
`);
  strictEqual(config.auth.users.get("alice"), HASH);
  strictEqual(config.auth.allowAnonymous, false);
  deepStrictEqual(config.acl, {
    default: "deny",
    rules: [{
      permission: "allow",
      action: "subscribe",
      topic: "clients/%c/#",
      username: "alice",
      clientId: "c1",
    }],
  });
});

const ERRORS: [name: string, yaml: string, message: string][] = [
  [
    "an unknown top-level key",
    "mqtt: {}\npersistence:\n  type: redis\n",
    "Cannot load config: b.yml:2: persistence: unknown key; expected one of listeners, mqtt, log, auth, acl",
  ],
  [
    "an unknown nested key",
    "listeners:\n  - address: :1\n  - address: :2\n    tls:\n      cert: a\n      key: b\n      pass: c\n",
    "Cannot load config: b.yml:7: listeners[1].tls.pass: unknown key; expected one of cert, key, ca, verify",
  ],
  [
    "a Go gmqtt setting not supported yet",
    "mqtt:\n  delivery_mode: overlap\n",
    "Cannot load config: b.yml:2: mqtt.delivery_mode: this Go gmqtt setting is not supported yet; remove it",
  ],
  [
    "a wrong type",
    "mqtt:\n  retain_available: yes\n",
    'Cannot load config: b.yml:2: mqtt.retain_available: expected true or false, got "yes"',
  ],
  [
    "an out-of-range number",
    "mqtt:\n  maximum_qos: 3\n",
    "Cannot load config: b.yml:2: mqtt.maximum_qos: expected an integer from 0 to 2, got 3",
  ],
  [
    "a bad duration",
    "mqtt:\n  session_expiry: 2 hours\n",
    'Cannot load config: b.yml:2: mqtt.session_expiry: expected a duration in whole seconds from 0 to 4294967295 (seconds as a number, or a string such as "30s", "1m30s", "2h"), got "2 hours"',
  ],
  [
    "a bad address",
    "listeners:\n  - address: :99999\n",
    'Cannot load config: b.yml:2: listeners[0].address: expected "host:port" or ":port" with a port from 0 to 65535, got ":99999"',
  ],
  [
    "a missing address",
    "listeners:\n  - name: x\n",
    'Cannot load config: b.yml:2: listeners[0]: expected an "address" such as ":1883"',
  ],
  [
    "no listeners",
    "listeners: []\n",
    "Cannot load config: b.yml:1: listeners: expected at least one listener",
  ],
  [
    "client certificate verification",
    "listeners:\n  - address: :1\n    tls: {cert: a, key: b, verify: true}\n",
    "Cannot load config: b.yml:3: listeners[0].tls.verify: client certificate verification is not supported (Deno's TLS listener cannot ask for client certificates); remove it",
  ],
  [
    "a bad WebSocket path",
    "listeners:\n  - address: :1\n    websocket:\n      path: mqtt\n",
    'Cannot load config: b.yml:4: listeners[0].websocket.path: expected a path starting with "/", got "mqtt"',
  ],
  [
    "a plain-text password",
    "auth:\n  users:\n    - username: alice\n      password: hunter2\n",
    "Cannot load config: b.yml:4: auth.users[0].password: expected a $pbkdf2-sha256$ hash (make one with the passwd command); plain-text passwords are refused",
  ],
  [
    "a user listed twice",
    `auth:\n  users:\n    - {username: a, password: "${HASH}"}\n    - {username: a, password: "${HASH}"}\n`,
    'Cannot load config: b.yml:4: auth.users[1].username: user "a" is listed twice',
  ],
  [
    "a bad ACL action",
    "acl:\n  rules:\n    - permission: allow\n      action: read\n      topic: a\n",
    'Cannot load config: b.yml:4: acl.rules[0].action: expected one of publish, subscribe, all, got "read"',
  ],
  [
    "a bad ACL topic",
    "acl:\n  rules:\n    - {permission: deny, action: all, topic: a/#/b}\n",
    'Cannot load config: b.yml:3: acl.rules[0].topic: expected a valid topic filter, got "a/#/b"',
  ],
  [
    "a bad log level",
    "log:\n  level: verbose\n",
    'Cannot load config: b.yml:2: log.level: expected one of debug, info, warn, error, off, got "verbose"',
  ],
  [
    "a section of the wrong shape",
    "mqtt:\n  - max_inflight: 1\n",
    "Cannot load config: b.yml:1: mqtt: expected a mapping, got a list",
  ],
  [
    "YAML syntax",
    "mqtt:\n  max_inflight: &a 1\n",
    "Cannot load config: b.yml:2: invalid YAML at column 17: anchors are not supported",
  ],
];

for (const [name, yaml, message] of ERRORS) {
  Deno.test(`parseConfig() refuses ${name} with a one-line message`, () => {
    throws(() => parseConfig(yaml, "b.yml"), (error) => {
      ok(error instanceof ConfigError);
      strictEqual(error.message, message);
      strictEqual(error.message.includes("\n"), false);
      return true;
    });
  });
}

Deno.test("loadConfig() reads the password file relative to the config file", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/passwords`, `# users\nbob:${HASH}\n`);
    await Deno.writeTextFile(
      `${dir}/b.yml`,
      `auth:\n  password_file: passwords\n  users:\n    - {username: alice, password: "${HASH}"}\n`,
    );
    const config = await loadConfig(`${dir}/b.yml`);
    deepStrictEqual([...config.auth.users.keys()], ["alice", "bob"]);
  });
});

Deno.test("loadConfig() refuses a bad password file, naming its line", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/passwords`, `bob:${HASH}\ncarol:pw\n`);
    await Deno.writeTextFile(
      `${dir}/b.yml`,
      "auth:\n  password_file: passwords\n",
    );
    await rejects(loadConfig(`${dir}/b.yml`), {
      message:
        `Cannot load config: ${dir}/b.yml:2: auth.password_file: cannot read "${dir}/passwords": line 2: the password of "carol" is not a $pbkdf2-sha256$ hash (plain-text passwords are refused)`,
    });
    await Deno.writeTextFile(`${dir}/b.yml`, "auth:\n  password_file: nope\n");
    await rejects(loadConfig(`${dir}/b.yml`), {
      name: "ConfigError",
      message: new RegExp(
        `^Cannot load config: ${dir}/b.yml:2: auth.password_file: cannot read "${dir}/nope": No such file`,
      ),
    });
  });
});

Deno.test("loadConfig() refuses unreadable or non-PEM TLS files", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/server.crt`, PEM);
    await Deno.writeTextFile(`${dir}/server.key`, "not a key\n");
    const yaml = (cert: string, key: string) =>
      `listeners:\n  - address: ":1883"\n  - address: ":8883"\n    tls:\n      cert: ${cert}\n      key: ${key}\n`;
    await Deno.writeTextFile(`${dir}/b.yml`, yaml("missing.crt", "server.key"));
    await rejects(loadConfig(`${dir}/b.yml`), {
      message: new RegExp(
        `^Cannot load config: ${dir}/b.yml:5: listeners\\[1\\]\\.tls\\.cert: cannot read "${dir}/missing.crt": No such file`,
      ),
    });
    await Deno.writeTextFile(`${dir}/b.yml`, yaml("server.crt", "server.key"));
    await rejects(loadConfig(`${dir}/b.yml`), {
      message:
        `Cannot load config: ${dir}/b.yml:6: listeners[1].tls.key: expected a PEM file, but "${dir}/server.key" has no "-----BEGIN" line`,
    });
  });
});

Deno.test("loadConfig() refuses a file it cannot read", async () => {
  await rejects(loadConfig("/nonexistent/gmqtt.yml"), {
    name: "ConfigError",
    message:
      /^Cannot load config: \/nonexistent\/gmqtt.yml: cannot read: No such file/,
  });
});

Deno.test("toServerOptions() adds hooks only for users, a password file, closed access or ACL rules", async () => {
  strictEqual(toServerOptions(defaultConfig()).hooks, undefined);
  const closed = defaultConfig();
  closed.auth.allowAnonymous = false;
  strictEqual((toServerOptions(closed).hooks as unknown[]).length, 1);
  const file = defaultConfig();
  file.auth.passwordFile = "/dev/null";
  const [auth] = toServerOptions(file).hooks as Hooks[];
  // Even an empty password file closes the broker to anonymous clients.
  strictEqual(
    await auth?.checkConnect?.({} as ClientInfo, {
      type: "connect",
      protocolName: "MQTT",
      protocolVersion: 4,
      clean: true,
      keepAlive: 0,
      clientId: "a",
    }),
    0x87,
  );
  const acl = defaultConfig();
  acl.acl.default = "deny";
  strictEqual((toServerOptions(acl).hooks as unknown[]).length, 1);
});
