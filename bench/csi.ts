// The CSI controller's share of the bench: the controller runs on the host,
// as in the controller e2e, against gluster-blockd on the lab VMs; a
// Kubernetes API stand-in takes the CHAP Secrets. Figures: CreateVolume/DeleteVolume
// ha 1 and ha 3, ControllerPublish/Unpublish, and N CreateVolume calls at
// once against the same N one after another.
import type { Lab, LabNode } from "../lab/harness/lab.js";
import { BLOCKD_KEY, labControllerTls } from "../lab/harness/product.js";
import { KubeApiStandin } from "../lab/harness/kube-api-standin.js";
import { startController, mountCap, MiB, type LocalController } from "../lab/harness/local-controller.js";
import { median, timed } from "./timing.js";

export interface CsiBench {
  create: Record<1 | 3, number[]>;
  remove: Record<1 | 3, number[]>;
  publish: number[];
  unpublish: number[];
  parallel: { count: number; wallS: number; sequentialS: number; failures: number };
}

const createReq = (name: string, ha: number) => ({
  name,
  capacity_range: { required_bytes: String(320 * MiB) }, // xfs: at least 300 MiB
  volume_capabilities: [mountCap("xfs")],
  parameters: { hostingVolume: "block-test", haCount: String(ha), "csi.storage.k8s.io/pv/name": name },
});

async function initiatorOf(n: LabNode): Promise<string> {
  return (await n.must("sed -n 's/^InitiatorName=//p' /etc/iscsi/initiatorname.iscsi")).stdout.trim();
}

export async function benchCsi(lab: Lab, o: { reps: number; parallel: number; log: (s: string) => void }): Promise<CsiBench> {
  const kube = await new KubeApiStandin().start();
  let ctl: LocalController | undefined;
  const made = new Set<string>();
  const create = async (name: string, ha: number): Promise<string> => {
    made.add(name);
    const r = await ctl!.call<{ volume?: { volume_id: string } }>("CreateVolume", createReq(name, ha), 600_000);
    return r.volume?.volume_id ?? "";
  };
  const remove = async (name: string): Promise<void> => {
    await ctl!.call("DeleteVolume", { volume_id: `v1/block-test/${name}` }, 600_000);
    made.delete(name);
  };
  const out: CsiBench = {
    create: { 1: [], 3: [] },
    remove: { 1: [], 3: [] },
    publish: [],
    unpublish: [],
    parallel: { count: o.parallel, wallS: 0, sequentialS: 0, failures: 0 },
  };
  try {
    ctl = await startController({
      endpoints: lab.addresses.map((a) => `${a}:24010`),
      key: BLOCKD_KEY,
      tls: await labControllerTls(),
      kubeconfig: await kube.kubeconfig(),
      namespace: "gluster-block-csi",
    });
    const nodeId = `n1/${await initiatorOf(lab.node(1))}`;
    for (const ha of [1, 3] as const) {
      for (let r = 0; r < o.reps; r++) {
        const name = `pvc-bench-${ha}-${r}`;
        let id = "";
        out.create[ha].push(await timed(async () => void (id = await create(name, ha))));
        if (ha === 3) {
          const pub = { volume_id: id, node_id: nodeId, volume_capability: mountCap("xfs") };
          out.publish.push(await timed(() => ctl!.call("ControllerPublishVolume", pub, 300_000)));
          out.unpublish.push(await timed(() => ctl!.call("ControllerUnpublishVolume", { volume_id: id, node_id: nodeId }, 300_000)));
        }
        out.remove[ha].push(await timed(() => remove(name)));
      }
    }
    const m = (x: number[]): string => median(x).toFixed(2);
    o.log(
      `CSI: CreateVolume ha 1 ${m(out.create[1])} s, ha 3 ${m(out.create[3])} s; DeleteVolume ha 1 ${m(out.remove[1])} s, ha 3 ${m(out.remove[3])} s; ControllerPublish ${m(out.publish)} s, Unpublish ${m(out.unpublish)} s (medians of ${o.reps})`,
    );

    const names = Array.from({ length: o.parallel }, (_, i) => `pvc-bench-par-${i}`);
    out.parallel.sequentialS = await timed(async () => {
      for (const n of names) await create(n, 3);
    });
    for (const n of names) await remove(n);
    out.parallel.wallS = await timed(async () => {
      const rs = await Promise.allSettled(names.map((n) => create(n, 3)));
      out.parallel.failures = rs.filter((r) => r.status === "rejected").length;
      for (const r of rs)
        if (r.status === "rejected") o.log(`parallel CreateVolume failed: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`);
    });
    for (const n of names) await remove(n).catch(() => undefined);
    o.log(
      `CSI: ${o.parallel} CreateVolume at once ${out.parallel.wallS.toFixed(1)} s vs one after another ${out.parallel.sequentialS.toFixed(1)} s, ${out.parallel.failures} failed`,
    );
  } finally {
    for (const n of made) await remove(n).catch(() => undefined);
    await ctl?.stop();
    await kube.stop();
  }
  return out;
}
