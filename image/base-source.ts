// Where the Dockerfile's base images come from: a registry (buildah pulls
// them, as docker build would), or this build (no registry reachable, as on
// the project's build and CI hosts). IMAGE_BASES=local|registry decides;
// unset, a registry that answers at all means "registry".
export type BaseSource = "local" | "registry";

/** the registry the Dockerfile's short names (debian:12-slim, node:20-bookworm) resolve to */
const REGISTRY_PROBE = "https://registry-1.docker.io/v2/";

export async function chooseBaseSource(setting: string = process.env.IMAGE_BASES ?? "auto"): Promise<BaseSource> {
  if (setting === "local" || setting === "registry") return setting;
  if (setting !== "auto") throw new Error(`IMAGE_BASES=${setting}: local, registry or auto`);
  try {
    // any HTTP answer (401 without a token) means the registry is reachable
    await fetch(REGISTRY_PROBE, { signal: AbortSignal.timeout(5_000) });
    return "registry";
  } catch {
    return "local";
  }
}
