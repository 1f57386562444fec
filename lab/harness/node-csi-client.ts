// Runs inside a lab VM (bundled by product.ts's buildProduct): reads a JSON array
// of CSI Node calls on stdin, makes them in order on the plugin's unix
// socket, prints one JSON result per call on stdout. One process for many
// calls, because every process start is slow under qemu TCG.
//   [{ "method": "NodeStageVolume", "request": {...} }, ...]
// A result: { method, ok, code, details, response, ms }.
import { credentials } from "@grpc/grpc-js";
import { csiProto } from "../../src/rpc/proto.js";
import { unary } from "../../src/rpc/unary-client.js";

interface Call {
  method: string;
  request: unknown;
  /** stop the batch when this call fails */
  stopOnError?: boolean;
  /** retries on the codes kubelet treats as "in progress" (DEADLINE_EXCEEDED, ABORTED, UNAVAILABLE), 1 s apart */
  retries?: number;
}

const RETRYABLE = new Set([4, 10, 14]);

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function main(): Promise<void> {
  const socket = process.argv[2] ?? "/run/gbcsi-node.sock";
  const calls = JSON.parse(await readStdin()) as Call[];
  const v1 = csiProto().csi.v1;
  const node = new v1.Node(`unix://${socket}`, credentials.createInsecure());
  const identity = new v1.Identity(`unix://${socket}`, credentials.createInsecure());
  for (const c of calls) {
    const client = c.method === "Probe" || c.method === "GetPluginInfo" ? identity : node;
    const t0 = performance.now();
    let attempts = 0;
    for (;;) {
      attempts++;
      try {
        const response = await unary(client, c.method, c.request, { timeoutMs: 130_000 });
        process.stdout.write(
          JSON.stringify({ method: c.method, ok: true, code: 0, details: "", response, ms: Math.round(performance.now() - t0), attempts }) + "\n",
        );
        break;
      } catch (err) {
        const e = err as { code?: number; details?: string; message?: string };
        if (e.code !== undefined && RETRYABLE.has(e.code) && attempts <= (c.retries ?? 0)) {
          await new Promise((r) => setTimeout(r, 1_000));
          continue;
        }
        process.stdout.write(
          JSON.stringify({
            method: c.method,
            ok: false,
            code: e.code ?? -1,
            details: e.details ?? e.message ?? String(err),
            response: null,
            ms: Math.round(performance.now() - t0),
            attempts,
          }) + "\n",
        );
        if (c.stopOnError) return finish(node, identity);
        break;
      }
    }
  }
  finish(node, identity);
}

function finish(...clients: { close(): void }[]): void {
  for (const c of clients) c.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
