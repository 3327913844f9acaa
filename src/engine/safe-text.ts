// What the runbook prints back of the operator's input (config values, file names, URLs,
// journal lines) goes through here, so a terminal escape sequence in a file is shown as
// text instead of being executed by the terminal, a long value cannot flood the screen,
// and credentials in a URL are never echoed.

// C0 controls except newline and tab, DEL, and the C1 range (0x80–0x9f: 8-bit CSI etc.).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL_OR_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

function escapeChar(c: string): string {
  if (c === "\n") return "\\n";
  if (c === "\t") return "\\t";
  if (c === "\r") return "\\r";
  if (c === "\u001b") return "\\e";
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * Escapes control characters in text printed to the terminal. Newlines and tabs are kept
 * (messages are multi-line); use `excerpt` for a single value.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, escapeChar);
}

/** How many characters of an input value a message may quote. */
export const EXCERPT_MAX = 40;

/**
 * A single input value as a message may quote it: control characters (newlines too)
 * escaped, URL credentials redacted, cut to `max` characters with the original length.
 */
export function excerpt(value: string, max = EXCERPT_MAX): string {
  const clean = redactUrlCredentials(value).replace(CONTROL_OR_LINE, escapeChar);
  if (clean.length <= max) return clean;
  return `${clean.slice(0, max)}… (${value.length} characters)`;
}

/** `http://user:pw@host/` → `http://***@host/`: userinfo is never printed or logged. */
export function redactUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, "$1***@");
}

// Shapes of credentials that must never be echoed, even as a short excerpt: AWS access
// key ids, Pulumi access tokens, GitHub tokens, JWTs, PEM blocks, and long high-entropy
// strings (a 40-character AWS secret access key).
const SECRET_SHAPES = [
  /\b(AKIA|ASIA)[A-Z0-9]{16}\b/,
  /\bpul-[a-f0-9]{20,}/i,
  /\bgh[pousr]_[A-Za-z0-9]{20,}/,
  /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/,
  /-----BEGIN [A-Z ]+-----/,
  /[A-Za-z0-9+/=_-]{32,}/,
];

/** True when the text looks like it holds a credential (so it is described, not quoted). */
export function looksSecret(text: string): boolean {
  return SECRET_SHAPES.some((re) => re.test(text));
}

/**
 * A value for an error message: quoted when short and harmless, otherwise described by
 * its type and length only.
 */
export function quoteValue(value: string, max = EXCERPT_MAX): string {
  if (looksSecret(value)) return `a string of ${value.length} characters (not shown)`;
  if (value.length > max) return `a string of ${value.length} characters`;
  return `"${excerpt(value, max)}"`;
}
