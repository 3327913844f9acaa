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

/** An absolute http(s) URL; returns it parsed. */
export function parseTargetUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(
      `url "${excerpt(text, 120)}": not an absolute URL`,
      "Give the scheme and host, e.g. http://my-lb.example.com/echoserver.",
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InputError(
      `url "${excerpt(text, 120)}": the scheme must be http or https, not ${url.protocol.replace(":", "")}`,
      "For example http://my-lb.example.com/echoserver.",
    );
  }
  if (url.username || url.password) {
    throw new InputError(
      `url "${excerpt(text, 120)}": credentials in the URL are not supported`,
      "Remove user:password@ from the URL.",
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
