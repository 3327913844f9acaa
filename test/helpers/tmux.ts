import { execFileSync } from "node:child_process";

// Drives a program in a real terminal: tmux runs it in a detached session of a fixed
// size; tests type with send-keys and read the screen with capture-pane.

export class TmuxSession {
  private constructor(readonly name: string) {}

  static start(
    command: string,
    opts: { cwd: string; env?: Record<string, string>; width?: number; height?: number },
  ): TmuxSession {
    const name = `ekr-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const envArgs = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    execFileSync("tmux", [
      "new-session",
      "-d",
      "-s",
      name,
      "-x",
      String(opts.width ?? 140),
      "-y",
      String(opts.height ?? 40),
      "-c",
      opts.cwd,
      ...envArgs,
      // A person's terminal: no CI variable (CI runs this test with CI=true, which the
      // runbook rightly treats as "nobody can answer a prompt"). Keep the pane after the
      // program exits so the test can read its last screen.
      `env -u CI ${command}; echo "[exit $?]"; sleep 600`,
    ]);
    execFileSync("tmux", ["set-option", "-t", name, "remain-on-exit", "on"]);
    return new TmuxSession(name);
  }

  screen(): string {
    return execFileSync("tmux", ["capture-pane", "-p", "-t", this.name], { encoding: "utf8" });
  }

  /** Sends text literally (no key-name lookup), e.g. a filter or a typed confirmation. */
  type(text: string): void {
    execFileSync("tmux", ["send-keys", "-t", this.name, "-l", text]);
  }

  /** Everything the pane printed, including what scrolled away. */
  history(): string {
    return execFileSync("tmux", ["capture-pane", "-p", "-S", "-3000", "-t", this.name], {
      encoding: "utf8",
    });
  }

  /** Lines the pane has pushed into its scrollback (0 while a program owns the alternate screen). */
  historySize(): number {
    return Number(
      execFileSync("tmux", ["display-message", "-p", "-t", this.name, "#{history_size}"], {
        encoding: "utf8",
      }).trim(),
    );
  }

  /** The pane's size as tmux sees it (columns, rows). */
  size(): { columns: number; rows: number } {
    const [c, r] = execFileSync(
      "tmux",
      ["display-message", "-p", "-t", this.name, "#{pane_width} #{pane_height}"],
      { encoding: "utf8" },
    )
      .trim()
      .split(" ")
      .map(Number);
    return { columns: c ?? 0, rows: r ?? 0 };
  }

  resize(width: number, height: number): void {
    execFileSync("tmux", [
      "resize-window",
      "-t",
      this.name,
      "-x",
      String(width),
      "-y",
      String(height),
    ]);
  }

  keys(...keys: string[]): void {
    execFileSync("tmux", ["send-keys", "-t", this.name, ...keys]);
  }

  async waitFor(
    pattern: RegExp | string | ((screen: string) => boolean),
    timeoutMs = 30_000,
    what: () => string = () => this.screen(),
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = what();
      const hit =
        typeof pattern === "string"
          ? s.includes(pattern)
          : typeof pattern === "function"
            ? pattern(s)
            : pattern.test(s);
      if (hit) return s;
      if (Date.now() > deadline)
        throw new Error(`screen never showed ${String(pattern)}; last screen:\n${s}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** tmux's view of the terminal modes after the program exited (restored or not). */
  cursorVisible(): boolean {
    return (
      execFileSync("tmux", ["display-message", "-p", "-t", this.name, "#{cursor_flag}"], {
        encoding: "utf8",
      }).trim() === "1"
    );
  }

  kill(): void {
    try {
      execFileSync("tmux", ["kill-session", "-t", this.name], { stdio: "ignore" });
    } catch {
      // already gone
    }
  }
}
