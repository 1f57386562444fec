// gluster-blockd's answers to the kubelet's probes, on plain HTTP (no data
// crosses it): /healthz is 200 while the process serves; /readyz is 200 only
// once the start-up reconcile has brought this node's LIO back to the
// journals, 503 before. A node rebooted with its LIO empty is then not Ready
// while its targets are missing, so a rolling update (one storage node at a
// time) waits for them before it stops the next node's blockd.
import { answerText, serveHttp, type HttpAddress, type HttpEndpoint } from "../../util/http-endpoint.js";
import type { Logger } from "../../util/log.js";

export function serveProbes(address: HttpAddress, reconciled: Promise<void>, log: Logger): Promise<HttpEndpoint> {
  let ready = false;
  // the start-up reconcile logs its own failures and settles either way: a
  // volume it could not mend is in the log and the audit, not a node held
  // out of service forever
  const settle = (): void => {
    if (!ready) log.info("ready: the start-up reconcile is over");
    ready = true;
  };
  reconciled.then(settle, settle);
  return serveHttp(
    {
      "/healthz": (res) => answerText(res, 200, "ok\n"),
      "/readyz": (res) => (ready ? answerText(res, 200, "ok\n") : answerText(res, 503, "not ready: reconciling this node's LIO to the journals\n")),
    },
    address,
    log,
    "probe endpoint",
  );
}
