/**
 * Flag parsing shared by the command-line front ends (`deno task train`,
 * `deno task experiments`, `deno task export`): `node:util`'s `parseArgs` in
 * strict mode, with its errors turned into {@link UsageError}s that name the
 * flag and list the allowed ones.
 *
 * @module
 */

import { parseArgs } from "node:util";

/**
 * A command-line mistake: the front ends report it with exit code 2 and a
 * pointer to `--help`.
 *
 * @example
 * ```ts
 * import { UsageError } from "./flags.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new UsageError("give --steps or --dt, not both.");
 * assert.ok(error instanceof Error);
 * assert.equal(error.message, "give --steps or --dt, not both.");
 * ```
 */
export class UsageError extends Error {}

/**
 * The flags of a command, in help order: name (without `--`), value
 * placeholder (empty for a boolean flag) and description.
 *
 * @example
 * ```ts
 * import { type FlagTable, flagHelp, parseFlags } from "./flags.ts";
 * import assert from "node:assert/strict";
 *
 * // A placeholder ("N") makes a value flag; none, a boolean one.
 * const flags: FlagTable = [["seed", "N", "the seed"], ["help", "", "print this help"]];
 * assert.deepEqual({ ...parseFlags(["--seed", "3", "--help"], flags) }, { seed: "3", help: true });
 * assert.deepEqual(flagHelp(flags, 12, 40), ["  --seed N  the seed", "  --help    print this help"]);
 * ```
 */
export type FlagTable = ReadonlyArray<readonly [name: string, value: string, description: string]>;

/**
 * The parsed flags: a string for a flag with a value, `true` for a boolean
 * flag given, absent for a flag not given.
 *
 * @example
 * ```ts
 * import { type FlagValues, parseFlags } from "./flags.ts";
 * import assert from "node:assert/strict";
 *
 * const values: FlagValues = parseFlags(["--help"], [["help", "", "print this help"]]);
 * assert.equal(values.help, true);
 * ```
 */
export type FlagValues = Record<string, string | boolean | undefined>;

/**
 * Parses command-line flags against a table: a flag with a value
 * placeholder takes a string, one without is boolean, and `--help` (when in
 * the table) may also be written `-h`. Positional arguments are refused.
 *
 * @param args The command-line arguments.
 * @param flags The allowed flags.
 * @param options `dashValues`: a value flag followed by an argument with a
 * single leading dash takes it as its value (`--lr -1` reads as `--lr=-1`),
 * so that the command's own value checks report it; off, such a pair is
 * refused.
 * @returns The values given.
 * @throws {UsageError} For an unknown flag or a positional argument (both
 * listing the allowed flags), a value flag without a value (at the end, or
 * followed by another flag), or a boolean flag given one; each names the
 * flag.
 *
 * @example
 * ```ts
 * import { type FlagTable, parseFlags, UsageError } from "./flags.ts";
 * import assert from "node:assert/strict";
 *
 * const flags: FlagTable = [["lr", "RATE", "learning rate"], ["help", "", "print this help"]];
 * assert.deepEqual({ ...parseFlags(["--lr", "0.1", "-h"], flags) }, { lr: "0.1", help: true });
 * assert.equal(parseFlags(["--lr", "-1"], flags, { dashValues: true }).lr, "-1");
 * assert.throws(
 *   () => parseFlags(["--rate", "1"], flags),
 *   new UsageError("unknown flag --rate. Allowed flags: --lr, --help."),
 * );
 * assert.throws(() => parseFlags(["--lr"], flags), /--lr needs a value \(see --help\)\./);
 * ```
 */
export function parseFlags(
  args: readonly string[],
  flags: FlagTable,
  options: { dashValues?: boolean } = {},
): FlagValues {
  const types: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [name, value] of flags) types[name] = { type: value ? "string" : "boolean" };
  if (types.help) types.help.short = "h";
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith("--") ? args[i].slice(2) : "";
    const next = args[i + 1];
    if (
      options.dashValues && types[name]?.type === "string" && next !== undefined &&
      next.startsWith("-") && !next.startsWith("--")
    ) {
      joined.push(`${args[i]}=${next}`);
      i++;
    } else {
      joined.push(args[i]);
    }
  }
  try {
    const { values } = parseArgs({
      args: joined,
      options: types,
      strict: true,
      allowPositionals: false,
    });
    return values as FlagValues;
  } catch (error) {
    throw _usageError(error, flags, joined);
  }
}

/** The usage error for an error of `parseArgs` on the arguments `args`. */
function _usageError(error: unknown, flags: FlagTable, args: readonly string[]): UsageError {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const names = flags.map(([n]) => `--${n}`).join(", ");
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const flag = /'([^']+)'/.exec(message)?.[1] ?? message;
    return new UsageError(`unknown flag ${flag}. Allowed flags: ${names}.`);
  }
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    const arg = /'([^']+)'/.exec(message)?.[1] ?? "";
    return new UsageError(
      `unexpected argument ${JSON.stringify(arg)}: every setting is a flag. ` +
        `Allowed flags: ${names}.`,
    );
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    // parseArgs names the flag as '--lr', '--lr <value>' or '-h, --help'.
    const flag = /'(?:-\w, )?(--[\w-]+)/.exec(message)?.[1] ?? "a flag";
    if (/argument missing/.test(message)) {
      return new UsageError(`${flag} needs a value (see --help).`);
    }
    if (/ambiguous/.test(message)) {
      // The flag is followed by something that starts with a dash.
      const at = args.indexOf(flag);
      const next = at >= 0 ? args[at + 1] : undefined;
      if (next === undefined) return new UsageError(`${flag} needs a value (see --help).`);
      return new UsageError(
        next.startsWith("--")
          ? `${flag} needs a value, but is followed by the flag ${next.replace(/=.*$/, "")} ` +
            `(see --help).`
          : `${flag} needs a value, but is followed by ${JSON.stringify(next)}, which reads as ` +
            `a flag; to give it as the value write ${flag}=${next}.`,
      );
    }
    return new UsageError(`${flag} takes no value.`);
  }
  return new UsageError(message);
}

/**
 * The help lines of a flag table: `  --name VALUE` padded to `column`, then
 * the description wrapped at spaces so that no line passes `width` (a word
 * longer than that stays whole); a flag too long for its column takes a line
 * of its own.
 *
 * @param flags The flags.
 * @param column Where descriptions start.
 * @param width The longest line.
 * @returns The lines.
 *
 * @example
 * ```ts
 * import { flagHelp } from "./flags.ts";
 * import assert from "node:assert/strict";
 *
 * const lines = flagHelp([["seed", "N", "the seed of every random draw"]], 12, 30);
 * assert.deepEqual(lines, ["  --seed N  the seed of every", "            random draw"]);
 * ```
 */
export function flagHelp(flags: FlagTable, column: number, width: number): string[] {
  const lines: string[] = [];
  for (const [name, value, text] of flags) {
    const flag = `  --${name}${value ? ` ${value}` : ""}`;
    const own = flag.length + 2 > column;
    if (own) lines.push(flag);
    _wrap(text, width - column).forEach((line, i) => {
      lines.push((i === 0 && !own ? flag : "").padEnd(column) + line);
    });
  }
  return lines;
}

/** Breaks text at spaces into lines of at most `width` characters (longer words stay whole). */
function _wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines;
}
