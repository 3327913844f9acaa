import type { Tone } from "./detail-lines.js";

// Colours for the detail lines' tones (Ink colour names; NO_COLOR turns them off).

export function toneProps(tone: Tone | undefined): { color?: string; dimColor?: boolean } {
  switch (tone) {
    case "add":
    case "good":
      return { color: "green" };
    case "change":
    case "warn":
      return { color: "yellow" };
    case "replace":
      return { color: "magenta" };
    case "remove":
    case "bad":
      return { color: "red" };
    case "dim":
      return { dimColor: true };
    default:
      return {};
  }
}
