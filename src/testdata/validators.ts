/**
 * Schema validators for the report tests: the JSON report against
 * `schemas/sockspec-report.schema.json` (ajv 8 in strict mode, with no option beyond the
 * draft, and ajv-formats for `date-time`), and JUnit XML against
 * `schemas/junit.xsd` (`xmllint` from Debian's libxml2-utils).
 *
 * @example
 * ```ts
 * import { reportValidator, xmllint } from "./validators.ts";
 * const validate = await reportValidator();
 * validate(JSON.parse(await Deno.readTextFile("report.json"))); // [] when valid
 * if (xmllint.available) await xmllint.validate("junit.xml"); // [] when valid
 * ```
 * @module
 */

import { Ajv2020 } from "npm:ajv@8.17.1/dist/2020.js";
import ajvFormats from "npm:ajv-formats@3.0.1";
import { commandExists } from "../harness/manifest.ts";

const root = new URL("../../", import.meta.url).pathname;

/**
 * A validator for the JSON report schema: returns the errors (empty when valid). ajv runs
 * in strict mode, so an unknown keyword or a malformed schema is an error too.
 *
 * @example
 * ```ts
 * import { reportValidator } from "./validators.ts";
 * (await reportValidator())({}); // ["/ must have required property 'formatVersion'", ...]
 * ```
 */
export async function reportValidator(): Promise<(doc: unknown) => string[]> {
  const schema = JSON.parse(
    await Deno.readTextFile(`${root}schemas/sockspec-report.schema.json`),
  );
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  // ajv-formats is CommonJS: its function is the default export's default
  type AddFormats = (ajv: unknown) => unknown;
  const mod = ajvFormats as unknown as AddFormats & { default?: AddFormats };
  (mod.default ?? mod)(ajv);
  const validate = ajv.compile(schema);
  return (doc) =>
    validate(doc)
      ? []
      : (validate.errors ?? []).map((e: { instancePath: string; message?: string }) =>
        `${e.instancePath || "/"} ${e.message}`
      );
}

/** JUnit XML validation with `xmllint --schema schemas/junit.xsd`. */
export const xmllint = {
  /** Whether `xmllint` is on PATH. */
  available: commandExists("xmllint"),
  /** Why the XSD tests cannot run, for the test name. */
  missing: "xmllint is not on PATH: install Debian's libxml2-utils (apt-get install libxml2-utils)",
  /**
   * Validates `file`; returns xmllint's complaints (empty when valid).
   *
   * @example
   * ```ts
   * import { xmllint } from "./validators.ts";
   * await xmllint.validate("junit.xml"); // []
   * ```
   */
  async validate(file: string): Promise<string[]> {
    const out = await new Deno.Command("xmllint", {
      args: ["--noout", "--nonet", "--schema", `${root}schemas/junit.xsd`, file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stderr).trim();
    if (out.code === 0 && /validates$/.test(text)) return [];
    return text.split("\n").filter((l) => !l.endsWith(" fails to validate"));
  },
};
