// A gRPC server on a unix socket (CSI) or TCP (blockd's peer API) with a
// graceful stop: stop accepting, let running calls finish (bounded), then
// remove the socket file.
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { mkdir, rm, chmod, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Server as NetServer } from "node:net";
import { listenFront } from "./authority-front.js";
import { grpcAddress, describeEndpoint, type Endpoint } from "./endpoint.js";
import type { Logger } from "../util/log.js";
import { logTlsRefusals } from "./tls-refusals.js";

export interface ListenOptions {
  endpoint: Endpoint;
  /** TCP only; unix sockets are protected by file mode. With TLS, the handshakes it refuses are logged. */
  credentials?: ServerCredentials;
  /** unix only: file mode of the socket (CLI socket: 0o600, root only) */
  socketMode?: number;
  /**
   * unix only: serve through authority-front.ts, which accepts calls whose
   * HTTP/2 :authority is the socket's path (kubelets before 1.26); the gRPC
   * server itself then listens on a hidden socket beside the endpoint
   */
  pathAuthority?: boolean;
}

export class GrpcServer {
  private readonly server = new Server({
    "grpc.max_receive_message_length": 4 * 1024 * 1024,
    "grpc.keepalive_permit_without_calls": 1,
  });
  private readonly sockets: string[] = [];
  private readonly fronts: NetServer[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly log: Logger) {}

  addService(definition: ServiceDefinition, impl: UntypedServiceImplementation): this {
    this.server.addService(definition, impl);
    return this;
  }

  async listen(opts: ListenOptions): Promise<string> {
    const e = opts.endpoint;
    const inner = e.kind === "unix" && opts.pathAuthority ? join(dirname(e.path), `.${basename(e.path)}.grpc`) : undefined;
    if (e.kind === "unix") {
      await mkdir(dirname(e.path), { recursive: true });
      for (const path of inner ? [e.path, inner] : [e.path]) await removeStaleSocket(path);
    }
    const creds = e.kind === "tcp" ? (opts.credentials ?? ServerCredentials.createInsecure()) : ServerCredentials.createInsecure();
    const bindTo = inner ? `unix://${inner}` : grpcAddress(e);
    const port = await new Promise<number>((resolve, reject) => this.server.bindAsync(bindTo, creds, (err, p) => (err ? reject(err) : resolve(p))));
    if (e.kind === "tcp" && opts.credentials) logTlsRefusals(this.server, this.log);
    if (e.kind === "unix") {
      if (inner) {
        this.sockets.push(inner);
        if (opts.socketMode !== undefined) await chmod(inner, opts.socketMode);
        this.fronts.push(await listenFront(e.path, inner, { error: (err) => this.log.warn("authority front: connection closed", { error: err.message }) }));
        this.log.info("calls whose :authority is the socket path are accepted (kubelets before 1.26)", { endpoint: describeEndpoint(e) });
      }
      this.sockets.push(e.path);
      if (opts.socketMode !== undefined) await chmod(e.path, opts.socketMode);
    }
    const where = e.kind === "tcp" ? `tcp://${e.host}:${port}` : describeEndpoint(e);
    this.log.info("listening", { endpoint: where });
    return where;
  }

  /** Drain: refuse new calls, wait for running ones up to `graceMs`, then cancel the rest. Idempotent. */
  stop(graceMs = 10_000): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info("shutting down", { graceMs });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.log.warn("grace period over, cancelling running calls");
          this.server.forceShutdown();
          resolve();
        }, graceMs);
        this.server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      for (const f of this.fronts) f.close();
      for (const s of this.sockets) await rm(s, { force: true });
      this.log.info("stopped");
    })();
    return this.stopping;
  }
}

/** A socket left by a killed predecessor would make bind fail with EADDRINUSE; anything else at the path is refused. */
async function removeStaleSocket(path: string): Promise<void> {
  const st = await stat(path).catch(() => undefined);
  if (st?.isSocket()) await rm(path, { force: true });
  else if (st) throw new Error(`${path} exists and is not a socket; refusing to replace it`);
}
