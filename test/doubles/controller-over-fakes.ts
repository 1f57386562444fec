// The controller program over a fake gluster-blockd and the Kubernetes API
// stand-in, for a unit test file: started before its tests, stopped after
// them, and before each test the fake holds just the given hosting volumes,
// with its call log cleared and its switches back to their defaults.
import { before, after, beforeEach } from "node:test";
import { FakeBlockd } from "./fake-blockd.js";
import { KubeApiStandin } from "../../lab/harness/kube-api-standin.js";
import { startController, type LocalController } from "../../lab/harness/local-controller.js";

export interface ControllerOverFakes {
  readonly blockd: FakeBlockd;
  readonly kube: KubeApiStandin;
  readonly ctl: LocalController;
}

export function controllerOverFakes(o: { key: string; hosts: readonly string[]; volumes: readonly string[]; flags?: string[] }): ControllerOverFakes {
  let blockd: FakeBlockd | undefined;
  let kube: KubeApiStandin | undefined;
  let ctl: LocalController | undefined;
  before(async () => {
    kube = await new KubeApiStandin().start();
    blockd = await new FakeBlockd(o.key).start([...o.hosts]);
    ctl = await startController({ endpoints: blockd.endpoints, key: o.key, kubeconfig: await kube.kubeconfig(), ...(o.flags ? { flags: o.flags } : {}) });
  });
  after(async () => {
    await ctl?.stop();
    await blockd?.stop();
    await kube?.stop();
  });
  beforeEach(() => {
    const b = started(blockd);
    b.volumes.clear();
    for (const v of o.volumes) b.addVolume(v);
    b.calls.length = 0;
    b.notBegun.clear();
    b.fillsDetails = true;
    b.reportsAclSync = true;
    b.aclUnreachable.clear();
  });
  return {
    get blockd() {
      return started(blockd);
    },
    get kube() {
      return started(kube);
    },
    get ctl() {
      return started(ctl);
    },
  };
}

function started<T>(x: T | undefined): T {
  if (x === undefined) throw new Error("the controller over fakes is used before its before() hook ran");
  return x;
}
