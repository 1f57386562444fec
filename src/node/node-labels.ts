// A Node's labels as the node plugin's topology reads them (node-topology.ts),
// and the error a failed read raises. Reading them through the Kubernetes API
// is node-labels-api.ts, loaded only when a zone label is configured: the
// Kubernetes client is most of the program's code, and a node plugin without
// topology never needs it.
/** A Node's labels; undefined when there is no such Node. */
export type NodeLabels = (nodeName: string) => Promise<Record<string, string> | undefined>;

export class NodeLabelsError extends Error {
  override readonly name = "NodeLabelsError";
  constructor(
    /** 0 for a network error or a timeout */
    readonly httpStatus: number,
    message: string,
  ) {
    super(message);
  }
}
