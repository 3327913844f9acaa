import { fnv1a } from "../fnv1a.js";

// The name an EKS node gets: its instance's private DNS name, ip-10-0-x-y.<region-domain>.
// moto keeps instances' private IPs behind the EC2 API (not in DescribeAutoScalingGroups),
// so the sandbox derives a stable 10.0.x.y from the instance id instead: the same instance
// always gets the same name, different instances almost never collide, and a collision is
// resolved by probing the next address.

/** Usable hosts of 10.0.0.0/16 without .0 and .255 in the last octet: 256 × 254. */
const HOSTS = 256 * 254;

function ipAt(index: number): string {
  const i = ((index % HOSTS) + HOSTS) % HOSTS;
  return `10.0.${Math.floor(i / 254)}.${(i % 254) + 1}`;
}

/** A private IP for the instance that is not in `taken` (IPs of other instances). */
export function privateIpFor(instanceId: string, taken: ReadonlySet<string> = new Set()): string {
  const start = fnv1a(instanceId) % HOSTS;
  for (let i = 0; i < HOSTS; i++) {
    const ip = ipAt(start + i);
    if (!taken.has(ip)) return ip;
  }
  throw new Error("no free address left in 10.0.0.0/16");
}

/** us-east-1 uses ec2.internal; every other region <region>.compute.internal. */
export function privateDnsName(ip: string, region: string): string {
  const domain = region === "us-east-1" ? "ec2.internal" : `${region}.compute.internal`;
  return `ip-${ip.replaceAll(".", "-")}.${domain}`;
}

/** "us-east-1a" → "us-east-1" (local zones and wavelength zones are not modelled). */
export function regionOfZone(zone: string): string {
  return zone.replace(/[a-z]$/, "");
}
