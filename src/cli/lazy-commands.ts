import type { Command } from "commander";

// Commands whose definitions live with their features (sandbox, load). Their modules load
// heavy dependencies only inside their actions.

export function addLazyCommands(_program: Command): void {}
