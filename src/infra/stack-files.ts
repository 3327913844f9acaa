import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { type FileHandle, mkdir, open, readdir, readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join } from "node:path";

// Files of a local stack: the DIY backend directory, the generated secrets passphrase and
// the lock files the CLI leaves behind when it dies mid-update.

export interface LocalStackPaths {
  backendDir: string;
  workDir: string;
  passphraseFile: string;
}

export function localStackPaths(stateDir: string): LocalStackPaths {
  return {
    backendDir: join(stateDir, "backend"),
    workDir: join(stateDir, "workspace"),
    passphraseFile: join(stateDir, "passphrase"),
  };
}

/**
 * Creates the passphrase once (random, 256 bits) and keeps it mode 0600; an existing file
 * is reused (the stack's secrets are encrypted with it) and its mode tightened if needed.
 * Never through a symlink (ELOOP: a planted link could point the secret elsewhere), and
 * fsync'd with its directory entry: losing it in a crash would lose every stack secret.
 */
export async function ensurePassphraseFile(file: string): Promise<void> {
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY } = constants;
  let created: FileHandle | undefined;
  try {
    created = await open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  if (created) {
    try {
      await created.writeFile(`${randomBytes(32).toString("base64url")}\n`);
      await created.sync();
    } finally {
      await created.close();
    }
    const dir = await open(dirname(file), O_RDONLY);
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    return;
  }
  const existing = await open(file, O_RDONLY | O_NOFOLLOW);
  try {
    const st = await existing.stat();
    if (!st.isFile())
      throw Object.assign(new Error(`${file} is not a file`), { code: "EISDIR", path: file });
    if ((st.mode & 0o077) !== 0) await existing.chmod(0o600);
  } finally {
    await existing.close();
  }
}

export async function ensureLocalStackDirs(p: LocalStackPaths): Promise<void> {
  await mkdir(p.backendDir, { recursive: true, mode: 0o700 });
  await mkdir(p.workDir, { recursive: true, mode: 0o700 });
}

export interface StackLock {
  file: string;
  pid?: number;
  hostname?: string;
  timestamp?: string;
  /** The process that holds it still runs (on this host, and it is a pulumi process). */
  live: boolean;
}

function pulumiProcessAlive(pid: number): Promise<boolean> {
  // argv of a live process; a reused pid running something else is not the lock holder.
  return readFile(`/proc/${pid}/cmdline`, "utf8").then(
    (cmd) => cmd.includes("pulumi"),
    () => false,
  );
}

/** Lock files of `stack` in a DIY backend (`.pulumi/locks/<org>/<project>/<stack>/*.json`). */
export async function findStackLocks(
  backendDir: string,
  project: string,
  stack: string,
): Promise<StackLock[]> {
  const root = join(backendDir, ".pulumi", "locks");
  const dirs = [join(root, "organization", project, stack), join(root, stack)];
  const locks: StackLock[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names.filter((n) => n.endsWith(".json"))) {
      const file = join(dir, name);
      let info: { pid?: unknown; hostname?: unknown; timestamp?: unknown } = {};
      try {
        info = JSON.parse(await readFile(file, "utf8")) as typeof info;
      } catch {
        // An unreadable lock is still a lock; it has no holder we could check.
      }
      const pid = typeof info.pid === "number" ? info.pid : undefined;
      const host = typeof info.hostname === "string" ? info.hostname : undefined;
      // A lock from another host cannot be checked: count it as live, never steal it.
      const live =
        host !== undefined && host !== hostname()
          ? true
          : pid !== undefined && (await pulumiProcessAlive(pid));
      locks.push({
        file,
        pid,
        hostname: host,
        timestamp: typeof info.timestamp === "string" ? info.timestamp : undefined,
        live,
      });
    }
  }
  return locks;
}
