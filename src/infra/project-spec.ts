import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { z } from "zod";

// The desired state of a migration on your own stack, as the engine sees it: the stack
// config keys the runbook manages (absent = removed) and the manual edits already applied.
// The program itself is yours, on disk; what the runbook records about it is a hash.

export const projectSpecSchema = z
  .object({
    config: z.record(z.string(), z.string()),
    edits: z.array(z.string()),
  })
  .strict();

export type ProjectSpec = z.infer<typeof projectSpecSchema>;

const SKIP_DIRS = new Set(["node_modules", ".git", ".pulumi", "bin", "dist"]);
const MAX_FILES = 5000;

/**
 * A hash of the program's source files: everything under the project directory but
 * dependencies, build output, dot-files and the stack config files (Pulumi.<stack>.yaml
 * changes with every config step; the program does not).
 */
export async function programHash(projectDir: string): Promise<string> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith(".")) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) await walk(p);
      } else if (e.isFile() && !/^Pulumi\..+\.ya?ml$/.test(e.name) && files.length < MAX_FILES) {
        files.push(p);
      }
    }
  };
  await walk(projectDir);
  const h = createHash("sha256");
  for (const f of files) {
    h.update(relative(projectDir, f));
    h.update("\0");
    h.update(await readFile(f));
    h.update("\0");
  }
  return h.digest("hex").slice(0, 16);
}
