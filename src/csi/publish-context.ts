// publish_context: what ControllerPublishVolume tells NodeStageVolume and
// NodePublishVolume about this node's access. Empty for a read-write
// publish; `readOnly: "true"` when the node's initiator is let in with its
// LUN write protected (a reader access mode, or readonly), so the node mounts
// read-only whatever the capability says (a read-write mount of a write
// protected LUN fails, or is turned read-only by mount(8) behind our back).
export const PUBLISH_CONTEXT_KEY = {
  readOnly: "readOnly",
} as const;

export function publishContext(readOnly: boolean): Record<string, string> {
  return readOnly ? { [PUBLISH_CONTEXT_KEY.readOnly]: "true" } : {};
}

/** Whether the controller published the volume to this node read-only. */
export function publishedReadOnly(ctx: Readonly<Record<string, string>> | undefined): boolean {
  return ctx?.[PUBLISH_CONTEXT_KEY.readOnly] === "true";
}
