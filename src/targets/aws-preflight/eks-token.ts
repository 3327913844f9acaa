import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type https from "node:https";
import type { User } from "@kubernetes/client-node";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";

// The EKS bearer token, made in-process the way aws-iam-authenticator and `aws eks
// get-token` make it: a presigned STS GetCallerIdentity URL whose signature covers the
// `x-k8s-aws-id: <cluster name>` header, base64url-encoded (no padding) after the
// "k8s-aws-v1." prefix. The API server's authenticator replays the URL against STS and maps
// the returned ARN through the cluster's access entries. (EKS user guide, "Grant IAM users
// access to Kubernetes with EKS access entries"; aws-iam-authenticator README, "API
// Authorization from Outside a Cluster".) So the runbook's own Kubernetes client needs no
// `aws` CLI.

export const EKS_TOKEN_PREFIX = "k8s-aws-v1.";
/** The cluster-name header the signature must cover. */
export const CLUSTER_ID_HEADER = "x-k8s-aws-id";
/** aws-iam-authenticator presigns for 60 s; the server accepts a token for 15 minutes. */
const PRESIGN_SECONDS = 60;
/** Renew well before the server's 15-minute limit. */
const TOKEN_TTL_MS = 10 * 60_000;

/** SHA-256 for SignatureV4 from node:crypto (hash, or HMAC with a secret). */
class NodeSha256 {
  private h: Hash | Hmac;
  constructor(private readonly secret?: string | Uint8Array | ArrayBuffer | ArrayBufferView) {
    this.h = this.fresh();
  }
  private fresh(): Hash | Hmac {
    if (this.secret === undefined) return createHash("sha256");
    const key =
      typeof this.secret === "string"
        ? this.secret
        : Buffer.from(
            ArrayBuffer.isView(this.secret)
              ? new Uint8Array(this.secret.buffer, this.secret.byteOffset, this.secret.byteLength)
              : new Uint8Array(this.secret),
          );
    return createHmac("sha256", key);
  }
  update(data: string | Uint8Array | ArrayBuffer | ArrayBufferView): void {
    if (typeof data === "string") this.h.update(data, "utf8");
    else if (ArrayBuffer.isView(data))
      this.h.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    else this.h.update(new Uint8Array(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {
    this.h = this.fresh();
  }
}

export interface EksTokenOptions {
  clusterName: string;
  region: string;
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** STS endpoint (default: the regional one, https://sts.<region>.amazonaws.com). */
  endpoint?: string;
  now?: () => Date;
}

/** The presigned GetCallerIdentity URL a token carries. */
export async function presignGetCallerIdentity(o: EksTokenOptions): Promise<string> {
  const { SignatureV4 } = await import("@smithy/signature-v4");
  const url = new URL(o.endpoint ?? `https://sts.${o.region}.amazonaws.com/`);
  const signer = new SignatureV4({
    credentials: o.credentials,
    region: o.region,
    service: "sts",
    sha256: NodeSha256,
  });
  const signed = await signer.presign(
    {
      method: "GET",
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: "/",
      query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
      headers: { host: url.host, [CLUSTER_ID_HEADER]: o.clusterName },
    },
    { expiresIn: PRESIGN_SECONDS, ...(o.now ? { signingDate: o.now() } : {}) },
  );
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(signed.query ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) if (one !== null) query.append(k, one);
  }
  return `${url.protocol}//${url.host}/?${query.toString()}`;
}

export async function eksToken(o: EksTokenOptions): Promise<string> {
  const url = await presignGetCallerIdentity(o);
  return EKS_TOKEN_PREFIX + Buffer.from(url, "utf8").toString("base64url");
}

/** The auth-provider name the runbook puts on the EKS user of its kubeconfig. */
export const EKS_AUTH_PROVIDER = "eks-runbook-aws";

/**
 * client-node authenticator for users whose auth-provider is EKS_AUTH_PROVIDER: a fresh
 * token every 10 minutes, made in-process. Never logged.
 */
export class EksTokenAuthenticator {
  private cached: { token: string; until: number } | undefined;
  constructor(private readonly o: EksTokenOptions) {}

  isAuthProvider(user: User): boolean {
    return user.authProvider?.name === EKS_AUTH_PROVIDER;
  }

  async applyAuthentication(
    _user: User,
    opts: https.RequestOptions | { headers?: Record<string, unknown> },
  ): Promise<void> {
    const now = Date.now();
    if (!this.cached || this.cached.until <= now) {
      this.cached = { token: await eksToken(this.o), until: now + TOKEN_TTL_MS };
    }
    const headers = (opts.headers ?? {}) as Record<string, unknown>;
    headers.Authorization = `Bearer ${this.cached.token}`;
    opts.headers = headers as IncomingMessage["headers"];
  }
}
