// An iSCSI portal as text: "ip:port", an IPv6 address in brackets. The one
// form LIO names its network portals by, iscsiadm takes and shows, and the
// volume context carries, so that portals compare as strings everywhere.

/** The iSCSI port (IANA's), where every storage node's LIO listens unless configured otherwise. */
export const DEFAULT_ISCSI_PORT = 3260;

/** "10.0.0.1:3260", "[fd00::1]:3260"; an address already in brackets keeps them. */
export function portalOf(host: string, port: number | string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** "10.0.0.1:3260" -> {host "10.0.0.1", port 3260}; "[fd00::1]:3260" -> {host "fd00::1", port 3260}; undefined for anything else. */
export function splitPortal(portal: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^[\]:]+)):(\d{1,5})$/.exec(portal);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  return host && port > 0 && port < 65536 ? { host, port } : undefined;
}
