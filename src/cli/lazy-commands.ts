import type { Command } from "commander";
import { loadCommand } from "./load-command.js";
import { sandboxCommand } from "./sandbox-command.js";

// Commands whose definitions live with their features (sandbox, load). Their modules load
// heavy dependencies only inside their actions.

export function addLazyCommands(program: Command): void {
  program.addCommand(sandboxCommand());
  program.addCommand(loadCommand());
}
