// Names of the stack outputs the runbook reads back (no Pulumi import: the driver loads
// Pulumi lazily).

/** The applied desired state as JSON, recorded with the stack (see recorded-spec.ts). */
export const RECORDED_SPEC_OUTPUT = "runbookSpec";
/**
 * ASG names of groups that left the program, kept as a stack output so the gates of "remove
 * old group" (and a resume during them, on any machine) can still check that ASG is gone.
 */
export const RETIRED_ASG_OUTPUT = "retiredAsgNames";
