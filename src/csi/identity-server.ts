// CSI Identity service, shared by the controller and node programs.
import type { IdentityHandlers } from "../generated/csi/v1/Identity.js";
import type { PluginCapability } from "../generated/csi/v1/PluginCapability.js";
import type { AsyncHandlers } from "../rpc/rpc.js";
import { failedPrecondition } from "../rpc/errors.js";
import { VERSION } from "../util/version.js";

/** DNS-style driver name: what the CSIDriver object and StorageClasses name. */
export const DEFAULT_DRIVER_NAME = "block.csi.gluster.org";

export interface Readiness {
  ready: boolean;
  /** why not ready; logged and returned to the caller */
  reason?: string;
  /**
   * Not ready, yet healthy: waiting on something outside the plugin (the
   * spec's "still initializing"). Answered as a success with ready false,
   * which the sidecars wait on; an error makes them exit.
   */
  waiting?: boolean;
}

export interface IdentityOptions {
  driverName: string;
  capabilities: PluginCapability[];
  /** the real readiness check of the program (tools present, state dir writable, blockd reachable...) */
  probe: () => Promise<Readiness>;
  manifest?: Record<string, string>;
}

export function identityServer(opts: IdentityOptions): AsyncHandlers<IdentityHandlers> {
  return {
    GetPluginInfo: () => Promise.resolve({ name: opts.driverName, vendor_version: VERSION, manifest: opts.manifest ?? {} }),
    GetPluginCapabilities: () => Promise.resolve({ capabilities: opts.capabilities }),
    async Probe(_req, ctx) {
      const r = await opts.probe();
      if (!r.ready && r.waiting) {
        ctx.log.warn("not ready yet", { reason: r.reason });
        return { ready: { value: false } };
      }
      if (!r.ready) {
        ctx.log.warn("not ready", { reason: r.reason });
        // the spec's answer for a plugin that is unhealthy for a known reason
        throw failedPrecondition(`not ready: ${r.reason ?? "unknown"}`);
      }
      return { ready: { value: true } };
    },
  };
}

export const CONTROLLER_PLUGIN_CAPABILITIES: PluginCapability[] = [{ service: { type: "CONTROLLER_SERVICE" } }, { volume_expansion: { type: "ONLINE" } }];

/**
 * The controller's capabilities, with VOLUME_ACCESSIBILITY_CONSTRAINTS only
 * when topology is on: with it, external-provisioner sends accessibility
 * requirements and requires the topology key on a WaitForFirstConsumer
 * claim's selected node ("no topology key found for node"), so a cluster
 * whose nodes report no zone must not see it.
 */
export function controllerPluginCapabilities(topology: boolean): PluginCapability[] {
  return topology ? [...CONTROLLER_PLUGIN_CAPABILITIES, { service: { type: "VOLUME_ACCESSIBILITY_CONSTRAINTS" } }] : CONTROLLER_PLUGIN_CAPABILITIES;
}

/** The node plugin serves no controller; it still tells the truth about expansion. */
export const NODE_PLUGIN_CAPABILITIES: PluginCapability[] = [{ volume_expansion: { type: "ONLINE" } }];

/** Validates a CSI driver name: DNS subdomain, at most 63 characters (CSI spec GetPluginInfo). */
export function validateDriverName(name: string): string | undefined {
  if (name.length === 0 || name.length > 63) return "driver name must be 1 to 63 characters";
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name))
    return "driver name must be a DNS subdomain: lower case alphanumerics, '-' and '.', starting and ending with an alphanumeric";
  return undefined;
}
