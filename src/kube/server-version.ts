import type { KubeConfig } from "@kubernetes/client-node";
import { Backoff, type BackoffOptions, sleep } from "./backoff.js";
import { describeKubeError } from "./errors.js";
import { WATCH_BACKOFF } from "./live-list.js";
import { kubeGetJson } from "./raw-get.js";
import { type KubeVersion, parseKubeVersion } from "./versions.js";

/** The API server's version (GET /version), fetched until it answers once. */
export class ServerVersion {
  #version: KubeVersion | undefined;
  #gitVersion: string | undefined;
  #error: string | undefined;
  readonly #backoff: Backoff;

  constructor(
    readonly kc: KubeConfig,
    backoff: BackoffOptions = WATCH_BACKOFF,
  ) {
    this.#backoff = new Backoff(backoff);
  }

  get synced(): boolean {
    return this.#version !== undefined;
  }
  get error(): string | undefined {
    return this.#error;
  }
  get version(): KubeVersion | undefined {
    return this.#version;
  }
  get gitVersion(): string | undefined {
    return this.#gitVersion;
  }

  async run(signal: AbortSignal, onChange: () => void): Promise<void> {
    while (!signal.aborted && this.#version === undefined) {
      try {
        const info = (await kubeGetJson(this.kc, "/version", {}, signal)) as {
          gitVersion?: string;
          major?: string;
          minor?: string;
        };
        const parsed =
          parseKubeVersion(info.gitVersion) ??
          parseKubeVersion(`${info.major ?? ""}.${(info.minor ?? "").replace(/\D+$/, "")}`);
        if (!parsed) throw new Error(`unparseable server version ${info.gitVersion ?? "?"}`);
        this.#version = parsed;
        this.#gitVersion = info.gitVersion;
        this.#error = undefined;
      } catch (err) {
        if (signal.aborted) return;
        const delay = this.#backoff.next();
        this.#error = `reading the control-plane version: ${describeKubeError(err)}; retrying`;
        onChange();
        await sleep(delay, signal);
        continue;
      }
      onChange();
    }
  }
}
