// Small actions both parts of the demo take in the lab.
import type { LabNode } from "../lab/harness/lab.js";
import { cli } from "../lab/harness/product.js";
import { VOLUME } from "./context.js";

/** gluster-block delete; "was not there" when the block does not exist (exit 2). */
export async function deleteBlock(n: LabNode, name: string): Promise<string> {
  const r = await cli(n, ["delete", `${VOLUME}/${name}`]);
  if (r.code === 2) return "was not there";
  if (r.code !== 0) throw new Error(`gluster-block delete ${VOLUME}/${name}: exit ${r.code}\n${r.stdout}${r.stderr}`);
  return /^RESULT: .*$/m.exec(r.stdout)?.[0] ?? "deleted";
}

/** The blocks of the hosting volume, from `gluster-block list --json` ({"blocks": [...]}, or {"RESULT": ...} when none). */
export async function blocksListed(n: LabNode): Promise<string[]> {
  const r = await cli(n, ["list", VOLUME, "--json"]);
  if (r.code !== 0) throw new Error(`gluster-block list ${VOLUME}: exit ${r.code}\n${r.stdout}${r.stderr}`);
  const parsed = JSON.parse(r.stdout) as { blocks?: unknown };
  return Array.isArray(parsed.blocks) ? parsed.blocks.filter((b): b is string => typeof b === "string") : [];
}

export async function blockListed(n: LabNode, name: string): Promise<boolean> {
  return (await blocksListed(n)).includes(name);
}

/** How many mounts on the node have `needle` in their target path. */
export async function mountsNaming(n: LabNode, needle: string): Promise<number> {
  const r = await n.must(["findmnt", "-J", "-o", "TARGET"]);
  const all = (JSON.parse(r.stdout) as { filesystems?: FindmntEntry[] }).filesystems ?? [];
  const flat = (fs: readonly FindmntEntry[]): string[] => fs.flatMap((f) => [f.target ?? "", ...flat(f.children ?? [])]);
  return flat(all).filter((t) => t.includes(needle)).length;
}

interface FindmntEntry {
  target?: string;
  children?: FindmntEntry[];
}

/** Writes 16 MiB of random data and a small file, syncs, drops the page cache, reads back; one line about it. */
export async function writeAndCheck(n: LabNode, dir: string): Promise<string> {
  const r = await n.must(
    `set -e
    dd if=/dev/urandom of=/root/demo.bin bs=1M count=16 status=none
    cp /root/demo.bin ${dir}/data.bin
    echo "hello from $(hostname) at $(date -u +%FT%TZ)" > ${dir}/hello.txt
    sync
    echo 3 > /proc/sys/vm/drop_caches
    cmp /root/demo.bin ${dir}/data.bin
    rm -f /root/demo.bin
    cat ${dir}/hello.txt
    findmnt -J -o SIZE,USED,AVAIL --mountpoint ${dir}`,
    { timeoutMs: 300_000 },
  );
  const nl = r.stdout.indexOf("\n");
  const hello = r.stdout.slice(0, nl).trim();
  const fs = (JSON.parse(r.stdout.slice(nl + 1)) as { filesystems?: { size?: string; used?: string; avail?: string }[] }).filesystems?.[0];
  return `"${hello}", data.bin read back equal; ${fs?.size ?? "?"} size, ${fs?.used ?? "?"} used, ${fs?.avail ?? "?"} free`;
}
