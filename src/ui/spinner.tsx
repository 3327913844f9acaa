import { Text } from "ink";
import { useEffect, useState } from "react";

// A dots spinner with a label. @inkjs/ui has one, but its entry point loads every one of
// its components (62 modules) before the first frame; this is the only one used.

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
/** 10 frames/s: the screen's render budget (DESIGN.md: at most ~10 renders/s). */
const INTERVAL_MS = 100;

export function Spinner({ label }: { label: string }) {
  const [frame, setFrame] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setFrame((f) => (f + 1) % FRAMES.length), INTERVAL_MS);
    return () => clearInterval(timer);
  }, []);
  return (
    <Text>
      <Text color="blue">{FRAMES[frame]}</Text> {label}
    </Text>
  );
}
