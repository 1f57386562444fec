// CSI endpoints as the sidecars write them: unix:///csi/csi.sock, or a bare
// path; TCP as tcp://host:port or host:port (blockd's peer API).
export type Endpoint = { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number };

export class EndpointError extends Error {
  override readonly name = "EndpointError";
}

export function parseEndpoint(text: string): Endpoint {
  const t = text.trim();
  if (t.startsWith("unix://")) {
    const path = t.slice("unix://".length);
    if (!path.startsWith("/")) throw new EndpointError(`endpoint ${JSON.stringify(text)}: a unix socket path must be absolute (unix:///path)`);
    return { kind: "unix", path };
  }
  if (t.startsWith("/")) return { kind: "unix", path: t };
  const hp = t.startsWith("tcp://") ? t.slice("tcp://".length) : t;
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(hp);
  if (!m?.[1] || !m[2]) throw new EndpointError(`endpoint ${JSON.stringify(text)}: expected unix:///path, /path or tcp://host:port`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new EndpointError(`endpoint ${JSON.stringify(text)}: port out of range`);
  return { kind: "tcp", host: m[1], port };
}

/** The address string grpc-js expects. */
export function grpcAddress(e: Endpoint): string {
  return e.kind === "unix" ? `unix:${e.path}` : `${e.host}:${e.port}`;
}

export function describeEndpoint(e: Endpoint): string {
  return e.kind === "unix" ? `unix://${e.path}` : `tcp://${e.host}:${e.port}`;
}
