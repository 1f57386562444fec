// An error met by the import, in one line for the admin: blockd's status
// (its code name and message), the Kubernetes API's (with what a 403 means
// here), anything else's message; CHAP passwords scrubbed.
import { StatusError } from "../../rpc/errors.js";
import { scrubSecrets } from "../../util/secrets.js";
import { KubeApiError } from "../errors.js";

export function describeError(err: unknown): string {
  if (err instanceof StatusError) return scrubSecrets(`gluster-blockd: ${err.codeName}: ${err.message}`);
  if (err instanceof KubeApiError && err.httpStatus === 403)
    return `${err.message} (the chart grants the import's calls with --set controller.import.enabled=true: deploy/helm/gluster-block-csi/templates/controller-import-clusterrole.yaml)`;
  return scrubSecrets(err instanceof Error ? err.message : String(err));
}
