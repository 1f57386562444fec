// blockd's TCP listener: the Blockd service for the CSI controller and the
// BlockdPeer service for the other storage nodes, behind the same checks.
// With TLS (tls.ts) the handshake refuses a client without a valid
// certificate of the CA before any RPC exists; every call is then checked
// again for the verified certificate (a listener that came up without TLS by
// mistake must serve no one) and, with a shared key (peer-auth.ts), for the
// x-blockd-key header. A refused call is UNAUTHENTICATED and its handler never runs.
import { GrpcServer } from "../../rpc/server.js";
import { blockdProto } from "../../rpc/proto.js";
import { wrapService, type WrapOptions } from "../../rpc/rpc.js";
import type { Endpoint } from "../../rpc/endpoint.js";
import type { Logger } from "../../util/log.js";
import { keyMatches, KEY_HEADER } from "../../rpc/peer-auth.js";
import { tlsServerCredentials, type BlockdTls } from "../../rpc/tls.js";

export interface TcpApiOptions {
  listen: Endpoint;
  /** the shared key every caller must send */
  key?: string;
  /** mutual TLS: every caller must present a certificate of the CA */
  tls?: BlockdTls;
  /** the Blockd service's handlers (services.ts blockdService) */
  blockd: object;
  /** the BlockdPeer service's handlers (services.ts peerService) */
  peer: object;
  /** logger, error map, metrics; authorize is set here */
  wrap: WrapOptions;
  log: Logger;
}

export type Authorize = NonNullable<WrapOptions["authorize"]>;

export function tcpAuthorizer(key: string | undefined, tls: boolean): Authorize {
  return (md, _peer, auth) => {
    if (tls && (auth.transportSecurityType !== "ssl" || !auth.sslPeerCertificate)) return "a client certificate signed by the blockd CA is required";
    if (key !== undefined && !keyMatches(key, md.get(KEY_HEADER)[0])) return "a valid blockd key is required";
    return undefined;
  };
}

export interface RunningTcpApi {
  server: GrpcServer;
  /** tcp://host:port actually bound (port 0 picks one) */
  address: string;
}

export async function serveTcpApi(o: TcpApiOptions): Promise<RunningTcpApi> {
  const proto = blockdProto().glusterblock.v1;
  const opts: WrapOptions = { ...o.wrap, authorize: tcpAuthorizer(o.key, o.tls !== undefined) };
  const server = new GrpcServer(o.log);
  server.addService(proto.Blockd.service, wrapService(proto.Blockd.service, o.blockd, opts));
  server.addService(proto.BlockdPeer.service, wrapService(proto.BlockdPeer.service, o.peer, opts));
  const address = await server.listen({ endpoint: o.listen, ...(o.tls ? { credentials: tlsServerCredentials(o.tls) } : {}) });
  if (o.tls) o.log.info("the TCP API requires a client certificate of the blockd CA", { certificate: o.tls.subject, validTo: o.tls.validTo.toISOString(), sharedKey: o.key !== undefined });
  else if (!o.key) o.log.warn("no --key-file and no TLS: the TCP API accepts any caller; configure TLS (--tls-cert, --tls-key, --tls-ca) or a shared key in production");
  return { server, address };
}
