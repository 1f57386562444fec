// A small plain-HTTP endpoint for the programs' side doors (/metrics, the
// kubelet's probes): an address parser and a GET-only server of fixed paths.
import { createServer, type Server, type ServerResponse } from "node:http";
import type { Logger } from "./log.js";

export class HttpAddressError extends Error {
  override readonly name = "HttpAddressError";
}

export interface HttpAddress {
  host: string;
  port: number;
}

/** ":9822", "0.0.0.0:9822", "127.0.0.1:0", "[::1]:9822" */
export function parseHttpAddress(text: string): HttpAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port > 65535) throw new HttpAddressError(`address ${JSON.stringify(text)} is not [host]:port`);
  const host = m[1] ?? m[2] ?? "";
  return { host: host === "" ? "0.0.0.0" : host, port };
}

export interface HttpEndpoint {
  /** host:port actually bound (port 0 resolved) */
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** path -> what answers it; any other path is 404, any method but GET and HEAD 405 */
export type HttpRoutes = Readonly<Record<string, (res: ServerResponse) => void>>;

export function answerText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { "content-type": "text/plain" }).end(text);
}

export async function serveHttp(routes: HttpRoutes, address: HttpAddress, log: Logger, what: string): Promise<HttpEndpoint> {
  const paths = Object.keys(routes);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (route === undefined) answerText(res, 404, `not found: try ${paths.join(" or ")}\n`);
    else route(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(address.port, address.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address();
  const port = bound !== null && typeof bound === "object" ? bound.port : address.port;
  const shown = `${address.host.includes(":") ? `[${address.host}]` : address.host}:${port}`;
  log.info(`${what} listening`, { address: shown, paths });
  return {
    address: shown,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
