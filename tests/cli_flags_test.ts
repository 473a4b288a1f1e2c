import assert from "node:assert/strict";
import { type FlagTable, parseFlags, UsageError } from "../cli/flags.ts";

const flags: FlagTable = [
  ["lr", "RATE", "learning rate"],
  ["verify", "", "check the result"],
  ["help", "", "print this help"],
];
const allowed = "Allowed flags: --lr, --verify, --help.";

/** The usage error `parseFlags` throws for `args`. */
function usageError(args: string[], options?: { dashValues?: boolean }): UsageError {
  try {
    parseFlags(args, flags, options);
  } catch (error) {
    assert.ok(error instanceof UsageError, String(error));
    return error;
  }
  throw new Error(`${args.join(" ")}: no error`);
}

Deno.test("parseFlags: values, booleans and -h", () => {
  assert.deepEqual({ ...parseFlags([], flags) }, {});
  assert.deepEqual(
    { ...parseFlags(["--lr", "0.1", "--verify", "-h"], flags) },
    { lr: "0.1", verify: true, help: true },
  );
  assert.equal(parseFlags(["--lr=-1"], flags).lr, "-1");
});

Deno.test("parseFlags: an unknown flag is named, with the allowed ones", () => {
  assert.equal(usageError(["--rate", "1"]).message, `unknown flag --rate. ${allowed}`);
  assert.equal(usageError(["-x"]).message, `unknown flag -x. ${allowed}`);
});

Deno.test("parseFlags: a positional argument is refused, with the allowed flags", () => {
  assert.equal(
    usageError(["--verify", "extra"]).message,
    `unexpected argument "extra": every setting is a flag. ${allowed}`,
  );
  assert.match(usageError(["--", "--lr"]).message, /^unexpected argument "--lr"/);
});

Deno.test("parseFlags: a value flag without a value", () => {
  assert.equal(usageError(["--lr"]).message, "--lr needs a value (see --help).");
  assert.equal(usageError(["--verify", "--lr"]).message, "--lr needs a value (see --help).");
});

Deno.test("parseFlags: a boolean flag given a value", () => {
  assert.equal(usageError(["--verify=yes"]).message, "--verify takes no value.");
});

Deno.test("parseFlags: a value with one leading dash, with and without dashValues", () => {
  // Refused (parseArgs calls the pair ambiguous), naming the flag.
  assert.match(usageError(["--lr", "-1"]).message, /^--lr /);
  assert.equal(parseFlags(["--lr", "-1"], flags, { dashValues: true }).lr, "-1");
  // Two dashes stay a flag.
  assert.match(usageError(["--lr", "--verify"], { dashValues: true }).message, /^--lr /);
});

Deno.test("parseFlags: a value flag followed by another flag is named as missing its value", () => {
  // parseArgs calls this "ambiguous"; the flag lacks a value, it was not given one.
  for (const options of [{}, { dashValues: true }]) {
    const message = usageError(["--lr", "--verify"], options).message;
    assert.equal(message, "--lr needs a value, but is followed by the flag --verify (see --help).");
    assert.ok(!/takes no value/.test(message));
  }
  assert.equal(
    usageError(["--lr", "-1"]).message,
    '--lr needs a value, but is followed by "-1", which reads as a flag; to give it as the ' +
      "value write --lr=-1.",
  );
});

Deno.test("parseFlags: --help given a value is named (parseArgs says '-h, --help')", () => {
  assert.equal(usageError(["--help=yes"]).message, "--help takes no value.");
});
