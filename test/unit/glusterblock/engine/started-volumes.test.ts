import { test } from "node:test";
import assert from "node:assert/strict";
import { StartedVolumes } from "../../../../src/glusterblock/engine/started-volumes.js";
import { VolumeNotStartedError, VolumeNotFoundError } from "../../../../src/glusterblock/errors.js";
import type { VolumeInfo } from "../../../../src/glusterblock/gluster/gluster-cli.js";
import { localEngine } from "../../../helpers/local-engine.js";

const info = (name: string, started: boolean): VolumeInfo => ({ name, started, type: "Replicate", replicaCount: 3, bricks: [], options: {} });

/** A glusterd stand-in that counts questions; `state` is what it answers. */
function glusterd(state: Record<string, boolean | Error>): { ask: (v: string) => () => Promise<VolumeInfo>; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    ask: (v) => () => {
      asked.push(v);
      const s = state[v];
      if (s instanceof Error) return Promise.reject(s);
      if (s === undefined) return Promise.reject(new VolumeNotFoundError(v));
      return Promise.resolve(info(v, s));
    },
  };
}

test("a started volume is asked about once within the TTL, again after it, each volume on its own", async () => {
  let t = 0;
  const sv = new StartedVolumes(10_000, () => t);
  const g = glusterd({ a: true, b: true });
  await sv.check("a", g.ask("a"));
  t = 9_999;
  await sv.check("a", g.ask("a"));
  await sv.check("b", g.ask("b"));
  assert.deepEqual(g.asked, ["a", "b"]);
  t = 10_000;
  await sv.check("a", g.ask("a"));
  assert.deepEqual(g.asked, ["a", "b", "a"]);
});

test("not started, missing or failing: refused every time and asked every time; started later, used at once", async () => {
  const t = 0;
  const sv = new StartedVolumes(10_000, () => t);
  const state: Record<string, boolean | Error> = { a: false, err: new Error("glusterd is not answering") };
  const g = glusterd(state);
  await assert.rejects(sv.check("a", g.ask("a")), VolumeNotStartedError);
  await assert.rejects(sv.check("a", g.ask("a")), VolumeNotStartedError);
  await assert.rejects(sv.check("gone", g.ask("gone")), VolumeNotFoundError);
  await assert.rejects(sv.check("err", g.ask("err")), /not answering/);
  await assert.rejects(sv.check("err", g.ask("err")), /not answering/);
  state.a = true;
  await sv.check("a", g.ask("a"));
  assert.deepEqual(g.asked, ["a", "a", "gone", "err", "err", "a"]);
});

test("a TTL of 0 asks every time", async () => {
  const sv = new StartedVolumes(0, () => 0);
  const g = glusterd({ a: true });
  await sv.check("a", g.ask("a"));
  await sv.check("a", g.ask("a"));
  assert.deepEqual(g.asked, ["a", "a"]);
});

test("the engine and its per-call copies share the answer: operations in a row ask glusterd once", async () => {
  const local = await localEngine("started-vol", ["10.0.0.1"], "gb-started-");
  try {
    await local.engine.list("started-vol");
    await local.engine.withSignal(new AbortController().signal).list("started-vol");
    await local.engine.withSignal(new AbortController().signal).list("started-vol");
    assert.equal(local.glusterAsked(), 1);
  } finally {
    await local.cleanup();
  }
});

test("calls at once ask one question; when it fails, each waiting call asks its own", async () => {
  const sv = new StartedVolumes(10_000, () => 0);
  const asked: string[] = [];
  let answer: ((i: VolumeInfo) => void) | undefined;
  const slow = (who: string) => () => {
    asked.push(who);
    return new Promise<VolumeInfo>((resolve) => (answer = resolve));
  };
  const calls = [sv.check("a", slow("first")), sv.check("a", slow("second")), sv.check("a", slow("third"))];
  assert.deepEqual(asked, ["first"], "one question while it is out");
  answer?.(info("a", true));
  await Promise.all(calls);

  // the question out fails (its caller's deadline passed): the calls that waited on it ask for themselves
  const sv2 = new StartedVolumes(10_000, () => 0);
  const asked2: string[] = [];
  let fail: ((e: Error) => void) | undefined;
  const first = sv2.check("a", () => {
    asked2.push("first");
    return new Promise<VolumeInfo>((_, reject) => (fail = reject));
  });
  const second = sv2.check("a", () => {
    asked2.push("second");
    return Promise.resolve(info("a", true));
  });
  fail?.(new Error("cancelled: the caller's deadline passed"));
  await assert.rejects(first, /deadline/);
  await second;
  assert.deepEqual(asked2, ["first", "second"]);
});
