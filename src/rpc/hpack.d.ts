// The part of hpack.js (HPACK, RFC 7541) that authority-front.ts uses.
declare module "hpack.js" {
  export interface HpackHeader {
    name: string;
    value: string;
    neverIndex?: boolean;
  }
  interface TableOptions {
    table: { size: number };
  }
  export interface Decompressor {
    write(chunk: Buffer): void;
    execute(): void;
    read(): HpackHeader | null;
  }
  export interface Compressor {
    write(headers: HpackHeader[]): void;
    read(): Buffer | null;
  }
  const hpack: {
    decompressor: { create(options: TableOptions): Decompressor };
    compressor: { create(options: TableOptions): Compressor };
  };
  export default hpack;
}
