// The interfaces the engine drives. The engine knows nothing about EKS: infra, probes,
// ops and traffic implement these, and the CLI wires real implementations in.

// ── Infra (Pulumi through the Automation API) ────────────────────────────────────────

export type ResourceOp = "create" | "update" | "replace" | "delete" | "same" | "read" | "refresh";

export interface PropertyDiff {
  /** Property path such as `spec.template.spec.affinity.nodeAffinity…values[0]`. */
  path: string;
  kind: "add" | "update" | "delete";
  old?: unknown;
  new?: unknown;
  /** This change forces a replacement. */
  replaces?: boolean;
}

export interface ResourceChange {
  op: ResourceOp;
  urn: string;
  type: string;
  name: string;
  diffs: PropertyDiff[];
  /** Properties that force a replacement (op "replace"). */
  replaceKeys: string[];
}

export interface ChangeCounts {
  create: number;
  update: number;
  replace: number;
  delete: number;
  same: number;
}

export interface PreviewResult {
  changes: ChangeCounts;
  /** Only resources that change (op ≠ same). */
  resources: ResourceChange[];
  /**
   * An opaque handle to the update plan this preview saved; `apply` given it runs exactly
   * that plan and fails rather than doing anything the preview did not show.
   */
  plan?: string;
}

export interface ApplyProgress {
  done: number;
  total: number;
  current?: string;
  message?: string;
}

export interface ApplyResult {
  changes: ChangeCounts;
  durationMs: number;
  outputs: Record<string, unknown>;
}

export interface RecoveryReport {
  /** What recovery did, one line per action; empty when the stack was clean. */
  actions: string[];
}

export interface Diagnostic {
  severity: "info" | "warning" | "error";
  message: string;
}

export interface InfraDriver<S> {
  /**
   * The desired state last applied, as recorded with the stack itself (not this machine), or
   * undefined when the stack does not exist yet: any machine can resume from it.
   */
  appliedSpec?(signal: AbortSignal): Promise<S | undefined>;
  preview(
    spec: S,
    opts: {
      signal: AbortSignal;
      onDiagnostic?: (d: Diagnostic) => void;
      /** A dry run: change nothing anywhere (no stack is created in the backend). */
      dryRun?: boolean;
    },
  ): Promise<PreviewResult>;
  apply(
    spec: S,
    opts: {
      signal: AbortSignal;
      /** The plan of the preview the operator approved (PreviewResult.plan). */
      plan?: string;
      onProgress?: (p: ApplyProgress) => void;
      onDiagnostic?: (d: Diagnostic) => void;
    },
  ): Promise<ApplyResult>;
  /** Clears a stale lock, refreshes, clears pending operations; says what it did. */
  recover(signal: AbortSignal): Promise<RecoveryReport>;
  outputs(signal: AbortSignal): Promise<Record<string, unknown>>;
}

// ── Probes ───────────────────────────────────────────────────────────────────────────

export interface ProbeResult {
  ok: boolean;
  /** Human reason, always set: "5/5 nodes Ready", "2/3 nginx pods on c5.4xlarge: …". */
  reason: string;
  warnings?: string[];
  /** Waiting cannot help (a rollout past its progress deadline): fail the gate now. */
  terminal?: boolean;
}

/**
 * A probe observes a condition and reports every change of its verdict. It runs until the
 * signal aborts, must never throw for conditions of the world (an unreachable API server
 * is a failing result that says so), and reconnects its watches after errors.
 */
export interface Probe {
  observe(signal: AbortSignal, report: (r: ProbeResult) => void): Promise<void>;
}

// ── Actions (cluster operations such as drain) ───────────────────────────────────────

export interface ActionPreviewItem {
  kind: "evict" | "block" | "skip" | "delete" | "cordon" | "start" | "stop" | "write";
  target: string;
  detail?: string;
}

export interface ActionPreview {
  summary: string;
  items: ActionPreviewItem[];
}

export interface ActionProgress {
  done: number;
  total: number;
  message: string;
}

export interface ActionOutcome {
  summary: string;
  /** Free-form, JSON-serialisable facts for the journal and report. */
  details?: Record<string, unknown>;
}

// ── Traffic (the load generator seen by the engine and renderers) ────────────────────

export interface TrafficSample {
  /** Start of the one-second bucket (epoch ms). */
  at: number;
  requests: number;
  ok: number;
  failed: number;
  /**
   * Failures by class: `http-<code>` for non-2xx answers; refused, reset, keepalive-race,
   * timeout, tls, unreachable, other for transport failures (src/traffic/error-kind.ts).
   */
  errors: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  /** Slowest answer of the second; absent when nothing answered. */
  maxMs?: number;
  /** Rate mode: requests due in this second that no free connection could send. */
  dropped?: number;
}

export interface TrafficStats {
  requests: number;
  ok: number;
  failed: number;
  successRate: number;
}

export interface TrafficCounts {
  requests: number;
  ok: number;
  failed: number;
  errors: Record<string, number>;
}

export interface TrafficTarget {
  url: string;
  host?: string;
  path?: string;
}

export interface TrafficSource {
  readonly running: boolean;
  start(target: TrafficTarget, signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  /** Put a named mark on the timeline (step boundaries). */
  mark(label: string): void;
  subscribe(listener: (s: TrafficSample) => void): () => void;
  /** Stats over the last `seconds` full seconds. */
  window(seconds: number): TrafficStats;
  since(mark: string): TrafficStats;
  total(): TrafficStats;
  /** Like since/total with the failures by class, for gates whose policy ignores classes. */
  sinceCounts?(mark: string): TrafficCounts;
  totalCounts?(): TrafficCounts;
  timeline(): { samples: TrafficSample[]; marks: { label: string; at: number }[] };
}
