import * as pulumi from "@pulumi/pulumi";

// The local target's node groups: Auto Scaling groups in the sandbox's moto server, managed
// by a Pulumi dynamic provider that calls the AWS SDK. The sandbox's node-group controller
// turns each InService instance into a kwok Node from the group's tags.
//
// Pulumi serialises the provider object below (its methods and everything they reference)
// into the stack and runs it later in a separate Node.js process (the engine's
// pulumi-resource-pulumi-nodejs). So the code reachable from `asgProvider` must:
//   - reference no imported binding (a bundler or test runner rewrites those) — the SDK is
//     loaded with `require` inside, resolved through NODE_PATH, which the driver sets to
//     this package's node_modules (ESM `import()` would not honour NODE_PATH);
//   - capture only plain data;
//   - read the moto endpoint from the environment at run time: the sandbox's port may
//     change between runs, and a deleted group must be deleted wherever moto runs now.

export interface AsgInputs {
  asgName: string;
  region: string;
  /** An AMI moto knows (instances never launch otherwise). */
  imageId: string;
  instanceType: string;
  desired: number;
  min: number;
  max: number;
  tags: Record<string, string>;
}

type AutoScalingSdk = typeof import("@aws-sdk/client-auto-scaling");

interface Api {
  sdk: AutoScalingSdk;
  client: InstanceType<AutoScalingSdk["AutoScalingClient"]>;
}

function autoScalingApi(region: string): Api {
  // MOTO_ENDPOINT_ENV (local-env.ts), by its literal name: see the note at the top.
  const endpoint = process.env.EKS_RUNBOOK_MOTO_ENDPOINT;
  if (!endpoint) {
    throw new Error(
      "EKS_RUNBOOK_MOTO_ENDPOINT is not set: the local target's Auto Scaling groups live in the sandbox's moto server",
    );
  }
  const sdk = require("@aws-sdk/client-auto-scaling") as AutoScalingSdk;
  const client = new sdk.AutoScalingClient({
    region,
    endpoint,
    // moto checks no credentials; these match the sandbox's (src/sandbox/moto.ts) and keep
    // any real AWS credentials in the environment out of the local target.
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    maxAttempts: 3,
  });
  return { sdk, client };
}

function launchConfigurationName(p: AsgInputs): string {
  return `${p.asgName}-${p.instanceType}`;
}

async function groupExists(api: Api, name: string): Promise<boolean> {
  const res = await api.client.send(
    new api.sdk.DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  return (res.AutoScalingGroups ?? []).length > 0;
}

async function ensureLaunchConfiguration(api: Api, p: AsgInputs): Promise<string> {
  const name = launchConfigurationName(p);
  const res = await api.client.send(
    new api.sdk.DescribeLaunchConfigurationsCommand({ LaunchConfigurationNames: [name] }),
  );
  if ((res.LaunchConfigurations ?? []).length === 0) {
    await api.client.send(
      new api.sdk.CreateLaunchConfigurationCommand({
        LaunchConfigurationName: name,
        ImageId: p.imageId,
        InstanceType: p.instanceType,
      }),
    );
  }
  return name;
}

function tagList(p: AsgInputs) {
  return Object.entries(p.tags).map(([Key, Value]) => ({
    Key,
    Value,
    PropagateAtLaunch: true,
    ResourceId: p.asgName,
    ResourceType: "auto-scaling-group",
  }));
}

/** Brings an existing group to the inputs: launch configuration, capacities, tags. */
async function converge(api: Api, p: AsgInputs, oldTags: Record<string, string>): Promise<void> {
  const lc = await ensureLaunchConfiguration(api, p);
  await api.client.send(
    new api.sdk.UpdateAutoScalingGroupCommand({
      AutoScalingGroupName: p.asgName,
      LaunchConfigurationName: lc,
      MinSize: p.min,
      MaxSize: p.max,
      DesiredCapacity: p.desired,
    }),
  );
  const removed = Object.keys(oldTags).filter((k) => !(k in p.tags));
  if (removed.length > 0) {
    await api.client.send(
      new api.sdk.DeleteTagsCommand({
        Tags: removed.map((Key) => ({
          Key,
          ResourceId: p.asgName,
          ResourceType: "auto-scaling-group",
        })),
      }),
    );
  }
  await api.client.send(new api.sdk.CreateOrUpdateTagsCommand({ Tags: tagList(p) }));
}

function sameTags(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** Properties whose change makes it another group (a new name or region). */
const REPLACE_KEYS = ["asgName", "region"] as const;
const UPDATE_KEYS = ["imageId", "instanceType", "desired", "min", "max"] as const;

export const asgProvider: pulumi.dynamic.ResourceProvider<AsgInputs, AsgInputs> = {
  async diff(_id, olds, news) {
    const replaces = REPLACE_KEYS.filter((k) => olds[k] !== news[k]);
    const updates = UPDATE_KEYS.filter((k) => olds[k] !== news[k]);
    const tagsChanged = !sameTags(olds.tags ?? {}, news.tags ?? {});
    return {
      changes: replaces.length > 0 || updates.length > 0 || tagsChanged,
      replaces: [...replaces],
      // Two groups of one name cannot coexist.
      deleteBeforeReplace: true,
    };
  },

  async create(inputs) {
    const api = autoScalingApi(inputs.region);
    // A create interrupted after the API call leaves the group behind: adopt it.
    if (await groupExists(api, inputs.asgName)) {
      await converge(api, inputs, {});
    } else {
      const lc = await ensureLaunchConfiguration(api, inputs);
      await api.client.send(
        new api.sdk.CreateAutoScalingGroupCommand({
          AutoScalingGroupName: inputs.asgName,
          LaunchConfigurationName: lc,
          MinSize: inputs.min,
          MaxSize: inputs.max,
          DesiredCapacity: inputs.desired,
          AvailabilityZones: [`${inputs.region}a`, `${inputs.region}b`, `${inputs.region}c`],
          Tags: tagList(inputs),
        }),
      );
    }
    return { id: inputs.asgName, outs: inputs };
  },

  async update(_id, olds, news) {
    const api = autoScalingApi(news.region);
    await converge(api, news, olds.tags ?? {});
    if (launchConfigurationName(olds) !== launchConfigurationName(news)) {
      await api.client.send(
        new api.sdk.DeleteLaunchConfigurationCommand({
          LaunchConfigurationName: launchConfigurationName(olds),
        }),
      );
    }
    return { outs: news };
  },

  async delete(id, props) {
    const api = autoScalingApi(props.region);
    // Force: terminate the instances with the group, as the tutorial's final step does.
    if (await groupExists(api, id)) {
      await api.client.send(
        new api.sdk.DeleteAutoScalingGroupCommand({ AutoScalingGroupName: id, ForceDelete: true }),
      );
    }
    await api.client.send(
      new api.sdk.DeleteLaunchConfigurationCommand({
        LaunchConfigurationName: launchConfigurationName(props),
      }),
    );
  },
};

/**
 * An explicit provider for the dynamic resources. The engine gives the *default*
 * pulumi-nodejs provider the project's stack config as its inputs, so every config change
 * (the spec the driver records after each apply) would show up as a provider update in
 * the next preview; an explicit provider has only the inputs given here: none.
 */
export class LocalAsgProvider extends pulumi.ProviderResource {
  constructor(name: string, opts?: pulumi.ResourceOptions) {
    super("pulumi-nodejs", name, {}, opts);
  }
}

/** A node group of the local target: one Auto Scaling group in moto. */
export class LocalAutoScalingGroup extends pulumi.dynamic.Resource {
  declare readonly asgName: pulumi.Output<string>;

  constructor(
    name: string,
    args: { [K in keyof AsgInputs]: pulumi.Input<AsgInputs[K]> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(asgProvider, name, { ...args }, opts, "local", "AutoScalingGroup");
  }
}
