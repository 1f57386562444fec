// The protos compile with Debian's protoc without a single warning, and the
// checked-in generated types are exactly what the generator makes from them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { ROOT } from "../helpers/spawn-program.js";
import { csiProto, blockdProto } from "../../src/rpc/proto.js";

for (const file of ["csi.proto", "blockd.proto"]) {
  test(`protoc compiles ${file} without warnings`, async () => {
    const out = join(await mkdtemp(join(tmpdir(), "protoc-")), "d.pb");
    const r = spawnSync("protoc", [`--proto_path=${join(ROOT, "csi-proto")}`, "--proto_path=/usr/include", `--descriptor_set_out=${out}`, file], { encoding: "utf8" });
    assert.equal(r.error, undefined, `protoc could not run (install protobuf-compiler): ${String(r.error)}`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "", "protoc printed warnings");
    assert.ok((await stat(out)).size > 1000);
  });
}

test("csi.proto carries the CSI services with their published RPCs", () => {
  const v1 = csiProto().csi.v1;
  assert.deepEqual(Object.keys(v1.Identity.service).sort(), ["GetPluginCapabilities", "GetPluginInfo", "Probe"]);
  assert.equal(v1.Identity.service.GetPluginInfo.path, "/csi.v1.Identity/GetPluginInfo");
  for (const m of ["CreateVolume", "DeleteVolume", "ControllerPublishVolume", "ControllerUnpublishVolume", "ValidateVolumeCapabilities", "ListVolumes", "GetCapacity", "ControllerGetCapabilities", "ControllerExpandVolume", "ControllerGetVolume"]) {
    assert.ok(m in v1.Controller.service, m);
  }
  for (const m of ["NodeStageVolume", "NodeUnstageVolume", "NodePublishVolume", "NodeUnpublishVolume", "NodeGetVolumeStats", "NodeExpandVolume", "NodeGetCapabilities", "NodeGetInfo"]) {
    assert.ok(m in v1.Node.service, m);
  }
  assert.ok(blockdProto().glusterblock.v1.Blockd.service.CreateBlock);
});

async function listFiles(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p, base)));
    else out.push(relative(base, p));
  }
  return out.sort();
}

test("src/generated is up to date with csi-proto (run npm run gen)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "gen-"));
  try {
    const r = spawnSync(process.execPath, [join(ROOT, "scripts/gen-proto-types.mjs"), dir], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const fresh = await listFiles(dir);
    const checkedIn = await listFiles(join(ROOT, "src/generated"));
    assert.deepEqual(checkedIn, fresh);
    for (const f of fresh) {
      assert.equal(await readFile(join(ROOT, "src/generated", f), "utf8"), await readFile(join(dir, f), "utf8"), f);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
