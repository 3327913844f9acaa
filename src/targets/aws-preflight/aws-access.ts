import type { AwsClients } from "./preflight.js";

// Where AWS calls go: the region and profile from the flags, else the AWS SDK's usual
// environment (AWS_REGION / AWS_DEFAULT_REGION, AWS_PROFILE, the shared config file). The
// SDK also honours AWS_ENDPOINT_URL, which is how the tests point it at moto.

export interface AwsAccess {
  /** --region */
  region?: string;
  /** --profile */
  profile?: string;
  /** Explicit endpoint (tests); otherwise the SDK's own resolution. */
  endpoint?: string;
  env?: NodeJS.ProcessEnv;
}

export interface RequestedRegion {
  region: string;
  /** Where it came from, for messages: "--region", "AWS_REGION", "profile dev". */
  source: string;
}

/** The region this run asks for, or undefined when nothing names one. */
export async function requestedRegion(a: AwsAccess): Promise<RequestedRegion | undefined> {
  if (a.region) return { region: a.region, source: "--region" };
  const env = a.env ?? process.env;
  for (const key of ["AWS_REGION", "AWS_DEFAULT_REGION"] as const) {
    const v = env[key];
    if (v) return { region: v, source: key };
  }
  // The profile's region from the shared config file (~/.aws/config).
  const { STSClient } = await import("@aws-sdk/client-sts");
  const profile = a.profile ?? env.AWS_PROFILE;
  const probe = new STSClient(profile ? { profile } : {});
  try {
    const region = await probe.config.region();
    return region ? { region, source: `profile ${profile ?? "default"}` } : undefined;
  } catch {
    return undefined;
  } finally {
    probe.destroy();
  }
}

/** SDK clients for one region, bounded retries, the profile's credentials when named. */
export async function awsClients(
  region: string,
  a: AwsAccess,
): Promise<AwsClients & { close(): void; config: ClientConfig }> {
  const [{ STSClient }, { EC2Client }, { ServiceQuotasClient }] = await Promise.all([
    import("@aws-sdk/client-sts"),
    import("@aws-sdk/client-ec2"),
    import("@aws-sdk/client-service-quotas"),
  ]);
  const config = clientConfig(region, a);
  const sts = new STSClient(config);
  const ec2 = new EC2Client(config);
  const quotas = new ServiceQuotasClient(config);
  return {
    sts,
    ec2,
    quotas,
    config,
    close: () => {
      sts.destroy();
      ec2.destroy();
      quotas.destroy();
    },
  };
}

export interface ClientConfig {
  region: string;
  maxAttempts: number;
  profile?: string;
  endpoint?: string;
}

export function clientConfig(region: string, a: AwsAccess): ClientConfig {
  return {
    region,
    maxAttempts: 3,
    ...(a.profile ? { profile: a.profile } : {}),
    ...(a.endpoint ? { endpoint: a.endpoint } : {}),
  };
}
