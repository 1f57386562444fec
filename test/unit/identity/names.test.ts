import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  InvalidNameError,
  MAX_NAME_LENGTH,
  canonicalHost,
  cfgstringFor,
  iqnFor,
  isGbid,
  parseVolumeBlock,
  validateBlockName,
  validateHostAddress,
  validateVolumeName,
  wwidFor,
} from "../../../src/identity/names.js";

describe("volume and block names", () => {
  it("accepts letters, digits, '-' and '_' up to 254 characters", () => {
    for (const n of ["block-test", "t1", "pvc-0f3b_A9", "a".repeat(MAX_NAME_LENGTH)]) {
      validateVolumeName(n);
      validateBlockName(n);
    }
    validateBlockName("-leading-dash");
  });
  it("refuses empty, too long, dots, slashes, spaces, control characters, non-ASCII", () => {
    for (const n of ["", "a".repeat(MAX_NAME_LENGTH + 1), "vol.1", "a/b", "a b", "a\nb", "tëst", "meta.lock"]) {
      assert.throws(() => validateBlockName(n), InvalidNameError, n);
      assert.throws(() => validateVolumeName(n), InvalidNameError, n);
    }
  });
  it("refuses a volume starting with '-', as gluster does", () => {
    assert.throws(() => validateVolumeName("-vol"), /must not start with '-'/);
  });
  it("names the bad character without echoing control characters raw", () => {
    assert.throws(() => validateBlockName("a.b"), /contains '\.'/);
    assert.throws(
      () => validateBlockName("a\u0001b"),
      (e: Error) => /U\+0001/.test(e.message) && !e.message.includes("\u0001"),
    );
  });
  it("splits volname/blockname", () => {
    assert.deepEqual(parseVolumeBlock("block-test/t1"), { volume: "block-test", block: "t1" });
    assert.throws(() => parseVolumeBlock("block-test"), /has no '\/'/);
    assert.throws(() => parseVolumeBlock("block-test/a/b"), /block name/);
    assert.throws(() => parseVolumeBlock("/t1"), /volume name is empty/);
  });
});

describe("host addresses", () => {
  it("accepts IPv4 and IPv6 literals", () => {
    for (const h of ["10.213.0.11", "0.0.0.0", "::1", "fd00::11", "2001:db8::1:2", "::ffff:10.0.0.1"]) validateHostAddress(h);
  });
  it("refuses hostnames, bad IPv4, zones and junk", () => {
    for (const h of ["node1", "node1.example.com", "10.213.0", "10.213.0.256", "010.1.1.1", "fe80::1%eth0", "", " 10.0.0.1", "10.0.0.1:3260"]) {
      assert.throws(() => validateHostAddress(h), InvalidNameError, h);
    }
  });
  it("canonicalises IPv6 for comparisons", () => {
    assert.equal(canonicalHost("::1"), canonicalHost("0:0:0:0:0:0:0:1"));
    assert.equal(canonicalHost("FD00::A"), canonicalHost("fd00:0::a"));
    assert.equal(canonicalHost("::ffff:10.0.0.1"), canonicalHost("::ffff:a00:1"));
    assert.equal(canonicalHost("10.0.0.1"), "10.0.0.1");
  });
});

describe("identities", () => {
  it("iqnFor and wwidFor follow the original and tcmu-runner", () => {
    const gbid = "1bcc8980-5c86-4fc6-a2bb-b185786f3a5f";
    assert.equal(iqnFor(gbid), "iqn.2016-12.org.gluster-block:1bcc8980-5c86-4fc6-a2bb-b185786f3a5f");
    assert.equal(wwidFor(gbid), "360014051bcc89805c864fc6a2bbb1857");
    assert.equal(wwidFor(gbid).length, 33);
    assert.throws(() => iqnFor("not-a-uuid"), InvalidNameError);
    assert.throws(() => wwidFor("1BCC8980-5C86-4FC6-A2BB-B185786F3A5F"), InvalidNameError);
    assert.ok(isGbid(gbid));
  });
  it("cfgstringFor matches the original's targetcli output (43 s by default)", () => {
    const gbid = "1bcc8980-5c86-4fc6-a2bb-b185786f3a5f";
    assert.equal(cfgstringFor("block-test", "localhost", gbid), "block-test@localhost/block-store/1bcc8980-5c86-4fc6-a2bb-b185786f3a5f;tcmur_cmd_time_out=43");
    assert.equal(cfgstringFor("block-test", "localhost", gbid, 0), cfgstringFor("block-test", "localhost", gbid));
    assert.equal(cfgstringFor("v", "10.0.0.1", gbid, 60), `v@10.0.0.1/block-store/${gbid};tcmur_cmd_time_out=60`);
    assert.throws(() => cfgstringFor("v", "a;b", gbid), InvalidNameError);
    assert.throws(() => cfgstringFor("v", "localhost", gbid, -1), RangeError);
  });
});
