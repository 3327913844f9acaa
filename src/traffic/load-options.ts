import { readFileSync } from "node:fs";
import { InputError } from "../engine/errors.js";
import { excerpt } from "../engine/safe-text.js";

// Text from flags or config into load-generator options, each bad value an InputError that
// names the flag and says what would be accepted. What is echoed of the text goes through
// excerpt(): escaped, bounded, URL credentials replaced by ***.

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
export const MAX_CONNECTIONS = 10_000;
/** The workers share a 32-bit request counter. */
export const MAX_REQUESTS = 2_000_000_000;
const MAX_TIMEOUT_MS = 600_000;

/** "500ms", "30s", "1.5m", "1h"; a bare number is seconds. Must be > 0. */
export function parseDuration(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  const ms = m ? Number(m[1]) * UNITS[m[2] ?? "s"]! : Number.NaN;
  if (!(ms > 0) || !Number.isFinite(ms)) {
    throw new InputError(
      `${flag} "${excerpt(text, 120)}": not a positive duration`,
      `Give a number with a unit, e.g. ${flag} 500ms, 30s, 5m or 1h.`,
    );
  }
  return Math.round(ms);
}

export function parsePositiveInt(
  text: string,
  flag: string,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n <= 0 || n > max) {
    throw new InputError(
      `${flag} "${excerpt(text, 120)}": must be a whole number from 1 to ${max.toLocaleString("en-US")}`,
      `For example ${flag} 100.`,
    );
  }
  return n;
}

export function parsePositiveNumber(text: string, flag: string): number {
  const n = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!(n > 0) || !Number.isFinite(n)) {
    throw new InputError(
      `${flag} "${excerpt(text, 120)}": must be a number above 0`,
      `For example ${flag} 500.`,
    );
  }
  return n;
}

/**
 * The URL as it may be printed: any user-info (user:password@, or a token@) replaced by
 * `***`. Works on text that does not even parse as a URL.
 */
export function redactUrl(text: string): string {
  return text.replace(/(^|\/\/)[^/@\s]+@/, "$1***@");
}

/** An absolute http(s) URL; returns it parsed. Messages never echo credentials. */
export function parseTargetUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(
      `url "${excerpt(redactUrl(text), 120)}": not an absolute URL`,
      "Give the scheme and host, e.g. http://my-lb.example.com/echoserver.",
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InputError(
      `url "${excerpt(redactUrl(text), 120)}": the scheme must be http or https, not ${url.protocol.replace(":", "")}`,
      "For example http://my-lb.example.com/echoserver.",
    );
  }
  if (url.username || url.password) {
    throw new InputError(
      `url "${excerpt(redactUrl(text), 120)}": credentials in the URL are not supported`,
      "Remove user:password@ from the URL and send them as a header, e.g. -H 'Authorization: Basic …'.",
    );
  }
  return url;
}

/** A Host header value: a host name or address with an optional port, nothing else. */
export function parseHostHeader(text: string): string {
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(text)) {
    throw new InputError(
      `--host "${excerpt(text, 120)}": not a host name`,
      "Give the virtual host the ingress routes on, e.g. --host apps.example.com.",
    );
  }
  return text;
}

export function parseTimeout(text: string): number {
  const ms = parseDuration(text, "--timeout");
  if (ms > MAX_TIMEOUT_MS) {
    throw new InputError(
      `--timeout "${excerpt(text, 120)}": at most 10m`,
      "For example --timeout 2s.",
    );
  }
  return ms;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `-H "Name: value"` (curl's and hey's form). The value is never echoed: it may be a secret. */
export function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(":");
  const name = colon > 0 ? text.slice(0, colon).trim() : "";
  const value = colon > 0 ? text.slice(colon + 1).trim() : "";
  if (!TOKEN.test(name) || /[\r\n\0]/.test(value)) {
    throw new InputError(
      `-H/--header "${(name || text.split(/[\s:]/)[0] || "").slice(0, 40)} …": not a "Name: value" header`,
      'For example -H "Accept: application/json" (repeat -H for more headers).',
    );
  }
  if (name.toLowerCase() === "host") {
    throw new InputError(
      "-H/--header Host: use --host for the Host header",
      "For example --host apps.example.com.",
    );
  }
  return [name, value];
}

/** An HTTP method token, upper-cased (GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS…). */
export function parseMethod(text: string): string {
  const m = text.trim().toUpperCase();
  if (!TOKEN.test(m) || m === "CONNECT" || m === "TRACE") {
    throw new InputError(
      `-m/--method "${text}": not an HTTP method this command sends`,
      "For example -m GET, -m HEAD or -m POST.",
    );
  }
  return m;
}

/** `--body text`, or `--body @path` for a file's contents (at most 16 MiB). */
export function readBody(text: string): string {
  if (!text.startsWith("@")) return text;
  const path = text.slice(1);
  try {
    const body = readFileSync(path, "utf8");
    if (body.length > 16 * 1024 * 1024) throw new RangeError("larger than 16 MiB");
    return body;
  } catch (err) {
    throw new InputError(
      `--body ${text}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      "Give a readable file after @, or the body itself without @.",
    );
  }
}
