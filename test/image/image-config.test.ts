// The built image's configuration is the Dockerfile's: tini as the entry
// point, the controller's help as the default command, a non-root user that
// exists in the image, production mode, and a healthcheck that answers while
// a program serves its metrics port.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { inspectImage, type ImageFacts } from "../../image/buildah.js";
import { RECIPE_LABEL } from "../../image/config.js";
import { openImage, type ImageContainer } from "../helpers/image-container.js";

let image: ImageContainer;
let facts: ImageFacts;
before(async () => {
  image = await openImage();
  const f = await inspectImage(image.build.product.ref);
  assert.ok(f, `${image.build.product.ref} is in buildah's storage`);
  facts = f;
});
after(async () => image?.remove());

test("entry point tini, default command the controller's help, working directory /app, production mode", () => {
  for (const config of [facts.docker, facts.oci]) {
    assert.deepEqual(config.Entrypoint, ["/usr/bin/tini", "-s", "--"]);
    assert.deepEqual(config.Cmd, ["gluster-block-csi", "--help"]);
    assert.equal(config.WorkingDir, "/app");
    assert.ok(config.Env?.includes("NODE_ENV=production"), JSON.stringify(config.Env));
  }
  assert.equal(facts.oci.Labels?.[RECIPE_LABEL], image.build.product.hash, "the image carries the recipe it was built from");
});

test("runs as uid/gid 10001, the system user gbcsi (no home, no login shell), unless the pod says otherwise", async () => {
  assert.equal(facts.docker.User, "10001:10001");
  assert.equal(facts.oci.User, "10001:10001");
  const passwd = readFileSync(join(image.root, "etc/passwd"), "utf8");
  assert.match(passwd, /^gbcsi:x:10001:10001:[^:]*:[^:]*:\/usr\/sbin\/nologin$/m);
  assert.match(readFileSync(join(image.root, "etc/group"), "utf8"), /^gbcsi:x:10001:$/m);
  const id = await image.run(["id"]);
  assert.equal(id.code, 0, id.stderr);
  assert.match(id.stdout, /^uid=10001\(gbcsi\) gid=10001\(gbcsi\)/);
});

test("the default command, entry point and command as the image sets them, prints the controller's usage", async () => {
  const r = await image.run([...(facts.oci.Entrypoint ?? []), ...(facts.oci.Cmd ?? [])]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^usage: gluster-block-csi <controller\|node\|import> \[flags\]/);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

test("HEALTHCHECK (Docker format) fails with nothing listening and passes while the controller serves --metrics-address", async () => {
  const hc = facts.docker.Healthcheck;
  assert.ok(hc?.Test, "the image keeps the Dockerfile's HEALTHCHECK");
  assert.equal(hc.Test[0], "CMD");
  assert.deepEqual([hc.Interval, hc.Timeout, hc.StartPeriod], [30e9, 5e9, 20e9]);
  const check = hc.Test.slice(1);
  // the image's processes share this host's network (chroot isolation): a free port, named through the variable the check reads
  const port = String(await freePort());
  const env = { GBCSI_HEALTH_PORT: port };
  const idle = await image.run(check, { env });
  assert.equal(idle.code, 1, "nothing listens yet");
  const script = [
    `gluster-block-csi controller --endpoint unix:///tmp/hc.sock --kube-api off --blockd-endpoints 127.0.0.1:9 --blockd-insecure-no-auth --metrics-address 127.0.0.1:${port} >/tmp/hc.log 2>&1 &`,
    "pid=$!",
    'i=0; while [ ! -S /tmp/hc.sock ] && kill -0 "$pid" 2>/dev/null && [ "$i" -lt 600 ]; do sleep 0.1; i=$((i+1)); done',
    '"$@"; echo "health=$?"',
    'kill -TERM "$pid"; wait "$pid"; echo "exit=$?"',
    "cat /tmp/hc.log",
  ].join("\n");
  const r = await image.run(["sh", "-c", script, "sh", ...check], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^health=0$/m, r.stdout);
  assert.match(r.stdout, /^exit=0$/m, r.stdout);
});
