import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { StatusError } from "../../../src/rpc/errors.js";
import { parseParameters, BUILTIN_DEFAULTS } from "../../../src/controller/params.js";

const base = { hostingVolume: "block-hv" };

describe("defaults and values", () => {
  test("only hostingVolume: the documented defaults", () => {
    assert.deepEqual(parseParameters(base), { hostingVolume: "block-hv", haCount: 3, auth: true, prealloc: false });
  });
  test("controller defaults apply", () => {
    const p = parseParameters(base, { ...BUILTIN_DEFAULTS, haCount: 1, auth: false, prealloc: true });
    assert.equal(p.haCount, 1);
    assert.equal(p.auth, false);
    assert.equal(p.prealloc, true);
  });
  test("every parameter given", () => {
    const p = parseParameters({
      hostingVolume: "hv",
      haCount: "2",
      hosts: " 10.0.0.2, 10.0.0.1 ,10.0.0.3",
      auth: "false",
      prealloc: "full",
      ringBuffer: "64",
      blockSize: "4096",
      ioTimeout: "60",
      "csi.storage.k8s.io/fstype": "ext4",
      "csi.storage.k8s.io/pv/name": "pvc-1",
      "csi.storage.k8s.io/pvc/name": "data",
      "csi.storage.k8s.io/pvc/namespace": "app",
      "csi.storage.k8s.io/provisioner-secret-name": "ignored",
    });
    assert.deepEqual(p, {
      hostingVolume: "hv",
      haCount: 2,
      hosts: ["10.0.0.2", "10.0.0.1", "10.0.0.3"],
      auth: false,
      prealloc: true,
      ringBufferMb: 64,
      blockSize: 4096,
      ioTimeoutS: 60,
      fsType: "ext4",
      pvName: "pvc-1",
      pvc: { name: "data", namespace: "app" },
    });
  });
  test("prealloc accepts true/false/full/no", () => {
    assert.equal(parseParameters({ ...base, prealloc: "no" }).prealloc, false);
    assert.equal(parseParameters({ ...base, prealloc: "TRUE" }).prealloc, true);
  });
  test("IPv6 hosts are canonical", () => {
    assert.deepEqual(parseParameters({ ...base, haCount: "1", hosts: "fd00::1" }).hosts, ["fd00:0000:0000:0000:0000:0000:0000:0001"]);
  });
});

describe("every invalid parameter is INVALID_ARGUMENT naming it", () => {
  const cases: [string, Record<string, string>, string][] = [
    ["missing hostingVolume", {}, "hostingVolume"],
    ["empty hostingVolume", { hostingVolume: "" }, "hostingVolume"],
    ["bad hostingVolume", { hostingVolume: "a/b" }, "hostingVolume"],
    ["hostingVolume starting with -", { hostingVolume: "-x" }, "hostingVolume"],
    ["haCount not a number", { ...base, haCount: "three" }, "haCount"],
    ["haCount zero", { ...base, haCount: "0" }, "haCount"],
    ["haCount too large", { ...base, haCount: "17" }, "haCount"],
    ["haCount negative", { ...base, haCount: "-1" }, "haCount"],
    ["hosts with a hostname", { ...base, haCount: "1", hosts: "node1" }, "hosts"],
    ["hosts empty", { ...base, hosts: " , " }, "hosts"],
    ["hosts duplicate", { ...base, haCount: "2", hosts: "10.0.0.1,10.0.0.1" }, "hosts"],
    ["hosts fewer than haCount", { ...base, haCount: "3", hosts: "10.0.0.1,10.0.0.2" }, "hosts"],
    ["auth not boolean", { ...base, auth: "yes" }, "auth"],
    ["prealloc unknown", { ...base, prealloc: "half" }, "prealloc"],
    ["ringBuffer zero", { ...base, ringBuffer: "0" }, "ringBuffer"],
    ["ringBuffer too big", { ...base, ringBuffer: "2048" }, "ringBuffer"],
    ["ringBuffer with unit", { ...base, ringBuffer: "64MiB" }, "ringBuffer"],
    ["blockSize not a power of two", { ...base, blockSize: "1536" }, "blockSize"],
    ["blockSize 8192", { ...base, blockSize: "8192" }, "blockSize"],
    ["ioTimeout zero", { ...base, ioTimeout: "0" }, "ioTimeout"],
    ["ioTimeout too long", { ...base, ioTimeout: "3601" }, "ioTimeout"],
    ["fstype unsupported", { ...base, "csi.storage.k8s.io/fstype": "btrfs" }, "csi.storage.k8s.io/fstype"],
    ["unknown parameter", { ...base, hacount: "3" }, "hacount"],
    ["legacy fsType key", { ...base, fsType: "xfs" }, "fsType"],
  ];
  for (const [name, params, param] of cases) {
    test(name, () => {
      assert.throws(
        () => parseParameters(params),
        (e: unknown) => e instanceof StatusError && e.code === status.INVALID_ARGUMENT && e.message.includes(`parameter ${param}:`),
      );
    });
  }
  test("several bad parameters are all named in one answer", () => {
    assert.throws(
      () => parseParameters({ haCount: "x", auth: "maybe", bogus: "1" }),
      (e: unknown) => e instanceof StatusError && ["hostingVolume", "haCount", "auth", "bogus"].every((p) => e.message.includes(`parameter ${p}:`)),
    );
  });
});
