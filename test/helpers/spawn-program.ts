// Starts one of the package's programs from source (node --import tsx) and
// waits until it listens; tests talk to it over its socket like kubelet does.
import { spawn, type ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface Running {
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startProgram(program: "gluster-block-csi" | "gluster-blockd" | "gluster-block", args: string[], env: NodeJS.ProcessEnv = process.env): Running {
  const child = spawn(process.execPath, ["--import", "tsx", `src/cmd/${program}.ts`, ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    output: () => out,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function waitForFile(path: string, timeoutMs: number, running?: Running): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (running && running.child.exitCode !== null) throw new Error(`program exited early:\n${running.output()}`);
    if (Date.now() > end) throw new Error(`${path} did not appear in ${timeoutMs} ms${running ? `:\n${running.output()}` : ""}`);
    await sleep(50);
  }
}

/** Runs a program to completion and returns its exit code and output. */
export function runProgram(
  program: "gluster-block-csi" | "gluster-blockd" | "gluster-block",
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", `src/cmd/${program}.ts`, ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}
