import { Command, Option } from "commander";
import type { ComponentCheck } from "../sandbox/doctor.js";
import type { SandboxInfo } from "../sandbox/sandbox.js";
import { sandboxName } from "../targets/local.js";
import { strictUsage } from "./options.js";

// `eks-runbook sandbox up|down|status|doctor`: the local target's cluster from the command
// line. The sandbox modules are imported inside the actions so `--help` stays fast.

function out(line = ""): void {
  process.stdout.write(`${line}\n`);
}

/** Aborts on the first Ctrl-C / SIGTERM so long operations stop cleanly. */
function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const onSignal = () => ac.abort(new Error("interrupted"));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return {
    signal: ac.signal,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

function printInfo(info: SandboxInfo): void {
  out(`sandbox ${info.name}: ${info.state}${info.reason ? ` (${info.reason})` : ""}`);
  if (info.state === "absent") {
    out("  start it with: eks-runbook sandbox up");
    return;
  }
  out(`  kubernetes  ${info.kubernetesVersion}`);
  out(`  api server  ${info.apiServerUrl}`);
  out(`  moto        ${info.motoEndpoint}`);
  out(`  kubeconfig  ${info.kubeconfigPath}`);
  out(`  logs        ${info.logsDir}`);
  for (const c of info.components) {
    const where = [c.pid ? `pid ${c.pid}` : "", c.port ? `port ${c.port}` : ""]
      .filter(Boolean)
      .join(", ");
    out(
      `  ${c.status === "running" ? "✔" : "✘"} ${c.name.padEnd(24)} ${c.status}${where ? `  (${where})` : ""}`,
    );
    if (c.status === "crashed") {
      out(`    last lines of ${c.logFile}:`);
      for (const l of (c.logTail ?? "").split("\n")) out(`    | ${l}`);
    }
  }
}

function printChecks(checks: ComponentCheck[]): void {
  const mark = { ok: "✔", missing: "✘", broken: "!" } as const;
  for (const c of checks) {
    out(
      `${mark[c.status]} ${c.name.padEnd(30)} ${(c.version || "-").padEnd(10)} ${c.status.padEnd(8)} ${c.path || "-"}`,
    );
    if (c.status !== "ok") {
      out(`    ${c.detail}`);
      out(`    fix: ${c.fix}`);
    }
  }
  const bad = checks.filter((c) => c.status !== "ok");
  out(
    bad.length === 0
      ? `all ${checks.length} components ok`
      : `${bad.length} of ${checks.length} components need attention; \`npm run setup\` installs everything`,
  );
}

export function sandboxCommand(): Command {
  const sandbox = strictUsage(new Command("sandbox")).description(
    "the local target's cluster: real control plane (kwok nodes), moto, sandbox agent",
  );
  // The same sandbox a run uses: $EKS_RUNBOOK_SANDBOX, else "eks-runbook".
  const name = new Option(
    "--name <name>",
    "sandbox name (default: $EKS_RUNBOOK_SANDBOX, else eks-runbook)",
  ).default(sandboxName(), sandboxName());

  sandbox
    .command("up")
    .description("start the sandbox, or reuse it when it already runs (idempotent)")
    .addOption(name)
    .option("--no-agent", "do not start the sandbox agent (node groups, data plane)")
    .action(async (opts: { name: string; agent: boolean }) => {
      const { sandboxUp } = await import("../sandbox/sandbox.js");
      const { signal, dispose } = interruptSignal();
      try {
        const info = await sandboxUp({
          name: opts.name,
          signal,
          agent: opts.agent ? undefined : false,
          onProgress: (line) => out(line),
        });
        out(
          `sandbox ${info.name} ${info.reused ? "already running" : "ready"} (${(info.elapsedMs / 1000).toFixed(1)}s)`,
        );
        out(`  kubeconfig  ${info.kubeconfigPath}`);
        out(`  logs        ${info.logsDir}`);
        out(`  api server  ${info.apiServerUrl}`);
        out(`  moto        ${info.motoEndpoint}`);
        out(`  use it:     export KUBECONFIG=${info.kubeconfigPath}`);
      } finally {
        dispose();
      }
    });

  sandbox
    .command("down")
    .description("stop every sandbox process and delete its state")
    .addOption(name)
    .action(async (opts: { name: string }) => {
      const { sandboxDown } = await import("../sandbox/sandbox.js");
      const res = await sandboxDown({ name: opts.name, onProgress: (line) => out(line) });
      if (!res.existed) out(`sandbox ${res.name}: nothing to stop`);
      if (res.portsStillListening.length > 0) process.exitCode = 1;
    });

  sandbox
    .command("status")
    .description("what runs, where the kubeconfig and logs are (exit 1 unless running)")
    .addOption(name)
    .option("--json", "one JSON object on stdout")
    .action(async (opts: { name: string; json?: boolean }) => {
      const { sandboxStatus } = await import("../sandbox/sandbox.js");
      const info = await sandboxStatus({ name: opts.name });
      if (opts.json) out(JSON.stringify(info));
      else printInfo(info);
      if (info.state !== "running") process.exitCode = 1;
    });

  sandbox
    .command("doctor")
    .description("check every toolchain component (exit 1 when something is missing or broken)")
    .option("--json", "one JSON array on stdout")
    .action(async (opts: { json?: boolean }) => {
      const { doctor } = await import("../sandbox/doctor.js");
      const { signal, dispose } = interruptSignal();
      try {
        const checks = await doctor({ signal });
        if (opts.json) out(JSON.stringify(checks));
        else printChecks(checks);
        if (checks.some((c) => c.status !== "ok")) process.exitCode = 1;
      } finally {
        dispose();
      }
    });

  return sandbox;
}
