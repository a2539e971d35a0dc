/**
 * A `deno lint` plugin with one rule, `gmqtt/no-dropped-promise`: a promise
 * whose rejection nobody handles ends the process, so the broker never
 * drops one. It reports:
 *
 * - `void call()`: the promise is thrown away with its rejection;
 * - a `.then(onFulfilled)` or `.finally(...)` whose result is not used: a
 *   rejection of either callback goes nowhere;
 * - a statement that calls an async function or method of the same file
 *   (`this.#flush();`) and drops what it returns.
 *
 * It checks the broker's own modules; tests (`*_test.ts`, `tests/`) are
 * left to the test sanitizers, which fail a test that leaks a rejection, and
 * `bench/` uses `void` to keep results it does not need.
 *
 * Handle the rejection (`.catch(...)`, a second `.then` callback, `await`,
 * or return the promise), or, where a promise cannot reject, say why in a
 * `// deno-lint-ignore gmqtt/no-dropped-promise -- why` comment.
 *
 * @module
 */

const RULE = "no-dropped-promise";

/** What a dropped call looks like before the file's async names are known. */
interface Candidate {
  readonly node: Deno.lint.Node;
  readonly name: string;
  readonly member: boolean;
}

function calleeName(
  callee: Deno.lint.Expression,
): { name: string; member: boolean } | undefined {
  if (callee.type === "Identifier") return { name: callee.name, member: false };
  if (
    callee.type === "MemberExpression" &&
    callee.object.type === "ThisExpression"
  ) {
    const p = callee.property;
    if (p.type === "Identifier") return { name: p.name, member: true };
    if (p.type === "PrivateIdentifier") {
      return { name: `#${p.name}`, member: true };
    }
  }
  return undefined;
}

function methodName(key: Deno.lint.Node): string | undefined {
  if (key.type === "Identifier") return key.name;
  if (key.type === "PrivateIdentifier") return `#${key.name}`;
  return undefined;
}

/** The plugin; deno.json names this file in `lint.plugins`. */
const plugin: Deno.lint.Plugin = {
  name: "gmqtt",
  rules: {
    [RULE]: {
      create(context) {
        if (/(_test\.ts|[\\/](tests|bench)[\\/].*)$/.test(context.filename)) {
          return {};
        }
        const asyncFunctions = new Set<string>();
        const asyncMethods = new Set<string>();
        const candidates: Candidate[] = [];
        return {
          'UnaryExpression[operator="void"]'(node: Deno.lint.UnaryExpression) {
            if (node.argument.type === "Literal") return;
            context.report({
              node,
              message:
                "Cannot drop a promise with void: handle its rejection (.catch) or say why it never rejects",
            });
          },
          FunctionDeclaration(node: Deno.lint.FunctionDeclaration) {
            if (node.async && node.id) asyncFunctions.add(node.id.name);
          },
          MethodDefinition(node: Deno.lint.MethodDefinition) {
            const name = methodName(node.key);
            if (node.value.async && name !== undefined) asyncMethods.add(name);
          },
          ExpressionStatement(node: Deno.lint.ExpressionStatement) {
            const call = node.expression;
            if (call.type !== "CallExpression") return;
            const callee = call.callee;
            if (
              callee.type === "MemberExpression" &&
              callee.property.type === "Identifier" &&
              ((callee.property.name === "then" && call.arguments.length < 2) ||
                callee.property.name === "finally")
            ) {
              context.report({
                node,
                message:
                  `Cannot drop the promise of .${callee.property.name}(): a rejection would go unhandled`,
              });
              return;
            }
            const named = calleeName(callee);
            if (named !== undefined) candidates.push({ node, ...named });
          },
          "Program:exit"() {
            for (const { node, name, member } of candidates) {
              if ((member ? asyncMethods : asyncFunctions).has(name)) {
                context.report({
                  node,
                  message:
                    `Cannot drop the promise of async ${name}(): await it, return it or handle its rejection`,
                });
              }
            }
          },
        };
      },
    },
  },
};

export default plugin;
