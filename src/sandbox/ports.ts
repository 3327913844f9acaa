import { createServer } from "node:net";
import { fnv1a } from "./fnv1a.js";

// Loopback ports for a sandbox. Each sandbox takes one block of consecutive ports, first
// tried at a place derived from its name (so a user's sandbox and a test's sandbox rarely
// even look at the same ports), moving on while any port of the block is in use. The range
// stays below Linux's ephemeral range (32768+), so outgoing connections never grab them.

export const PORT_RANGE = { start: 20_000, end: 32_000 } as const;

/** True when nothing listens on 127.0.0.1:port (nor on the wildcard address). */
export function isPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => {
      srv.close(() => resolve(true));
    });
  });
}

/** Finds `count` consecutive free loopback ports, starting at a block derived from `name`. */
export async function allocatePortBlock(
  name: string,
  count: number,
  opts: { blockSize?: number; attempts?: number } = {},
): Promise<number[]> {
  const blockSize = Math.max(count, opts.blockSize ?? 8);
  const blocks = Math.floor((PORT_RANGE.end - PORT_RANGE.start) / blockSize);
  const first = fnv1a(name) % blocks;
  const attempts = Math.min(opts.attempts ?? 64, blocks);
  for (let i = 0; i < attempts; i++) {
    const base = PORT_RANGE.start + ((first + i) % blocks) * blockSize;
    const ports = Array.from({ length: count }, (_, j) => base + j);
    // Sequentially: a probe of 127.0.0.1:p and one of 0.0.0.0:p at once would collide.
    let free = true;
    for (const p of ports) {
      free = (await isPortFree(p)) && (await isPortFree(p, "0.0.0.0"));
      if (!free) break;
    }
    if (free) return ports;
  }
  throw new Error(
    `no block of ${count} free loopback ports found in ${PORT_RANGE.start}-${PORT_RANGE.end}`,
  );
}
