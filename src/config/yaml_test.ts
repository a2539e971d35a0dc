import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { parse, YamlError } from "./yaml.ts";

const PEM_BODY = [
  "-----BEGIN CERTIFICATE-----",
  "MIIBszCCAVmgAwIBAgIUQ3xZ",
  "bWFkZSB1cCBmb3IgdGVzdHM=",
  "-----END CERTIFICATE-----",
].join("\n");

const BROKER_CONFIG = `# gmqtt broker configuration
---
listeners:
  - name: plain
    transport: tcp
    host: 0.0.0.0
    port: 1883
  - name: secure
    transport: tls
    port: 8883
    tls:
      cert: |
        -----BEGIN CERTIFICATE-----
        MIIBszCCAVmgAwIBAgIUQ3xZ
        bWFkZSB1cCBmb3IgdGVzdHM=
        -----END CERTIFICATE-----
      key: "/etc/gmqtt/key.pem"   # kept outside the file
  - {name: ws, transport: ws, port: 8080, path: /mqtt}
limits:
  maxQos: 2
  maxPacketSize: 0x100000
  maxQueuedMessages: 1000
  retainAvailable: true
  keepAlive: ~
users:
- alice
- 'bob''s'
log: {level: info, format: json}
topics: [sensors/#, "alerts/+"]
...
`;

const VALID: readonly { name: string; text: string; value: unknown }[] = [
  {
    name: "a realistic broker configuration",
    text: BROKER_CONFIG,
    value: {
      listeners: [
        {
          name: "plain",
          transport: "tcp",
          host: "0.0.0.0",
          port: 1883,
        },
        {
          name: "secure",
          transport: "tls",
          port: 8883,
          tls: { cert: PEM_BODY + "\n", key: "/etc/gmqtt/key.pem" },
        },
        { name: "ws", transport: "ws", port: 8080, path: "/mqtt" },
      ],
      limits: {
        maxQos: 2,
        maxPacketSize: 1048576,
        maxQueuedMessages: 1000,
        retainAvailable: true,
        keepAlive: null,
      },
      users: ["alice", "bob's"],
      log: { level: "info", format: "json" },
      topics: ["sensors/#", "alerts/+"],
    },
  },
  { name: "an empty document", text: "", value: null },
  {
    name: "comments and blank lines only",
    text: "# a\n\n  # b\n",
    value: null,
  },
  { name: "a bare document start", text: "---\n", value: null },
  {
    name: "a top-level plain scalar",
    text: "hello world",
    value: "hello world",
  },
  {
    name: "nested mappings",
    text: "a:\n  b:\n    c: 1\n  d: 2\ne: 3\n",
    value: { a: { b: { c: 1 }, d: 2 }, e: 3 },
  },
  {
    name: "a sequence indented under its key",
    text: "a:\n  - 1\n  - 2\nb: x\n",
    value: { a: [1, 2], b: "x" },
  },
  {
    name: "a sequence at its key's indentation",
    text: "a:\n- 1\n- 2\nb: x\n",
    value: { a: [1, 2], b: "x" },
  },
  {
    name: "sequence items holding mappings",
    text: "- name: a\n  port: 1\n-   name: b\n    port: 2\n",
    value: [{ name: "a", port: 1 }, { name: "b", port: 2 }],
  },
  {
    name: "a nested compact sequence",
    text: "- - a\n  - b\n- c\n",
    value: [["a", "b"], "c"],
  },
  {
    name: "sequence items on the following lines",
    text: "-\n  a: 1\n-\n- x\n",
    value: [{ a: 1 }, null, "x"],
  },
  {
    name: "a mapping value on the next line",
    text: "a:\n  text here\nb:\n",
    value: { a: "text here", b: null },
  },
  {
    name: "comments after values and keys",
    text: "a: 1 # one\nb: # empty\n# between\nc: x#y\nd: http://h:80/p#frag\n",
    value: { a: 1, b: null, c: "x#y", d: "http://h:80/p#frag" },
  },
  {
    name: "colons inside plain scalars and keys",
    text: "addr: 127.0.0.1:1883\nurn:x: 12:30\n",
    value: { addr: "127.0.0.1:1883", "urn:x": "12:30" },
  },
  {
    name: "quoted keys and CRLF line ends",
    text: "\"a b\": 1\r\n'c: d': 2\r\n",
    value: { "a b": 1, "c: d": 2 },
  },
  {
    name: "core schema nulls and booleans",
    text: "[null, Null, NULL, ~, true, True, TRUE, false, False, FALSE, tRUE]",
    value: [
      null,
      null,
      null,
      null,
      true,
      true,
      true,
      false,
      false,
      false,
      "tRUE",
    ],
  },
  {
    name: "core schema numbers",
    text: "[0, -12, +7, 0123, 0x1F, 0o17, 1.5, -.5, 1., 1e3, 2.5E-1, -0]",
    value: [0, -12, 7, 123, 31, 15, 1.5, -0.5, 1, 1000, 0.25, -0],
  },
  {
    name: "special floats",
    text: "[.inf, +.Inf, -.INF, .nan, .NaN]",
    value: [Infinity, Infinity, -Infinity, NaN, NaN],
  },
  {
    name: "plain scalars that stay strings",
    text: "[0x, 0o8, 1_000, yes, no, on, 1.2.3, .5e, -, 0b101]",
    value: [
      "0x",
      "0o8",
      "1_000",
      "yes",
      "no",
      "on",
      "1.2.3",
      ".5e",
      "-",
      "0b101",
    ],
  },
  {
    name: "keys that look like other types",
    text: "1: a\nnull: b\ntrue: c\n",
    value: { "1": "a", "null": "b", "true": "c" },
  },
  {
    name: "quoted scalars that look like other types",
    text: "a: '1'\nb: \"true\"\nc: ''\nd: \"null\"\n",
    value: { a: "1", b: "true", c: "", d: "null" },
  },
  {
    name: "single-quoted escapes",
    text: "a: 'it''s # not a comment'\n",
    value: { a: "it's # not a comment" },
  },
  {
    name: "double-quoted escapes",
    text: String.raw`a: "\n\t\\\"\/\0\x41\u00e9\U0001F600\uD83D\uDE00 end"`,
    value: { a: '\n\t\\"/\0Aé😀😀 end' },
  },
  {
    name: "flow collections",
    text: 'a: [a, 1, "x", \'y\', ]\nb: {a: 1, b: x, "c d": [1, {e: f}], g}\n' +
      'c: []\nd: {}\ne: {"k":1}\n',
    value: {
      a: ["a", 1, "x", "y"],
      b: { a: 1, b: "x", "c d": [1, { e: "f" }], g: null },
      c: [],
      d: {},
      e: { k: 1 },
    },
  },
  {
    name: "literal block scalars with each chomping",
    text: "clip: |\n  a\n  b\n\nstrip: |-\n  a\n\n" +
      "keep: |+\n  a\n\n\nlast: x\n",
    value: { clip: "a\nb\n", strip: "a", keep: "a\n\n\n", last: "x" },
  },
  {
    name: "a literal block scalar keeping inner indentation and blank lines",
    text: "a: |\n  line 1\n\n    indented # not a comment\n  end\nb: 1\n",
    value: { a: "line 1\n\n  indented # not a comment\nend\n", b: 1 },
  },
  {
    name: "folded block scalars",
    text: "a: >\n  one\n  two\n\n  three\n    kept\n  four\nb: >-\n  x\n  y\n",
    value: { a: "one two\nthree\n  kept\nfour\n", b: "x y" },
  },
  {
    name: "a block scalar with an indentation indicator",
    text: "a: |2\n    spaced\n  plain\n",
    value: { a: "  spaced\nplain\n" },
  },
  {
    name: "a block scalar at the end of input without a line break",
    text: "a: |\n  abc",
    value: { a: "abc" },
  },
  {
    name: "an empty block scalar",
    text: "a: |\nb: >+\n\n",
    value: { a: "", b: "\n" },
  },
  {
    name: "a block scalar in a sequence",
    text: "- |\n  a\n- >-\n  b\n  c\n",
    value: ["a\n", "b c"],
  },
  {
    name: "a document end marker followed by comments",
    text: "a: 1\n...\n# trailer\n",
    value: { a: 1 },
  },
  {
    name: "a byte order mark",
    text: "\uFEFFa: 1\n",
    value: { a: 1 },
  },
  {
    name: "keys named like Object.prototype members",
    text: "constructor: 1\ntoString: 2\nhasOwnProperty: 3\n",
    value: { constructor: 1, toString: 2, hasOwnProperty: 3 },
  },
];

for (const { name, text, value } of VALID) {
  Deno.test(`parse() reads ${name}`, () => {
    deepStrictEqual(parse(text), value);
  });
}

const INVALID: readonly {
  name: string;
  text: string;
  line: number;
  column: number;
  detail: string;
}[] = [
  {
    name: "a tab in the indentation",
    text: "a:\n  b: 1\n  \tc: 2\n",
    line: 3,
    column: 3,
    detail: "tabs are not allowed for indentation",
  },
  {
    name: "a duplicate key",
    text: "a: 1\nb:\n  c: 1\n  c: 2\n",
    line: 4,
    column: 3,
    detail: 'duplicate key "c"',
  },
  {
    name: "a duplicate key in a flow mapping",
    text: "a: {x: 1, x: 2}\n",
    line: 1,
    column: 11,
    detail: 'duplicate key "x"',
  },
  {
    name: "a __proto__ key",
    text: "a:\n  __proto__: {polluted: true}\n",
    line: 2,
    column: 3,
    detail: 'the key "__proto__" is not allowed',
  },
  {
    name: "a quoted __proto__ key in a flow mapping",
    text: "{'__proto__': 1}",
    line: 1,
    column: 2,
    detail: 'the key "__proto__" is not allowed',
  },
  {
    name: "an anchor",
    text: "a: &base 1\n",
    line: 1,
    column: 4,
    detail: "anchors are not supported",
  },
  {
    name: "an alias",
    text: "a: 1\nb: *a\n",
    line: 2,
    column: 4,
    detail: "aliases are not supported",
  },
  {
    name: "an alias in a flow sequence",
    text: "a: [1, *b]\n",
    line: 1,
    column: 8,
    detail: "aliases are not supported",
  },
  {
    name: "a tag",
    text: "- !!binary abc\n",
    line: 1,
    column: 3,
    detail: "tags are not supported",
  },
  {
    name: "a tag on a key",
    text: "!k a: 1\n",
    line: 1,
    column: 1,
    detail: "tags are not supported",
  },
  {
    name: "a complex key",
    text: "? a\n: b\n",
    line: 1,
    column: 1,
    detail: "complex keys ('?') are not supported",
  },
  {
    name: "a directive",
    text: "%YAML 1.2\n---\na: 1\n",
    line: 1,
    column: 1,
    detail: "directives are not supported",
  },
  {
    name: "a second document",
    text: "a: 1\n---\nb: 2\n",
    line: 2,
    column: 1,
    detail: "multiple documents are not supported",
  },
  {
    name: "a document after the end marker",
    text: "a: 1\n...\nb: 2\n",
    line: 3,
    column: 1,
    detail: "multiple documents are not supported",
  },
  {
    name: "content on the document start line",
    text: "--- a\n",
    line: 1,
    column: 5,
    detail: "content on the '---' line is not supported",
  },
  {
    name: "a mapping inside a plain value",
    text: "a: b: c\n",
    line: 1,
    column: 5,
    detail: "a mapping entry is not allowed here",
  },
  {
    name: "a sequence entry as a same-line value",
    text: "a: - b\n",
    line: 1,
    column: 4,
    detail: "a sequence entry is not allowed here",
  },
  {
    name: "a multi-line plain scalar",
    text: "a: one\n  two\n",
    line: 2,
    column: 3,
    detail: "multi-line plain scalars are not supported",
  },
  {
    name: "an over-indented mapping entry",
    text: "a: 1\n  b: 2\n",
    line: 2,
    column: 3,
    detail: "bad indentation: the line is indented under a complete value",
  },
  {
    name: "an under-indented mapping entry",
    text: "a:\n    b: 1\n  c: 2\n",
    line: 3,
    column: 3,
    detail: "bad indentation of a mapping entry",
  },
  {
    name: "a sequence entry inside a mapping",
    text: "a: 1\n- b\n",
    line: 2,
    column: 1,
    detail: "expected a mapping key, found a sequence entry",
  },
  {
    name: "a line that is not a mapping entry",
    text: "a: 1\nb\n",
    line: 2,
    column: 1,
    detail: "expected a mapping entry 'key: value'",
  },
  {
    name: "a mapping key after a top-level sequence",
    text: "- a\nb: 1\n",
    line: 2,
    column: 1,
    detail: "unexpected content after the top-level node",
  },
  {
    name: "a missing mapping key",
    text: ": 1\n",
    line: 1,
    column: 1,
    detail: "a mapping key is missing",
  },
  {
    name: "an unterminated double-quoted scalar",
    text: 'a: "abc\n  def"\n',
    line: 1,
    column: 4,
    detail:
      "unterminated quoted scalar (multi-line quoted scalars are not supported)",
  },
  {
    name: "content after a quoted scalar",
    text: "a: 'x' y\n",
    line: 1,
    column: 8,
    detail: "unexpected content after a quoted scalar",
  },
  {
    name: "an unknown escape",
    text: 'a: "\\q"\n',
    line: 1,
    column: 5,
    detail: "invalid escape '\\q' in a double-quoted scalar",
  },
  {
    name: "a short hexadecimal escape",
    text: 'a: "\\u12"\n',
    line: 1,
    column: 5,
    detail: "invalid escape '\\u' in a double-quoted scalar",
  },
  {
    name: "a flow collection spanning lines",
    text: "a: [1,\n  2]\n",
    line: 1,
    column: 4,
    detail: "unterminated flow collection",
  },
  {
    name: "an empty flow entry",
    text: "a: [1, , 2]\n",
    line: 1,
    column: 8,
    detail: "unexpected ','",
  },
  {
    name: "a mapping entry in a flow sequence",
    text: "a: [b: 1]\n",
    line: 1,
    column: 6,
    detail: "mapping entries inside a flow sequence are not supported",
  },
  {
    name: "a missing comma in a flow mapping",
    text: "a: {b: 1 c: 2}\n",
    line: 1,
    column: 11,
    detail: "expected ',' or '}'",
  },
  {
    name: "content after a flow collection",
    text: "a: [1] 2\n",
    line: 1,
    column: 8,
    detail: "unexpected content after a flow collection",
  },
  {
    name: "a block scalar in a flow collection",
    text: "a: [|]\n",
    line: 1,
    column: 5,
    detail: "block scalars are not allowed inside flow collections",
  },
  {
    name: "a bad block scalar header",
    text: "a: |x\n  b\n",
    line: 1,
    column: 5,
    detail: "invalid block scalar header",
  },
  {
    name: "a line under a block scalar's indentation",
    text: "a: |\n    x\n  y\n",
    line: 3,
    column: 3,
    detail: "bad indentation: the line is indented under a complete value",
  },
  {
    name: "a reserved indicator",
    text: "a: @home\n",
    line: 1,
    column: 4,
    detail: "'@' cannot start a plain scalar; quote the value",
  },
];

for (const { name, text, line, column, detail } of INVALID) {
  Deno.test(`parse() refuses ${name}`, () => {
    throws(() => parse(text), (error: unknown) => {
      ok(error instanceof YamlError, String(error));
      ok(
        error.message.startsWith(
          `Cannot parse YAML at line ${line}, column ${column}: ${detail}`,
        ),
        error.message,
      );
      strictEqual(error.line, line);
      strictEqual(error.column, column);
      return true;
    });
  });
}

Deno.test("parse() returns plain objects whose prototype is untouched", () => {
  const value = parse("a:\n  b: 1\n") as Record<string, unknown>;
  strictEqual(Object.getPrototypeOf(value), Object.prototype);
  strictEqual(Object.getPrototypeOf(value.a), Object.prototype);
  strictEqual(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("YamlError is a SyntaxError named YamlError", () => {
  const error = new YamlError("tabs are not allowed for indentation", 4, 3);
  ok(error instanceof SyntaxError);
  strictEqual(error.name, "YamlError");
  strictEqual(
    error.message,
    "Cannot parse YAML at line 4, column 3: tabs are not allowed for indentation",
  );
});
