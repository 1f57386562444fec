// An iSCSI portal on loopback that answers the first Login Request as LIO's
// iscsi_target_locate_portal does: an unknown TargetName 0x0203, an initiator
// no ACL of the target admits 0x0202 (initiator not authorized), anyone else
// status 0 with the target's choice of AuthMethod. It keeps each request it
// read (header and text keys) for the test to look at, and can be told to
// stay silent. Nothing else of iSCSI is here.
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";

export interface ReceivedLogin {
  opcode: number;
  immediate: boolean;
  flags: number;
  isid: Buffer;
  tsih: number;
  /** key=value pairs of the data segment, in order */
  keys: [string, string][];
}

export interface FakeTargetAcl {
  /** initiators the target admits; absent: any (generated ACLs) */
  acl?: string[];
}

export class FakeIscsiTarget {
  readonly received: ReceivedLogin[] = [];
  readonly targets = new Map<string, FakeTargetAcl>();
  /** read requests but never answer */
  silent = false;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** connections the client closed */
  closedByClient = 0;

  async start(host = "127.0.0.1"): Promise<string> {
    const server = createServer((socket) => this.serve(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, host, () => resolve());
    });
    const { address, port } = server.address() as AddressInfo;
    return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    let buf = Buffer.alloc(0);
    socket.on("end", () => (this.closedByClient += 1));
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 48) return;
      const dataLength = buf.readUIntBE(5, 3);
      const total = 48 + Math.ceil(dataLength / 4) * 4;
      if (buf.length < total) return;
      const keys = buf
        .subarray(48, 48 + dataLength)
        .toString("utf8")
        .split("\0")
        .filter((kv) => kv !== "")
        .map((kv): [string, string] => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]);
      const login: ReceivedLogin = {
        opcode: (buf[0] ?? 0) & 0x3f,
        immediate: ((buf[0] ?? 0) & 0x40) !== 0,
        flags: buf[1] ?? 0,
        isid: Buffer.from(buf.subarray(8, 14)),
        tsih: buf.readUInt16BE(14),
        keys,
      };
      this.received.push(login);
      buf = buf.subarray(total);
      if (!this.silent) socket.write(this.answer(login));
    });
  }

  private answer(login: ReceivedLogin): Buffer {
    const key = (k: string): string | undefined => login.keys.find(([name]) => name === k)?.[1];
    const target = this.targets.get(key("TargetName") ?? "");
    const initiator = key("InitiatorName") ?? "";
    const [cls, detail, text] = !target ? [2, 3, ""] : target.acl && !target.acl.includes(initiator) ? [2, 2, ""] : [0, 0, "AuthMethod=CHAP\0"];
    const data = Buffer.from(text, "utf8");
    const pdu = Buffer.alloc(48 + Math.ceil(data.length / 4) * 4);
    pdu[0] = 0x23; // Login Response
    pdu.writeUIntBE(data.length, 5, 3);
    login.isid.copy(pdu, 8);
    pdu[36] = cls;
    pdu[37] = detail;
    data.copy(pdu, 48);
    return pdu;
  }
}
