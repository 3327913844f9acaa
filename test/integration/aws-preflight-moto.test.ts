import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EKSClient } from "@aws-sdk/client-eks";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PrerequisiteError } from "../../src/engine/errors.js";
import { resolveAddonVersions, resolveAmis } from "../../src/infra/ami.js";
import { DEFAULT_NEW_GROUP, stepSpecs } from "../../src/infra/spec-steps.js";
import {
  MOTO_CREDENTIALS,
  MOTO_REGION,
  type MotoPaths,
  motoEndpoint,
  motoPaths,
  startMoto,
  stopMoto,
} from "../../src/sandbox/moto.js";
import { allocatePortBlock } from "../../src/sandbox/ports.js";
import { toolchain } from "../../src/sandbox/toolchain.js";
import { awsClients, clientConfig } from "../../src/targets/aws-preflight/aws-access.js";
import {
  CLUSTER_ID_HEADER,
  EKS_TOKEN_PREFIX,
  eksToken,
  presignGetCallerIdentity,
} from "../../src/targets/aws-preflight/eks-token.js";
import { awsPreflight, preflightFailure } from "../../src/targets/aws-preflight/preflight.js";
import { requireForTest, uniqueName } from "../helpers/sandbox.js";

// The AWS target's account-side code against a real moto server: the preflight (STS,
// EC2 availability zones and instance types, Service Quotas), the in-process EKS token's
// presigned request's shape (moto's server cannot route a query-signed GET to STS, it
// answers it as S3, so the replay itself is not exercised here), and the AMI / add-on lookups. moto serves STS, EC2, SSM and Service
// Quotas (but not EC2's quota codes, nor EKS add-on versions: those paths are the "cannot
// read" ones here).

let dir: string;
let paths: MotoPaths;
let endpoint: string;
const signal = new AbortController().signal;
const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

beforeAll(async () => {
  await requireForTest(["moto"]);
  dir = mkdtempSync(join(tmpdir(), "aws-preflight-"));
  paths = motoPaths(dir, dir);
  const [port] = (await allocatePortBlock(uniqueName("moto-pf"), 1)) as [number];
  await startMoto(toolchain(), paths, port);
  endpoint = motoEndpoint(port);
  // The default provider chain finds these (moto checks nothing; never real ones).
  process.env.AWS_ACCESS_KEY_ID = MOTO_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = MOTO_CREDENTIALS.secretAccessKey;
});

afterAll(async () => {
  if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
  else process.env.AWS_ACCESS_KEY_ID = saved.id;
  if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
  else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
  if (paths) await stopMoto(paths);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("AWS preflight against moto", () => {
  it("identity, zones, the plan's peak (an unknown type looked up in EC2), quota, cost", async () => {
    const clients = await awsClients(MOTO_REGION, { endpoint });
    const s = stepSpecs(undefined, { ...DEFAULT_NEW_GROUP, instanceType: "m5.4xlarge" });
    const specs = [
      s.provision,
      s.createNewGroup,
      s.migrateNginx,
      s.scaleOldToZero,
      s.removeOldGroup,
    ];
    try {
      const r = await awsPreflight({
        region: MOTO_REGION,
        clients,
        specs,
        which: (name) => (name === "aws" ? undefined : `/usr/bin/${name}`),
        pulumiVersion: async () => ({ version: "3.259.0" }),
        signal,
      });
      const by = Object.fromEntries(r.checks.map((c) => [c.name, c]));
      expect(by.credentials?.severity).toBe("info");
      expect(by.credentials?.message).toMatch(
        /^AWS identity arn:aws:(sts|iam)::\d{12}:.+ \(account \d{12}\)$/,
      );
      expect(by.region?.severity).toBe("info");
      expect(by.region?.message).toMatch(
        /^region us-east-1: \d+ availability zones \(us-east-1a, /,
      );
      // m5.4xlarge is not in the built-in table: its 16 vCPUs come from DescribeInstanceTypes.
      expect(r.peak).toEqual({
        at: 1,
        vcpus: 6 + 24 + 80,
        instances: { "t3.medium": 3, "t3.2xlarge": 3, "m5.4xlarge": 5 },
      });
      // moto's Service Quotas knows no EC2 quota codes: a warning naming the peak, not a failure.
      expect(by["vcpu-quota"]?.severity).toBe("warning");
      expect(by["vcpu-quota"]?.message).toMatch(/L-1216C47A .*needs 110 vCPUs/);
      expect(r.cost?.unpriced).toEqual(["m5.4xlarge"]);
      expect(by.cost?.message).toMatch(/an estimate/);
      // No `aws` CLI: the one failure, with its fix; exit 2 in the CLI.
      const f = preflightFailure(r.checks);
      expect(f?.message).toMatch(/aws-cli: the aws CLI is not on PATH/);
      expect(f?.hint).toMatch(/Install the AWS CLI v2/);
    } finally {
      clients.close();
    }
  });

  it("bad credentials and no region each fail with what to do", async () => {
    const noRegion = await awsPreflight({
      region: undefined,
      clients: undefined,
      specs: [],
      which: () => "/usr/bin/x",
      pulumiVersion: async () => ({ error: "pulumi: not found" }),
      signal,
    });
    expect(preflightFailure(noRegion.checks)?.message).toBe(
      "AWS preflight failed:\n  - pulumi: the Pulumi CLI is missing or unusable (pulumi: not found)\n  - region: no AWS region: none passed, none in AWS_REGION / AWS_DEFAULT_REGION or the profile",
    );
    // An STS endpoint that refuses connections: credentials cannot be verified.
    const dead = await awsClients(MOTO_REGION, { endpoint: "http://127.0.0.1:9" });
    try {
      const r = await awsPreflight({
        region: MOTO_REGION,
        clients: dead,
        specs: [],
        which: () => "/usr/bin/x",
        pulumiVersion: async () => ({ version: "3.259.0" }),
        signal,
      });
      const cred = r.checks.find((c) => c.name === "credentials");
      expect(cred?.severity).toBe("error");
      expect(cred?.fix).toMatch(/--profile/);
    } finally {
      dead.close();
    }
  });
});

describe("the in-process EKS token", () => {
  it("is a presigned STS GetCallerIdentity (60 s) whose signature covers the cluster header", async () => {
    const url = await presignGetCallerIdentity({
      clusterName: "eks-runbook-prod",
      region: MOTO_REGION,
      credentials: MOTO_CREDENTIALS,
      endpoint: `${endpoint}/`,
    });
    const q = new URL(url).searchParams;
    expect(q.get("Action")).toBe("GetCallerIdentity");
    expect(q.get("Version")).toBe("2011-06-15");
    expect(q.get("X-Amz-Algorithm")).toBe("AWS4-HMAC-SHA256");
    expect(q.get("X-Amz-Expires")).toBe("60");
    expect(q.get("X-Amz-SignedHeaders")?.split(";")).toEqual(["host", CLUSTER_ID_HEADER]);
    expect(q.get("X-Amz-Credential")).toMatch(/^testing\/\d{8}\/us-east-1\/sts\/aws4_request$/);
    const token = await eksToken({
      clusterName: "eks-runbook-prod",
      region: MOTO_REGION,
      credentials: MOTO_CREDENTIALS,
      endpoint: `${endpoint}/`,
    });
    expect(token.startsWith(EKS_TOKEN_PREFIX)).toBe(true);
    const body = token.slice(EKS_TOKEN_PREFIX.length);
    expect(body).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, no padding
    expect(Buffer.from(body, "base64url").toString("utf8")).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/\?Action=GetCallerIdentity&/,
    );
  });

  it("the default endpoint is the regional STS one", async () => {
    const url = await presignGetCallerIdentity({
      clusterName: "c",
      region: "eu-west-1",
      credentials: MOTO_CREDENTIALS,
    });
    expect(new URL(url).host).toBe("sts.eu-west-1.amazonaws.com");
  });
});

describe("pins looked up once", () => {
  it("reads one AMI per kubelet version from SSM; a missing parameter says what to check", async () => {
    const ssm = new SSMClient({ ...clientConfig(MOTO_REGION, { endpoint }) });
    // /aws/service/... is reserved (moto refuses writes there): the same lookup, another path.
    const param = (v: string) => `/eks-runbook-test/optimized-ami/${v}/image_id`;
    try {
      await ssm.send(
        new PutParameterCommand({
          Name: param("1.35"),
          Value: "ami-0123456789abcdef0",
          Type: "String",
        }),
      );
      await ssm.send(
        new PutParameterCommand({
          Name: param("1.34"),
          Value: "ami-0fedcba9876543210",
          Type: "String",
        }),
      );
      expect(await resolveAmis(ssm, ["1.35", "1.34", "1.35"], signal, param)).toEqual({
        "1.34": "ami-0fedcba9876543210",
        "1.35": "ami-0123456789abcdef0",
      });
      const err = await resolveAmis(ssm, ["1.36"], signal, param).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PrerequisiteError);
      expect((err as PrerequisiteError).message).toMatch(
        /cannot read the EKS-optimised AL2023 AMI for Kubernetes 1\.36 .*ParameterNotFound/,
      );
    } finally {
      ssm.destroy();
    }
  });

  it("add-on versions come from EKS DescribeAddonVersions (moto does not serve it: a typed error)", async () => {
    const eks = new EKSClient({ ...clientConfig(MOTO_REGION, { endpoint }), maxAttempts: 1 });
    try {
      const err = await resolveAddonVersions(eks, "1.35", signal).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PrerequisiteError);
      expect((err as PrerequisiteError).message).toMatch(
        /coredns add-on versions for Kubernetes 1\.35/,
      );
    } finally {
      eks.destroy();
    }
  });
});
