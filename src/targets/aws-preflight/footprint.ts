import type { MigrationSpec } from "../../infra/spec.js";

// The plan's peak footprint: the most instances (and vCPUs) the migration runs at once. With
// the defaults that is step 3, when standard (3 × t3.medium), old (3 × t3.2xlarge) and new
// (5 × c5.4xlarge) groups all run: 6 + 24 + 80 = 110 vCPUs.

/**
 * vCPUs of the default instance types (EC2 User Guide, "Amazon EC2 instance type
 * specifications": t3.medium 2, t3.2xlarge 8, c5.4xlarge 16). Other types are looked up
 * with EC2 DescribeInstanceTypes.
 */
export const KNOWN_VCPUS: Record<string, number> = {
  "t3.medium": 2,
  "t3.2xlarge": 8,
  "c5.4xlarge": 16,
};

export interface Footprint {
  /** Index into the specs of the peak state. */
  at: number;
  vcpus: number;
  instances: Record<string, number>;
}

/** The state with the most vCPUs among `specs` (each a desired state the plan passes through). */
export function peakFootprint(specs: MigrationSpec[], vcpus: Record<string, number>): Footprint {
  let best: Footprint = { at: 0, vcpus: 0, instances: {} };
  specs.forEach((s, at) => {
    const instances: Record<string, number> = {};
    let total = 0;
    for (const g of s.nodeGroups) {
      instances[g.instanceType] = (instances[g.instanceType] ?? 0) + g.desired;
      const per = vcpus[g.instanceType];
      if (per === undefined) throw new Error(`no vCPU count for ${g.instanceType}`);
      total += per * g.desired;
    }
    if (total > best.vcpus) best = { at, vcpus: total, instances };
  });
  return best;
}

// An ESTIMATE of the peak's hourly cost: On-Demand list prices in US East (N. Virginia),
// Linux, as published on the AWS pricing pages (Amazon EC2 On-Demand Pricing; Amazon VPC
// pricing, NAT gateway per hour; Amazon EKS pricing, $0.10 per cluster hour in standard
// support; Elastic Load Balancing pricing, Classic Load Balancer per hour), read 2026-11-28.
// Other regions, data transfer, EBS volumes, CloudWatch logs and taxes are not included.
export const PRICES_USD_PER_HOUR = {
  instance: { "t3.medium": 0.0416, "t3.2xlarge": 0.3328, "c5.4xlarge": 0.68 } as Record<
    string,
    number
  >,
  natGateway: 0.045,
  eksControlPlane: 0.1,
  classicLoadBalancer: 0.025,
} as const;

export interface CostEstimate {
  usdPerHour: number;
  /** Instance types without a price in the table (not included in the total). */
  unpriced: string[];
  lines: string[];
}

export function estimateHourlyCost(peak: Footprint): CostEstimate {
  const p = PRICES_USD_PER_HOUR;
  const lines: string[] = [];
  const unpriced: string[] = [];
  let total = 0;
  for (const [type, n] of Object.entries(peak.instances)) {
    const price = p.instance[type];
    if (price === undefined) {
      unpriced.push(type);
      continue;
    }
    total += price * n;
    lines.push(`${n} × ${type} $${(price * n).toFixed(2)}`);
  }
  for (const [label, price] of [
    ["EKS control plane", p.eksControlPlane],
    ["NAT gateway", p.natGateway],
    ["load balancer", p.classicLoadBalancer],
  ] as const) {
    total += price;
    lines.push(`${label} $${price.toFixed(2)}`);
  }
  return { usdPerHour: Math.round(total * 100) / 100, unpriced, lines };
}
