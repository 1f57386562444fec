// The built product image for the image tests (test/image/): built or reused
// as `npm run image` does, then one working container of it per test file,
// its root file system mounted on the host for reading, commands run inside
// with buildah's chroot isolation (as the image's user unless told
// otherwise), removed when the file is done.
import { fromImage, mountContainer, removeContainer, runIn } from "../../image/buildah.js";
import { ensureImage, type ImageBuild } from "../../image/ensure-image.js";
import { ExecError, type ExecResult } from "../../src/util/exec.js";

export interface InImage {
  /** exit code and output, whatever the exit code */
  code: number;
  stdout: string;
  /** stderr, or its tail when the command failed */
  stderr: string;
}

export interface ImageContainer {
  build: ImageBuild;
  /** the container's root file system on the host */
  root: string;
  run(argv: readonly string[], opts?: { user?: string; env?: Record<string, string>; timeoutMs?: number }): Promise<InImage>;
  remove(): Promise<void>;
}

function outcome(r: ExecResult): InImage {
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

export async function openImage(): Promise<ImageContainer> {
  const build = await ensureImage();
  const name = await fromImage(build.product.ref);
  const root = await mountContainer(name);
  return {
    build,
    root,
    async run(argv, opts = {}) {
      try {
        return outcome(await runIn(name, argv, opts));
      } catch (e) {
        if (e instanceof ExecError && e.exitCode !== undefined && !e.timedOut) return { code: e.exitCode, stdout: e.stdout, stderr: e.stderrTail };
        throw e;
      }
    },
    remove: () => removeContainer(name),
  };
}
