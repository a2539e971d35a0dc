/**
 * A strict reader for the subset of YAML 1.2 that a configuration file needs.
 *
 * It stands in for `@std/yaml` with the same `parse` shape. It reads one
 * document of block mappings and sequences nested by spaces, single-line flow
 * collections, plain, quoted and block (`|`, `>`) scalars, and resolves plain
 * scalars with the core schema. Anything outside that subset (anchors,
 * aliases, tags, complex keys, directives, several documents, multi-line plain
 * or quoted scalars) throws a {@linkcode YamlError} naming the line and
 * column, so a file is never silently misread.
 *
 * @module
 */

/** Resolution of plain scalars by the YAML 1.2 core schema. */
const NULL_RE = /^(?:~|null|Null|NULL)?$/;
const TRUE_RE = /^(?:true|True|TRUE)$/;
const FALSE_RE = /^(?:false|False|FALSE)$/;
const DECIMAL_RE = /^[-+]?[0-9]+$/;
const OCTAL_RE = /^0o[0-7]+$/;
const HEX_RE = /^0x[0-9a-fA-F]+$/;
const FLOAT_RE = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const INF_RE = /^[-+]?\.(?:inf|Inf|INF)$/;
const NAN_RE = /^\.(?:nan|NaN|NAN)$/;
const DOCUMENT_MARKER_RE = /^(?:---|\.\.\.)(?=[ \t]|$)/;
const FLOW_INDICATORS = ",[]{}";
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  "0": "\0",
  "a": "\x07",
  "b": "\b",
  "t": "\t",
  "\t": "\t",
  "n": "\n",
  "v": "\v",
  "f": "\f",
  "r": "\r",
  "e": "\x1b",
  " ": " ",
  '"': '"',
  "/": "/",
  "\\": "\\",
  "N": "\x85",
  "_": "\xa0",
  "L": "\u2028",
  "P": "\u2029",
};
const HEX_ESCAPE_LENGTHS: Readonly<Record<string, number>> = {
  "x": 2,
  "u": 4,
  "U": 8,
};

/**
 * The error {@linkcode parse} throws for text it cannot read: invalid YAML,
 * or YAML outside the supported subset.
 *
 * @example Find where a document goes wrong
 * ```ts
 * import { parse as parseYaml, YamlError } from "./yaml.ts";
 * import { ok, strictEqual, throws } from "node:assert/strict";
 *
 * throws(() => parseYaml("a: 1\nb: &anchor 2\n"), (error) => {
 *   ok(error instanceof YamlError);
 *   strictEqual(error.line, 2);
 *   strictEqual(error.column, 4);
 *   strictEqual(
 *     error.message,
 *     "Cannot parse YAML at line 2, column 4: anchors are not supported",
 *   );
 *   return true;
 * });
 * ```
 */
export class YamlError extends SyntaxError {
  /** Line of the problem, from 1. */
  readonly line: number;
  /** Column of the problem, from 1. */
  readonly column: number;

  /**
   * Creates the error; the message names the position, then the detail.
   *
   * @example Make an error
   * ```ts
   * import { YamlError } from "./yaml.ts";
   * import { strictEqual } from "node:assert/strict";
   *
   * const error = new YamlError("tabs are not allowed for indentation", 4, 3);
   * strictEqual(
   *   error.message,
   *   "Cannot parse YAML at line 4, column 3: tabs are not allowed for indentation",
   * );
   * ```
   * @param detail What is wrong, in lower case.
   * @param line Line of the problem, from 1.
   * @param column Column of the problem, from 1.
   */
  constructor(detail: string, line: number, column: number) {
    super(`Cannot parse YAML at line ${line}, column ${column}: ${detail}`);
    this.name = "YamlError";
    this.line = line;
    this.column = column;
  }
}

/**
 * Parses one YAML document into plain objects, arrays, strings, numbers,
 * booleans and `null`.
 *
 * Plain scalars resolve by the YAML 1.2 core schema: `null`, `~` and nothing
 * are `null`; `true` and `false` (also capitalized or upper case) are
 * booleans; decimal, `0x` and `0o` integers and floats (`1.5`, `1e3`, `.inf`,
 * `.nan`) are numbers; the rest are strings. Quoted scalars are always
 * strings, and so are keys. Duplicate keys and the key `__proto__` are
 * refused.
 *
 * @example Read a configuration
 * ```ts
 * import { parse as parseYaml } from "./yaml.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const config = parseYaml(`
 * listeners:
 *   - name: plain
 *     port: 1883
 *   - name: local
 *     host: 127.0.0.1
 *     port: 0x75b
 * limits: {maxQos: 2, retain: true}
 * `);
 * deepStrictEqual(config, {
 *   listeners: [
 *     { name: "plain", port: 1883 },
 *     { name: "local", host: "127.0.0.1", port: 1883 },
 *   ],
 *   limits: { maxQos: 2, retain: true },
 * });
 * ```
 * @param text The YAML document.
 * @returns The value it describes; `null` for an empty document.
 * @throws {YamlError} If the text is not YAML or uses a feature outside the
 * subset.
 */
export function parse(text: string): unknown {
  return new Reader(text).read();
}

/** A line that holds content, and where its content starts. */
interface ContentLine {
  readonly index: number;
  readonly indent: number;
}

/** A scalar read from a single line, and where the reading stopped. */
interface Scanned<T> {
  readonly value: T;
  readonly end: number;
}

/** Reads one document; block nodes recurse by indentation. */
class Reader {
  readonly #lines: string[];
  /** Whether the last line ends with a line break. */
  readonly #finalBreak: boolean;
  /** Index of the next line not yet read. */
  #pos = 0;

  constructor(text: string) {
    const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
    const lines = body.split("\n").map((line) =>
      line.endsWith("\r") ? line.slice(0, -1) : line
    );
    this.#finalBreak = lines.length > 1 && lines[lines.length - 1] === "";
    if (this.#finalBreak) lines.pop();
    this.#lines = lines;
  }

  read(): unknown {
    const start = this.#nextNonBlank(0);
    if (start !== undefined) {
      const line = this.#line(start);
      if (line.startsWith("%")) {
        throw this.#error("directives are not supported", start, 0);
      }
      if (line.startsWith("---") && DOCUMENT_MARKER_RE.test(line)) {
        this.#expectLineEnd(
          start,
          3,
          "content on the '---' line is not supported",
        );
        this.#pos = start + 1;
      }
    }
    const value = this.#blockNode(-1, false);
    const end = this.#nextNonBlank(this.#pos);
    if (end === undefined) return value;
    const line = this.#line(end);
    if (line.startsWith("...") && DOCUMENT_MARKER_RE.test(line)) {
      this.#expectLineEnd(end, 3, "content on the '...' line is not supported");
      const after = this.#nextNonBlank(end + 1);
      if (after === undefined) return value;
      throw this.#error("multiple documents are not supported", after, 0);
    }
    if (line.startsWith("---") && DOCUMENT_MARKER_RE.test(line)) {
      throw this.#error("multiple documents are not supported", end, 0);
    }
    throw this.#error(
      "unexpected content after the top-level node",
      end,
      indentOf(line),
    );
  }

  #line(index: number): string {
    return this.#lines[index] ?? "";
  }

  #error(detail: string, index: number, column: number): YamlError {
    return new YamlError(detail, index + 1, column + 1);
  }

  /** Index of the first line from `from` that is not blank or a comment. */
  #nextNonBlank(from: number): number | undefined {
    for (let i = from; i < this.#lines.length; i++) {
      const line = this.#line(i);
      const at = skipSpace(line, 0);
      if (at < line.length && line[at] !== "#") return i;
    }
    return undefined;
  }

  /**
   * The next line with content inside the document, skipping blank and
   * comment lines for good; `undefined` at the end or at a document marker.
   */
  #peek(): ContentLine | undefined {
    const index = this.#nextNonBlank(this.#pos);
    if (index === undefined) {
      this.#pos = this.#lines.length;
      return undefined;
    }
    this.#pos = index;
    const line = this.#line(index);
    if (DOCUMENT_MARKER_RE.test(line)) return undefined;
    const indent = indentOf(line);
    if (line[indent] === "\t") {
      throw this.#error("tabs are not allowed for indentation", index, indent);
    }
    return { index, indent };
  }

  /** Throws unless only spaces and a comment follow `from` on the line. */
  #expectLineEnd(index: number, from: number, detail: string): void {
    const line = this.#line(index);
    const at = skipSpace(line, from);
    if (at === line.length) return;
    if (line[at] === "#" && at > from) return;
    throw this.#error(detail, index, at);
  }

  /**
   * Reads the block node on the following lines that is indented more than
   * `parentIndent`, or `null` if there is none. With `sequenceAtParent`, a
   * sequence at the parent's indentation (a mapping value) also counts.
   */
  #blockNode(parentIndent: number, sequenceAtParent: boolean): unknown {
    const next = this.#peek();
    if (next === undefined) return null;
    const line = this.#line(next.index);
    const isSequence = isSequenceEntry(line, next.indent);
    if (next.indent <= parentIndent) {
      if (sequenceAtParent && next.indent === parentIndent && isSequence) {
        return this.#sequence(next.indent);
      }
      return null;
    }
    if (isSequence) return this.#sequence(next.indent);
    if (this.#mappingColon(next.index, next.indent) !== -1) {
      return this.#mapping(next.indent);
    }
    const { value, plain } = this.#inlineNode(
      next.index,
      next.indent,
      parentIndent,
    );
    this.#expectNoContinuation(parentIndent, plain);
    return value;
  }

  /** Throws if a line after a node is indented under the node's parent. */
  #expectNoContinuation(parentIndent: number, plain: boolean): void {
    const next = this.#peek();
    if (next === undefined || next.indent <= parentIndent) return;
    const entry = isSequenceEntry(this.#line(next.index), next.indent) ||
      this.#mappingColon(next.index, next.indent) !== -1;
    throw this.#error(
      plain && !entry
        ? "multi-line plain scalars are not supported"
        : "bad indentation: the line is indented under a complete value",
      next.index,
      next.indent,
    );
  }

  #sequence(indent: number): unknown[] {
    const items: unknown[] = [];
    for (;;) {
      const next = this.#peek();
      if (next === undefined || next.indent < indent) break;
      if (next.indent > indent) {
        throw this.#error(
          "bad indentation of a sequence entry",
          next.index,
          next.indent,
        );
      }
      const line = this.#line(next.index);
      // The caller decides whether anything else may follow at this indent.
      if (!isSequenceEntry(line, indent)) break;
      const at = skipSpace(line, indent + 1);
      if (at === line.length || line[at] === "#") {
        this.#pos = next.index + 1;
        items.push(this.#blockNode(indent, false));
        continue;
      }
      // A compact node ("- a: 1", "- - x"): blank the dash so the rest of the
      // line reads as a block node indented at its first character.
      this.#lines[next.index] = " ".repeat(indent + 1) + line.slice(indent + 1);
      items.push(this.#blockNode(indent, false));
    }
    return items;
  }

  #mapping(indent: number): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    for (;;) {
      const next = this.#peek();
      if (next === undefined || next.indent < indent) break;
      const { index } = next;
      if (next.indent > indent) {
        throw this.#error(
          "bad indentation of a mapping entry",
          index,
          next.indent,
        );
      }
      const line = this.#line(index);
      if (isSequenceEntry(line, indent)) {
        throw this.#error(
          "expected a mapping key, found a sequence entry",
          index,
          indent,
        );
      }
      const colon = this.#mappingColon(index, indent);
      if (colon === -1) {
        throw this.#error(
          "expected a mapping entry 'key: value'",
          index,
          indent,
        );
      }
      const key = this.#blockKey(index, indent, colon);
      checkKey(map, key, (detail) => this.#error(detail, index, indent));
      const at = skipSpace(line, colon + 1);
      if (at === line.length || line[at] === "#") {
        this.#pos = index + 1;
        map[key] = this.#blockNode(indent, true);
      } else {
        const { value, plain } = this.#inlineNode(index, at, indent);
        this.#expectNoContinuation(indent, plain);
        map[key] = value;
      }
    }
    return map;
  }

  /**
   * The index of the `:` that ends a block mapping key starting at `column`,
   * or -1 if the line holds no key.
   */
  #mappingColon(index: number, column: number): number {
    const line = this.#line(index);
    const first = line[column];
    if (first === "?" && isBlankAt(line, column + 1)) {
      throw this.#error("complex keys ('?') are not supported", index, column);
    }
    let at = column;
    if (first === '"' || first === "'") {
      const close = findQuoteEnd(line, column);
      if (close === -1) return -1;
      at = skipSpace(line, close + 1);
      return line[at] === ":" && isBlankAt(line, at + 1) ? at : -1;
    }
    if (first === "[" || first === "{") return -1;
    for (; at < line.length; at++) {
      const c = line[at];
      if (c === ":" && isBlankAt(line, at + 1)) return at;
      if (c === "#" && at > column && isSpace(line[at - 1])) return -1;
    }
    return -1;
  }

  #blockKey(index: number, column: number, colon: number): string {
    const line = this.#line(index);
    const first = line[column];
    if (first === '"' || first === "'") {
      return this.#quoted(index, column).value;
    }
    if (first === "|" || first === ">") {
      throw this.#error(
        "a block scalar cannot be a mapping key",
        index,
        column,
      );
    }
    this.#checkNodeStart(index, column, false);
    const key = line.slice(column, colon).trimEnd();
    if (key === "") throw this.#error("a mapping key is missing", index, colon);
    return key;
  }

  /**
   * Throws for an indicator that cannot start a plain scalar, naming the
   * feature it belongs to.
   */
  #checkNodeStart(index: number, column: number, flow: boolean): void {
    const line = this.#line(index);
    const c = line[column] ?? "";
    let detail: string | undefined;
    if (c === "&") detail = "anchors are not supported";
    else if (c === "*") detail = "aliases are not supported";
    else if (c === "!") detail = "tags are not supported";
    else if (c === "?" && isBlankAt(line, column + 1)) {
      detail = "complex keys ('?') are not supported";
    } else if (c === "-" && isBlankAt(line, column + 1)) {
      detail = "a sequence entry is not allowed here";
    } else if (c === "%" || c === "@" || c === "`") {
      detail = `'${c}' cannot start a plain scalar; quote the value`;
    } else if (FLOW_INDICATORS.includes(c)) detail = `unexpected '${c}'`;
    else if (flow && (c === "|" || c === ">")) {
      detail = "block scalars are not allowed inside flow collections";
    }
    if (detail !== undefined) throw this.#error(detail, index, column);
  }

  /**
   * Reads a node that starts on a line at `column` and is not a block
   * collection: a block scalar, a flow collection, a quoted or a plain
   * scalar. Moves past the lines it uses.
   */
  #inlineNode(
    index: number,
    column: number,
    parentIndent: number,
  ): { value: unknown; plain: boolean } {
    const line = this.#line(index);
    const first = line[column];
    if (first === "|" || first === ">") {
      return {
        value: this.#blockScalar(index, column, parentIndent),
        plain: false,
      };
    }
    this.#pos = index + 1;
    if (first === "[" || first === "{") {
      const { value, end } = this.#flowCollection(index, column);
      this.#expectLineEnd(
        index,
        end,
        "unexpected content after a flow collection",
      );
      return { value, plain: false };
    }
    if (first === '"' || first === "'") {
      const { value, end } = this.#quoted(index, column);
      this.#expectLineEnd(
        index,
        end,
        "unexpected content after a quoted scalar",
      );
      return { value, plain: false };
    }
    this.#checkNodeStart(index, column, false);
    let end = column;
    for (; end < line.length; end++) {
      const c = line[end];
      if (c === "#" && isSpace(line[end - 1])) break;
      if (c === ":" && isBlankAt(line, end + 1)) {
        throw this.#error("a mapping entry is not allowed here", index, end);
      }
    }
    return {
      value: resolvePlain(line.slice(column, end).trimEnd()),
      plain: true,
    };
  }

  /** Reads a `|` or `>` scalar whose header is at `column`. */
  #blockScalar(index: number, column: number, parentIndent: number): string {
    const line = this.#line(index);
    const folded = line[column] === ">";
    let chomping: "clip" | "strip" | "keep" = "clip";
    let explicitIndent = 0;
    let at = column + 1;
    for (let i = 0; i < 2; i++) {
      const c = line[at];
      if (chomping === "clip" && (c === "-" || c === "+")) {
        chomping = c === "-" ? "strip" : "keep";
        at++;
      } else if (explicitIndent === 0 && c !== undefined && /[1-9]/.test(c)) {
        explicitIndent = Number(c);
        at++;
      }
    }
    this.#expectLineEnd(index, at, "invalid block scalar header");

    let contentIndent = parentIndent + explicitIndent;
    if (explicitIndent === 0) {
      // Auto-detect: the first non-empty line sets the indentation, and no
      // leading empty line may have more spaces than it.
      contentIndent = parentIndent + 1;
      let leadingSpaces = 0;
      for (let i = index + 1; i < this.#lines.length; i++) {
        const text = this.#line(i);
        const spaces = indentOf(text);
        if (text.trim() === "") {
          leadingSpaces = Math.max(leadingSpaces, spaces);
          continue;
        }
        if (spaces <= parentIndent) break;
        if (text[spaces] === "\t") {
          throw this.#error("tabs are not allowed for indentation", i, spaces);
        }
        if (leadingSpaces > spaces) {
          throw this.#error(
            "a leading empty line of a block scalar has more spaces than its first line",
            i,
            spaces,
          );
        }
        contentIndent = spaces;
        break;
      }
    }
    const texts: string[] = [];
    let i = index + 1;
    for (; i < this.#lines.length; i++) {
      const text = this.#line(i);
      const spaces = indentOf(text);
      if (text.trim() === "") {
        // Spaces beyond the indentation are content, fewer make an empty line.
        texts.push(spaces >= contentIndent ? text.slice(contentIndent) : "");
        continue;
      }
      if (spaces < contentIndent) break;
      if (contentIndent === 0 && DOCUMENT_MARKER_RE.test(text)) break;
      texts.push(text.slice(contentIndent));
    }
    this.#pos = i;

    let last = texts.length - 1;
    while (last >= 0 && texts[last] === "") last--;
    const trailing = texts.length - 1 - last;
    // Line breaks after the content: one per line read, less one if the last
    // line of the input has none.
    const unterminated = i === this.#lines.length && !this.#finalBreak;
    const breaks = Math.max(0, trailing + 1 - (unterminated ? 1 : 0));
    const lines = texts.slice(0, last + 1);
    if (last === -1) {
      return chomping === "keep" ? "\n".repeat(Math.max(0, breaks - 1)) : "";
    }
    const body = folded ? fold(lines) : lines.join("\n");
    if (chomping === "strip") return body;
    if (chomping === "clip") return breaks > 0 ? body + "\n" : body;
    return body + "\n".repeat(breaks);
  }

  /** Reads a quoted scalar that starts and ends on one line. */
  #quoted(index: number, column: number): Scanned<string> {
    const line = this.#line(index);
    const quote = line[column];
    const end = findQuoteEnd(line, column);
    if (end === -1) {
      throw this.#error(
        "unterminated quoted scalar (multi-line quoted scalars are not supported)",
        index,
        column,
      );
    }
    const raw = line.slice(column + 1, end);
    if (quote === "'") {
      return { value: raw.replaceAll("''", "'"), end: end + 1 };
    }
    let value = "";
    for (let at = 0; at < raw.length; at++) {
      const c = raw[at] ?? "";
      if (c !== "\\") {
        value += c;
        continue;
      }
      const escape = raw[at + 1] ?? "";
      const simple = SIMPLE_ESCAPES[escape];
      if (simple !== undefined) {
        value += simple;
        at++;
        continue;
      }
      const length = HEX_ESCAPE_LENGTHS[escape];
      const digits = raw.slice(at + 2, at + 2 + (length ?? 0));
      if (
        length === undefined || digits.length !== length ||
        !/^[0-9a-fA-F]+$/.test(digits)
      ) {
        throw this.#error(
          `invalid escape '\\${escape}' in a double-quoted scalar`,
          index,
          column + 1 + at,
        );
      }
      const code = Number.parseInt(digits, 16);
      if (code > 0x10ffff) {
        throw this.#error(
          `invalid escape '\\${escape}${digits}': beyond U+10FFFF`,
          index,
          column + 1 + at,
        );
      }
      // \u escapes are UTF-16 code units, so a surrogate pair joins up.
      value += escape === "u"
        ? String.fromCharCode(code)
        : String.fromCodePoint(code);
      at += 1 + length;
    }
    return { value, end: end + 1 };
  }

  /** Reads a `[...]` or `{...}` collection that ends on the same line. */
  #flowCollection(index: number, column: number): Scanned<unknown> {
    const line = this.#line(index);
    const isSequence = line[column] === "[";
    const close = isSequence ? "]" : "}";
    const items: unknown[] = [];
    const map: Record<string, unknown> = {};
    let at = column + 1;
    for (;;) {
      at = this.#flowSkip(index, at, column);
      if (line[at] === close) break;
      if (isSequence) {
        const item = this.#flowNode(index, at);
        at = skipSpace(line, item.end);
        if (line[at] === ":") {
          throw this.#error(
            "mapping entries inside a flow sequence are not supported",
            index,
            at,
          );
        }
        items.push(item.value);
      } else {
        const keyAt = at;
        const key = this.#flowKey(index, at);
        checkKey(map, key.value, (detail) => this.#error(detail, index, keyAt));
        at = skipSpace(line, key.end);
        let value: unknown = null;
        if (line[at] === ":") {
          at = this.#flowSkip(index, at + 1, column);
          if (line[at] !== "," && line[at] !== close) {
            const node = this.#flowNode(index, at);
            value = node.value;
            at = node.end;
          }
        }
        map[key.value] = value;
      }
      at = this.#flowSkip(index, at, column);
      if (line[at] === close) break;
      if (line[at] !== ",") {
        throw this.#error(`expected ',' or '${close}'`, index, at);
      }
      at++;
    }
    return { value: isSequence ? items : map, end: at + 1 };
  }

  /** Skips spaces inside a flow collection opened at `open`. */
  #flowSkip(index: number, from: number, open: number): number {
    const line = this.#line(index);
    const at = skipSpace(line, from);
    if (at === line.length || (line[at] === "#" && isSpace(line[at - 1]))) {
      throw this.#error(
        "unterminated flow collection (flow collections must end on the line they start)",
        index,
        open,
      );
    }
    return at;
  }

  #flowKey(index: number, column: number): Scanned<string> {
    const line = this.#line(index);
    const first = line[column];
    if (first === '"' || first === "'") return this.#quoted(index, column);
    if (first === "[" || first === "{") {
      throw this.#error(
        "complex keys (collections as keys) are not supported",
        index,
        column,
      );
    }
    if (first === ",") {
      throw this.#error("a mapping key is missing", index, column);
    }
    this.#checkNodeStart(index, column, true);
    const end = this.#flowPlainEnd(index, column);
    const key = line.slice(column, end).trimEnd();
    if (key === "") {
      throw this.#error("a mapping key is missing", index, column);
    }
    return { value: key, end };
  }

  #flowNode(index: number, column: number): Scanned<unknown> {
    const first = this.#line(index)[column];
    if (first === "[" || first === "{") {
      return this.#flowCollection(index, column);
    }
    if (first === '"' || first === "'") return this.#quoted(index, column);
    this.#checkNodeStart(index, column, true);
    const end = this.#flowPlainEnd(index, column);
    const text = this.#line(index).slice(column, end).trimEnd();
    return { value: resolvePlain(text), end };
  }

  /** Where a plain scalar inside a flow collection ends. */
  #flowPlainEnd(index: number, column: number): number {
    const line = this.#line(index);
    let at = column;
    for (; at < line.length; at++) {
      const c = line[at] ?? "";
      if (FLOW_INDICATORS.includes(c)) break;
      if (c === "#" && isSpace(line[at - 1])) break;
      if (c === ":") {
        const after = line[at + 1];
        if (after === undefined || isSpace(after)) break;
        if (FLOW_INDICATORS.includes(after)) break;
      }
    }
    return at;
  }
}

/** Throws (through `fail`) for a duplicate key or a `__proto__` key. */
function checkKey(
  map: Record<string, unknown>,
  key: string,
  fail: (detail: string) => YamlError,
): void {
  if (key === "__proto__") {
    throw fail(`the key "__proto__" is not allowed`);
  }
  if (Object.hasOwn(map, key)) {
    throw fail(`duplicate key ${JSON.stringify(key)}`);
  }
}

/** Joins the lines of a folded scalar, up to its last non-empty line. */
function fold(lines: readonly string[]): string {
  let result = "";
  let emptyLines = 0;
  let previous: "none" | "normal" | "indented" = "none";
  for (const line of lines) {
    if (line === "") {
      emptyLines++;
      continue;
    }
    const kind = line[0] === " " || line[0] === "\t" ? "indented" : "normal";
    if (previous === "none") result += "\n".repeat(emptyLines);
    else if (previous === "normal" && kind === "normal") {
      result += emptyLines === 0 ? " " : "\n".repeat(emptyLines);
    } else result += "\n".repeat(emptyLines + 1);
    result += line;
    emptyLines = 0;
    previous = kind;
  }
  return result;
}

/** The value of a plain scalar by the YAML 1.2 core schema. */
function resolvePlain(text: string): unknown {
  if (NULL_RE.test(text)) return null;
  if (TRUE_RE.test(text)) return true;
  if (FALSE_RE.test(text)) return false;
  if (DECIMAL_RE.test(text) || FLOAT_RE.test(text)) return Number(text);
  if (OCTAL_RE.test(text)) return Number.parseInt(text.slice(2), 8);
  if (HEX_RE.test(text)) return Number.parseInt(text.slice(2), 16);
  if (INF_RE.test(text)) return text[0] === "-" ? -Infinity : Infinity;
  if (NAN_RE.test(text)) return NaN;
  return text;
}

/** Index of the quote closing the quoted scalar at `column`, or -1. */
function findQuoteEnd(line: string, column: number): number {
  const quote = line[column];
  for (let at = column + 1; at < line.length; at++) {
    const c = line[at];
    if (quote === '"' && c === "\\") at++;
    else if (c === quote) {
      if (quote === "'" && line[at + 1] === "'") at++;
      else return at;
    }
  }
  return -1;
}

function isSequenceEntry(line: string, indent: number): boolean {
  return line[indent] === "-" && isBlankAt(line, indent + 1);
}

/** Whether the line ends at `at` or has a space or tab there. */
function isBlankAt(line: string, at: number): boolean {
  return at >= line.length || isSpace(line[at]);
}

function isSpace(c: string | undefined): boolean {
  return c === " " || c === "\t";
}

function indentOf(line: string): number {
  let at = 0;
  while (line[at] === " ") at++;
  return at;
}

function skipSpace(line: string, from: number): number {
  let at = from;
  while (isSpace(line[at])) at++;
  return at;
}
