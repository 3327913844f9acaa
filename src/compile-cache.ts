import { enableCompileCache } from "node:module";

// Start-up: most of the time before the first frame is Node compiling the ~650 modules of
// Ink, React and their dependencies. Node's on-disk compile cache (the directory Node picks,
// or NODE_COMPILE_CACHE) skips that from the second start on. Imported first by the CLI
// entry, before anything heavy is loaded; a cache that cannot be written is just not used.
try {
  enableCompileCache();
} catch {
  // Start without it.
}
