// Writes docs/events.schema.json from the zod schemas in src/render/event-schema.ts (built
// into dist/ by `npm run build`). A unit test fails when the file and the schemas differ.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { eventsJsonSchema } = await import(join(root, "dist", "render", "event-schema.js"));
writeFileSync(
  join(root, "docs", "events.schema.json"),
  `${JSON.stringify(eventsJsonSchema(), null, 2)}\n`,
);
