#!/usr/bin/env -S deno run --allow-read
/**
 * Case size: the average and the largest case literal, in lines, across every conformance
 * family (issue 14: average at most 25 lines, none over 50).
 *
 *     deno run --allow-read scripts/case_size.ts [--check] [--top N] [DIR]
 *
 * A case literal is an object literal in `conformance/**\/*.ts` (tests excluded) with both a
 * `requirement` property and a `run` property or method of its own: how a case is written,
 * whether it sits in an array passed to `inFamily`, in a table row's factory
 * (`(row) => ({ ..., requirement, run })`) or anywhere else. Its size is the number of
 * source lines from its `{` to its `}`. The scanner skips strings, template literals (with
 * their `${}` nesting), comments and regular expressions, so braces in them do not count.
 *
 * Prints one line per file (cases, average, largest), the largest cases overall, and the
 * totals. With `--check`, exits 1 when the average is over 25 or a case is over 50 lines.
 *
 * @module
 */

import { parseArgs } from "node:util";

/** One case literal found in a file. */
export interface CaseLiteral {
  file: string;
  /** 1-based line of its opening brace. */
  line: number;
  lines: number;
  /** Its `id` as written (a string or template literal), for the listing. */
  id: string;
}

interface Frame {
  start: number;
  line: number;
  requirement: boolean;
  run: boolean;
  id?: string;
}

/**
 * The case literals in one source text.
 *
 * @example
 * ```ts
 * import { caseLiterals } from "./case_size.ts";
 * const src = `const c = {\n  id: "x/1",\n  requirement: "R.",\n  run: () => 1,\n};`;
 * caseLiterals(src, "x.ts"); // [{ file: "x.ts", line: 1, lines: 5, id: '"x/1"' }]
 * ```
 */
export function caseLiterals(src: string, file: string): CaseLiteral[] {
  const out: CaseLiteral[] = [];
  const stack: Frame[] = [];
  // What each open brace is: an object/block frame, or the `${` of a template literal.
  const kinds: ("frame" | "template")[] = [];
  let line = 1;
  let prev = ""; // the last significant character, to tell a regex from a division
  let i = 0;
  const n = src.length;

  const skipString = (quote: string) => {
    i++;
    while (i < n && src[i] !== quote) {
      if (src[i] === "\\") i++;
      else if (src[i] === "\n") line++;
      i++;
    }
    i++;
  };
  // Scans template text until its closing backtick or a `${` (then returns true).
  const skipTemplate = (): boolean => {
    while (i < n) {
      const c = src[i];
      if (c === "\\") i += 2;
      else if (c === "`") {
        i++;
        return false;
      } else if (c === "$" && src[i + 1] === "{") {
        i += 2;
        return true;
      } else {
        if (c === "\n") line++;
        i++;
      }
    }
    return false;
  };

  while (i < n) {
    const c = src[i];
    if (c === "\n") {
      line++;
      i++;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === "/" && src[i + 1] === "/") {
      while (i < n && src[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && src[i + 1] === "*") {
      i += 2;
      while (i < n && !(src[i] === "*" && src[i + 1] === "/")) {
        if (src[i] === "\n") line++;
        i++;
      }
      i += 2;
      continue;
    }
    if (c === "/" && (prev === "" || "(,=:[!&|?{};+-*%<>~^".includes(prev))) {
      // a regular expression literal
      i++;
      let inClass = false;
      while (i < n && (inClass || src[i] !== "/")) {
        if (src[i] === "\\") i++;
        else if (src[i] === "[") inClass = true;
        else if (src[i] === "]") inClass = false;
        i++;
      }
      i++;
      while (i < n && /[a-z]/i.test(src[i])) i++;
      prev = "a";
      continue;
    }
    if (c === '"' || c === "'") {
      skipString(c);
      prev = "a";
      continue;
    }
    if (c === "`") {
      i++;
      if (skipTemplate()) kinds.push("template");
      prev = "a";
      continue;
    }
    if (c === "{") {
      kinds.push("frame");
      stack.push({ start: i, line, requirement: false, run: false });
      prev = "{";
      i++;
      continue;
    }
    if (c === "}") {
      const kind = kinds.pop();
      i++;
      if (kind === "template") {
        if (skipTemplate()) kinds.push("template");
        prev = "a";
        continue;
      }
      const frame = stack.pop();
      if (frame?.requirement && frame.run) {
        out.push({ file, line: frame.line, lines: line - frame.line + 1, id: frame.id ?? "?" });
      }
      prev = "}";
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      let j = i;
      while (j < n && /[A-Za-z0-9_$]/.test(src[j])) j++;
      const word = src.slice(i, j);
      let k = j;
      while (k < n && (src[k] === " " || src[k] === "\t")) k++;
      const top = stack.at(-1);
      // A property of the innermost object: `word:` or a method `word(`, at its top level
      // (the previous significant character opens the object or ends a property).
      const atTop = prev === "{" || prev === "," || prev === "}" || prev === "a";
      if (top && atTop) {
        if (word === "requirement" && src[k] === ":") top.requirement = true;
        if (word === "run" && (src[k] === ":" || src[k] === "(")) top.run = true;
        if (word === "id" && src[k] === ":") {
          const end = src.indexOf("\n", k);
          top.id = /^[^,]*/.exec(src.slice(k + 1, end < 0 ? n : end).trim())![0];
        }
      }
      i = j;
      prev = "a";
      continue;
    }
    prev = c;
    i++;
  }
  return out;
}

async function* sources(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) yield* sources(path);
    else if (e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) yield path;
  }
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { check: { type: "boolean" }, top: { type: "string" }, help: { type: "boolean" } },
    allowPositionals: true,
  });
  if (values.help) {
    console.log("usage: scripts/case_size.ts [--check] [--top N] [DIR (default: conformance)]");
    Deno.exit(0);
  }
  const root = positionals[0] ?? new URL("../conformance", import.meta.url).pathname;
  const all: CaseLiteral[] = [];
  const files = [];
  for await (const f of sources(root)) files.push(f);
  files.sort();
  for (const file of files) {
    const found = caseLiterals(await Deno.readTextFile(file), file.slice(root.length + 1));
    if (found.length === 0) continue;
    all.push(...found);
    const avg = found.reduce((s, c) => s + c.lines, 0) / found.length;
    const max = Math.max(...found.map((c) => c.lines));
    console.log(
      `${found[0].file.padEnd(28)} ${String(found.length).padStart(3)} cases  average ${
        avg.toFixed(1).padStart(5)
      }  largest ${String(max).padStart(3)}`,
    );
  }
  if (all.length === 0) {
    console.error(`no case literals under ${root}`);
    Deno.exit(2);
  }
  const top = Number(values.top ?? 5);
  console.log(`\nlargest:`);
  for (const c of [...all].sort((a, b) => b.lines - a.lines).slice(0, top)) {
    console.log(`  ${String(c.lines).padStart(3)} lines  ${c.file}:${c.line}  ${c.id}`);
  }
  const avg = all.reduce((s, c) => s + c.lines, 0) / all.length;
  const max = Math.max(...all.map((c) => c.lines));
  console.log(
    `\n${all.length} case literals: average ${
      avg.toFixed(1)
    } lines, largest ${max} (limits: 25, 50)`,
  );
  if (values.check && (avg > 25 || max > 50)) Deno.exit(1);
}
