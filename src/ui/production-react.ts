// React and react-reconciler pick their build from NODE_ENV when they are first loaded, and
// without it they load the development build: prop checks, component stacks and per-render
// profiling marks that cost several times the CPU of a render (measured with
// bench/screen-cost.ts; the screen shares the process with the load generator's threads).
// So the screen's modules load with NODE_ENV=production unless the user set it, and the
// variable is restored right after: child processes (Pulumi programs, kwok, moto) see the
// environment as the user left it.

export async function withProductionReact<T>(load: () => Promise<T>): Promise<T> {
  const before = process.env.NODE_ENV;
  if (before === undefined) process.env.NODE_ENV = "production";
  try {
    return await load();
  } finally {
    if (before === undefined) delete process.env.NODE_ENV;
  }
}
