// Environment variables shared by the driver and the local target's dynamic provider (which
// reads them by literal name: serialised provider code cannot import this module).

/** The sandbox's moto endpoint, set by the driver for every local Pulumi run. */
export const MOTO_ENDPOINT_ENV = "EKS_RUNBOOK_MOTO_ENDPOINT";
