/** The metadata checksum of the TypeScript engine against Bob Jenkins' published lookup3 values. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { lookup3 } from "#lib/h5/ts/lookup3.js";

test("lookup3 hashlittle matches the reference values of lookup3.c", () => {
  const text = new TextEncoder().encode("Four score and seven years ago");
  assert.equal(lookup3(new Uint8Array(0)), 0xdeadbeef);
  assert.equal(lookup3(new Uint8Array(0), 0xdeadbeef), 0xbd5b7dde);
  assert.equal(lookup3(text), 0x17770551);
  assert.equal(lookup3(text, 1), 0xcd628161);
});
