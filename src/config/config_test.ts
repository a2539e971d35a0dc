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
import { hashPassword, verifyPassword } from "../hooks/auth.ts";
import type { ClientInfo, Hooks } from "../hooks/hooks.ts";
import { Server } from "../server/server.ts";

const EXAMPLE = new URL("../../config.example.yml", import.meta.url).pathname;
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
    maxPacketSize: 1048576,
    maxKeepAlive: 0,
    maxInflight: 32,
    maxQueuedMessages: 1000,
    queueQoS0Messages: true,
    queueFull: "backpressure",
    retainAvailable: true,
    allowEmptyClientId: true,
    sessionExpiry: 7200,
    topicAliasMaximum: 10,
    topicAliasMaximumOut: 10,
    maxQoS: 2,
    maxOutputBuffer: 1048576,
    connectTimeout: 10,
    sweepInterval: 1000,
    messageExpiry: 0,
    receiveMaximum: 65535,
    subscriptionIdentifiersAvailable: true,
    wildcardSubscriptionAvailable: true,
    sharedSubscriptionAvailable: true,
    sharedSubscriptionOffline: "online_first",
    maxConnections: 20000,
    maxSessions: 100000,
    maxSubscriptionsPerClient: 1000,
    maxFiltersPerSubscribe: 256,
    maxTopicLevels: 128,
    maxRetainedMessages: 100000,
    maxRetainedBytes: 67108864,
    maxQueuedBytes: 8388608,
    maxQueuedMemory: 268435456,
    sessionOwnerChange: "refuse",
  });
  deepStrictEqual(config.log, { level: "info", format: "text" });
  strictEqual(config.auth.allowAnonymous, true);
  strictEqual(config.auth.clientIdBinding, "none");
  strictEqual(
    await verifyPassword("alice-password", config.auth.users.get("alice")!),
    true,
  );
  strictEqual(config.acl.rules.length, 3);
  strictEqual(config.acl.default, "allow");
  strictEqual(config.acl.overlap, "filter");
  strictEqual(config.persistence.type, "memory");
  strictEqual(config.persistence.sync, "normal");
  strictEqual(
    config.persistence.path,
    EXAMPLE.replace(/config\.example\.yml$/, "gmqtt.db"),
  );
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

Deno.test("parseConfig() reads message expiry, receive maximum and the feature switches", () => {
  const config = parseConfig(`
mqtt:
  message_expiry: 2h
  server_receive_maximum: 100
  subscription_identifier_available: false
  wildcard_subscription_available: false
  shared_subscription_available: false
`);
  deepStrictEqual(config.mqtt, {
    messageExpiry: 7200,
    receiveMaximum: 100,
    subscriptionIdentifiersAvailable: false,
    wildcardSubscriptionAvailable: false,
    sharedSubscriptionAvailable: false,
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
      websocket: {},
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

Deno.test("parseConfig() reads acl.overlap, a rule's reason and mqtt.shared_subscription_offline", () => {
  const config = parseConfig(`
mqtt:
  shared_subscription_offline: round_robin
acl:
  overlap: refuse
  rules:
    - {permission: deny, action: all, topic: a/#, reason: unspecified_error}
    - {permission: deny, action: all, topic: b/#, reason: 0x8f}
`);
  strictEqual(config.mqtt.sharedSubscriptionOffline, "round_robin");
  deepStrictEqual(config.acl, {
    default: "allow",
    overlap: "refuse",
    rules: [
      {
        permission: "deny",
        action: "all",
        topic: "a/#",
        reason: "unspecified_error",
      },
      { permission: "deny", action: "all", topic: "b/#", reason: 0x8f },
    ],
  });
  throws(
    () =>
      parseConfig(
        "acl:\n  rules:\n    - {permission: deny, action: all, topic: a, reason: nope}\n",
      ),
    /acl\.rules\[0\]\.reason: expected one of unspecified_error \(0x80\)/,
  );
  throws(
    () => parseConfig("acl:\n  overlap: drop\n"),
    /acl\.overlap: expected one of filter, refuse/,
  );
});

Deno.test("parseConfig() reads the api section and sys_interval", () => {
  const config = parseConfig(
    `
api:
  address: ":9090"
  token: s3cret
  basic: {username: ops, password: "pa:ss"}
  tls:
    cert: certs/api.crt
    key: /abs/api.key
sys_interval: 0.5
`,
    "/etc/gmqtt/broker.yml",
  );
  deepStrictEqual(config.api, {
    hostname: "0.0.0.0",
    port: 9090,
    line: 3,
    token: "s3cret",
    basic: { username: "ops", password: "pa:ss" },
    tls: { certFile: "/etc/gmqtt/certs/api.crt", keyFile: "/abs/api.key" },
  });
  strictEqual(config.sysInterval, 0.5);
  deepStrictEqual(toServerOptions(config).sys, { interval: 0.5 });
});

Deno.test("parseConfig() serves the api on 127.0.0.1:8083 by default, and not at all when disabled", () => {
  strictEqual(parseConfig("").api, undefined);
  strictEqual(parseConfig("").sysInterval, undefined);
  strictEqual(toServerOptions(parseConfig("")).sys, undefined);
  deepStrictEqual(parseConfig("api:\n"), {
    ...defaultConfig(),
    file: "config.yml",
    api: { hostname: "127.0.0.1", port: 8083, line: 1 },
  });
  deepStrictEqual(parseConfig("api:\n  token_env: API_TOKEN\n").api, {
    hostname: "127.0.0.1",
    port: 8083,
    line: 1,
    tokenEnv: "API_TOKEN",
  });
  strictEqual(
    parseConfig('api:\n  enabled: false\n  address: ":1"\n').api,
    undefined,
  );
  strictEqual(parseConfig("api:\n  enabled: true\n").api?.port, 8083);
  strictEqual(parseConfig("sys_interval: 0\n").sysInterval, 0);
  strictEqual(parseConfig("sys_interval: 1m\n").sysInterval, 60);
  strictEqual(parseConfig("sys_interval: 250ms\n").sysInterval, 0.25);
});

Deno.test("parseConfig() reads the persistence section, its path relative to the file", () => {
  const memory = { type: "memory", path: "gmqtt.db", sync: "normal" };
  deepStrictEqual(defaultConfig().persistence, memory);
  deepStrictEqual(parseConfig("").persistence, memory);
  deepStrictEqual(parseConfig("persistence:\n").persistence, {
    ...memory,
    line: 1,
  });
  deepStrictEqual(
    parseConfig("persistence:\n  type: memory\n", "/etc/gmqtt/b.yml")
      .persistence,
    { ...memory, path: "/etc/gmqtt/gmqtt.db", line: 1 },
  );
  // With no path, gmqtt.db next to the file; in the working folder without one.
  deepStrictEqual(
    parseConfig("persistence:\n  type: sqlite\n", "/etc/gmqtt/b.yml")
      .persistence,
    { type: "sqlite", path: "/etc/gmqtt/gmqtt.db", sync: "normal", line: 1 },
  );
  deepStrictEqual(
    parseConfig("# none\n", "/etc/gmqtt/b.yml").persistence.path,
    "/etc/gmqtt/gmqtt.db",
  );
  deepStrictEqual(
    parseConfig(
      "log:\n  level: warn\npersistence:\n  type: sqlite\n  sync: full\n  path: data/state.db\n",
      "/etc/gmqtt/b.yml",
    ).persistence,
    {
      type: "sqlite",
      path: "/etc/gmqtt/data/state.db",
      sync: "full",
      line: 6,
    },
  );
  strictEqual(
    parseConfig("persistence: {type: sqlite, path: /var/lib/g.db}\n", "b.yml")
      .persistence.path,
    "/var/lib/g.db",
  );
  // The store is opened by whoever runs the server, not by the options.
  strictEqual(
    "store" in toServerOptions(parseConfig("persistence:\n  type: sqlite\n")),
    false,
  );
});

const ERRORS: [name: string, yaml: string, message: string][] = [
  [
    "an unknown top-level key",
    "mqtt: {}\nbridge:\n  type: mqtt\n",
    "Cannot load config: b.yml:2: bridge: unknown key; expected one of listeners, mqtt, log, auth, acl, api, persistence, sys_interval",
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
    "an ACL rule naming a user when there are no users",
    "acl:\n  rules:\n    - {permission: allow, action: all, topic: '#', username: admin}\n",
    'Cannot load config: b.yml:3: acl.rules[0].username: a rule for user "admin" needs users to log in as (auth.password_file or auth.users): without them any client may claim any user name',
  ],
  [
    "an ACL rule naming a user with allow_anonymous and no users",
    "auth:\n  allow_anonymous: true\nacl:\n  rules:\n    - {permission: allow, action: all, topic: '#', username: admin}\n",
    'Cannot load config: b.yml:5: acl.rules[0].username: a rule for user "admin" needs users to log in as (auth.password_file or auth.users): without them any client may claim any user name',
  ],
  [
    "a client id binding without users",
    "auth:\n  client_id_binding: exact\n",
    "Cannot load config: b.yml:2: auth.client_id_binding: binding client ids to user names needs users (auth.password_file or auth.users)",
  ],
  [
    "a bad client id binding",
    `auth:\n  users: [{username: a, password: "${HASH}"}]\n  client_id_binding: loose\n`,
    'Cannot load config: b.yml:3: auth.client_id_binding: expected one of none, exact, prefix, got "loose"',
  ],
  [
    "a bad session_owner_change",
    "mqtt:\n  session_owner_change: keep\n",
    'Cannot load config: b.yml:2: mqtt.session_owner_change: expected one of refuse, clean, got "keep"',
  ],
  [
    "an API on every interface without credentials",
    'api:\n  address: ":8083"\n',
    'Cannot load config: b.yml:2: api.address: the API would listen on "0.0.0.0" without credentials: set token, token_env or basic, bind 127.0.0.1, or set allow_unauthenticated: true',
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
    "an unknown api key",
    "api:\n  port: 8083\n",
    "Cannot load config: b.yml:2: api.port: unknown key; expected one of enabled, address, token, token_env, basic, tls, allow_unauthenticated, header_timeout, idle_timeout, max_connections, dashboard, max_watch_streams, watch_rate",
  ],
  [
    "an api section of the wrong shape",
    "api: true\n",
    "Cannot load config: b.yml:1: api: expected a mapping, got true",
  ],
  [
    "a bad api address",
    "api:\n  address: 8083\n",
    'Cannot load config: b.yml:2: api.address: expected "host:port" or ":port" with a port from 0 to 65535, got 8083',
  ],
  [
    "a non-boolean api.enabled",
    "api:\n  enabled: no\n",
    'Cannot load config: b.yml:2: api.enabled: expected true or false, got "no"',
  ],
  [
    "an api token that is not a string",
    "api:\n  token: 1234\n",
    "Cannot load config: b.yml:2: api.token: expected a string, got 1234",
  ],
  [
    "an empty api token",
    'api:\n  token: ""\n',
    "Cannot load config: b.yml:2: api.token: expected a non-empty string",
  ],
  [
    "both api.token and api.token_env",
    "api:\n  token: a\n  token_env: B\n",
    'Cannot load config: b.yml:3: api.token_env: expected either "token" or "token_env"',
  ],
  [
    "a bad api.token_env",
    "api:\n  token_env: $TOKEN\n",
    'Cannot load config: b.yml:2: api.token_env: expected the name of an environment variable, got "$TOKEN"',
  ],
  [
    "api basic credentials without a password",
    "api:\n  basic:\n    username: ops\n",
    'Cannot load config: b.yml:2: api.basic: expected "password"',
  ],
  [
    "an api basic user name with a colon",
    "api:\n  basic: {username: 'a:b', password: c}\n",
    'Cannot load config: b.yml:2: api.basic.username: expected a name without ":", got "a:b"',
  ],
  [
    "api TLS without a key",
    "api:\n  tls:\n    cert: a.crt\n",
    'Cannot load config: b.yml:2: api.tls: expected "key", the path of a PEM file',
  ],
  [
    "an unknown api TLS key",
    "api:\n  tls:\n    cert: a\n    key: b\n    ca: c\n",
    "Cannot load config: b.yml:5: api.tls.ca: unknown key; expected one of cert, key",
  ],
  [
    "a negative sys_interval",
    "sys_interval: -1\n",
    'Cannot load config: b.yml:1: sys_interval: expected a duration from 0 to 86400 seconds (seconds as a number, fractions allowed, or a string such as "10s", "500ms"), got -1',
  ],
  [
    "a sys_interval over a day",
    "sys_interval: 2d\n",
    'Cannot load config: b.yml:1: sys_interval: expected a duration from 0 to 86400 seconds (seconds as a number, fractions allowed, or a string such as "10s", "500ms"), got "2d"',
  ],
  [
    "a sys_interval that is not a duration",
    "sys_interval: often\n",
    'Cannot load config: b.yml:1: sys_interval: expected a duration from 0 to 86400 seconds (seconds as a number, fractions allowed, or a string such as "10s", "500ms"), got "often"',
  ],
  [
    "an unknown persistence type",
    "persistence:\n  type: redis\n",
    'Cannot load config: b.yml:2: persistence.type: expected one of memory, sqlite, got "redis"',
  ],
  [
    "an empty persistence path",
    'persistence:\n  type: sqlite\n  path: ""\n',
    "Cannot load config: b.yml:3: persistence.path: expected a file path, got an empty string",
  ],
  [
    "a persistence path that is not a string",
    "persistence:\n  type: sqlite\n  path: [a.db]\n",
    "Cannot load config: b.yml:3: persistence.path: expected a string, got a list",
  ],
  [
    "an unknown persistence sync",
    "persistence:\n  type: sqlite\n  sync: off\n",
    'Cannot load config: b.yml:3: persistence.sync: expected one of normal, full, got "off"',
  ],
  [
    "a persistence path with type memory",
    "persistence:\n  path: a.db\n",
    'Cannot load config: b.yml:2: persistence.path: used only with "type: sqlite"; set that, or remove this key',
  ],
  [
    "an unknown persistence key",
    "persistence:\n  type: sqlite\n  redis: {addr: x}\n",
    "Cannot load config: b.yml:3: persistence.redis: unknown key; expected one of type, path, sync",
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

Deno.test("loadConfig() reads api.token_env and checks the api TLS files", async () => {
  await withDir(async (dir) => {
    const name = `GMQTT_CONFIG_TEST_${crypto.randomUUID().slice(0, 8)}`;
    await Deno.writeTextFile(`${dir}/b.yml`, `api:\n  token_env: ${name}\n`);
    await rejects(loadConfig(`${dir}/b.yml`), {
      name: "ConfigError",
      message:
        `Cannot load config: ${dir}/b.yml:2: api.token_env: the environment variable "${name}" is not set or empty`,
    });
    Deno.env.set(name, "from-env");
    try {
      strictEqual((await loadConfig(`${dir}/b.yml`)).api?.token, "from-env");
    } finally {
      Deno.env.delete(name);
    }
    await Deno.writeTextFile(`${dir}/api.crt`, PEM);
    await Deno.writeTextFile(
      `${dir}/b.yml`,
      "api:\n  tls:\n    cert: api.crt\n    key: api.key\n",
    );
    await rejects(loadConfig(`${dir}/b.yml`), {
      message: new RegExp(
        `^Cannot load config: ${dir}/b.yml:4: api\\.tls\\.key: cannot read "${dir}/api.key": No such file`,
      ),
    });
    await Deno.writeTextFile(`${dir}/api.key`, PEM);
    deepStrictEqual((await loadConfig(`${dir}/b.yml`)).api?.tls, {
      certFile: `${dir}/api.crt`,
      keyFile: `${dir}/api.key`,
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

Deno.test("parseConfig() takes ACL rules naming users when users are configured, anonymous clients allowed or not", () => {
  for (const anonymous of [true, false]) {
    const config = parseConfig(`
auth:
  users: [{username: admin, password: "${HASH}"}]
  allow_anonymous: ${anonymous}
  client_id_binding: prefix
acl:
  rules:
    - {permission: allow, action: all, topic: "#", username: admin}
`);
    strictEqual(config.acl.rules[0]?.username, "admin");
    strictEqual(config.auth.clientIdBinding, "prefix");
  }
  // A password file counts as users, even before it is read.
  const withFile = parseConfig(`
auth:
  password_file: passwords.txt
acl:
  rules:
    - {permission: allow, action: all, topic: "#", username: admin}
`);
  strictEqual(withFile.acl.rules.length, 1);
});

Deno.test("parseConfig() lets the API listen beyond loopback with credentials or allow_unauthenticated", () => {
  for (
    const extra of [
      "  token: t\n",
      "  token_env: GMQTT_TOKEN\n",
      "  basic: {username: u, password: p}\n",
      "  allow_unauthenticated: true\n",
    ]
  ) {
    const config = parseConfig(`api:\n  address: ":8083"\n${extra}`);
    strictEqual(config.api?.hostname, "0.0.0.0");
  }
  for (const address of ["127.0.0.1:0", "[::1]:0", "localhost:0"]) {
    strictEqual(parseConfig(`api:\n  address: "${address}"\n`).api?.port, 0);
  }
  strictEqual(
    parseConfig('api:\n  address: ":8083"\n  allow_unauthenticated: true\n')
      .api?.allowUnauthenticated,
    true,
  );
});

Deno.test("parseConfig() reads mqtt.session_owner_change", () => {
  deepStrictEqual(
    parseConfig("mqtt:\n  session_owner_change: clean\n").mqtt,
    { sessionOwnerChange: "clean" },
  );
});

Deno.test("toServerOptions() passes auth.client_id_binding to passwordAuth", async () => {
  const config = parseConfig(`
auth:
  users: [{username: alice, password: "${HASH}"}]
  allow_anonymous: true
  client_id_binding: exact
`);
  const hooks = toServerOptions(config).hooks;
  const auth = Array.isArray(hooks) ? hooks[0] : hooks;
  const verdict = await auth?.checkConnect?.(
    {
      remoteAddress: "",
      localAddress: "",
      transport: "tcp",
      listener: "",
      clientId: "alice",
      username: undefined,
      protocolVersion: 4,
      clean: true,
      keepAlive: 0,
    },
    {
      type: "connect",
      protocolName: "MQTT",
      protocolVersion: 4,
      clean: true,
      keepAlive: 0,
      clientId: "alice",
    },
  );
  // Anonymous clients may not use alice's client id (0x85).
  strictEqual(verdict, 0x85);
});

Deno.test("parseConfig() reads the API's connection limits", () => {
  const config = parseConfig(
    'api:\n  header_timeout: "2s"\n  idle_timeout: 0.5\n  max_connections: 64\n',
    "b.yml",
  );
  strictEqual(config.api?.headerTimeout, 2000);
  strictEqual(config.api?.idleTimeout, 500);
  strictEqual(config.api?.maxConnections, 64);
});

Deno.test("parseConfig() reads whether the API serves the dashboard, and the limits of its watch", () => {
  const config = parseConfig(
    "api:\n  dashboard: false\n  max_watch_streams: 2\n  watch_rate: 10\n",
    "b.yml",
  );
  strictEqual(config.api?.dashboard, false);
  strictEqual(config.api?.maxWatchStreams, 2);
  strictEqual(config.api?.watchRate, 10);
  strictEqual(parseConfig("api:\n").api?.dashboard, undefined);
  throws(
    () => parseConfig("api:\n  dashboard: off\n", "b.yml"),
    (e: Error) =>
      e.message.includes(
        'b.yml:2: api.dashboard: expected true or false, got "off"',
      ),
  );
  throws(
    () => parseConfig("api:\n  watch_rate: 0.5\n", "b.yml"),
    (e: Error) =>
      e.message.includes(
        "b.yml:2: api.watch_rate: expected an integer from 1 to 65535, got 0.5",
      ),
  );
});

Deno.test("parseConfig() refuses API limits out of range, naming the key", () => {
  throws(
    () => parseConfig("api:\n  header_timeout: 0\n", "b.yml"),
    (e: Error) =>
      e.message.includes("b.yml:2: api.header_timeout: expected a duration"),
  );
  throws(
    () => parseConfig("api:\n  max_connections: 0\n", "b.yml"),
    (e: Error) =>
      e.message.includes(
        "b.yml:2: api.max_connections: expected an integer from 1 to 65535, got 0",
      ),
  );
});
