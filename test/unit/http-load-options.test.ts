import { describe, expect, it } from "vitest";
import { ExitCode, InputError } from "../../src/engine/errors.js";
import { transportClass } from "../../src/traffic/error-kind.js";
import {
  parseDuration,
  parseHeader,
  parseHostHeader,
  parseMethod,
  parsePositiveInt,
  parsePositiveNumber,
  parseTargetUrl,
  parseTimeout,
  redactUrl,
} from "../../src/traffic/load-options.js";

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).exitCode).toBe(ExitCode.badInput);
    return err as InputError;
  }
  throw new Error("expected an InputError");
}

describe("load options", () => {
  it("parses durations with units; a bare number is seconds", () => {
    expect(parseDuration("500ms", "--duration")).toBe(500);
    expect(parseDuration("30s", "--duration")).toBe(30_000);
    expect(parseDuration("1.5m", "--duration")).toBe(90_000);
    expect(parseDuration("1h", "--duration")).toBe(3_600_000);
    expect(parseDuration("2", "--duration")).toBe(2000);
  });

  it.each(["0", "0s", "-1s", "5y", "", "abc", "1e3", "Infinity"])(
    "rejects the duration %j naming the flag and the fix",
    (text) => {
      const e = inputError(() => parseDuration(text, "--duration"));
      expect(e.message).toContain(`--duration "${text}"`);
      expect(e.hint).toMatch(/30s/);
    },
  );

  it("limits the timeout to 10 minutes", () => {
    expect(parseTimeout("2s")).toBe(2000);
    expect(inputError(() => parseTimeout("11m")).message).toMatch(/at most 10m/);
  });

  it.each(["0", "-3", "1.5", "x", "10001"])("rejects --connections %j", (text) => {
    const e = inputError(() => parsePositiveInt(text, "--connections", 10_000));
    expect(e.message).toContain("--connections");
    expect(e.message).toContain("1 to 10,000");
  });

  it("accepts positive rates, fractional too, and rejects zero and negatives", () => {
    expect(parsePositiveNumber("0.5", "--rate")).toBe(0.5);
    expect(parsePositiveNumber("300", "--rate")).toBe(300);
    for (const t of ["0", "-1", "abc", "1e9x"]) inputError(() => parsePositiveNumber(t, "--rate"));
  });

  it("accepts absolute http(s) URLs only", () => {
    expect(parseTargetUrl("http://lb.example.com/echoserver").pathname).toBe("/echoserver");
    expect(parseTargetUrl("https://[::1]:8443/").port).toBe("8443");
    expect(inputError(() => parseTargetUrl("lb.example.com/echoserver")).message).toMatch(
      /not an absolute URL/,
    );
    expect(inputError(() => parseTargetUrl("ftp://x/")).message).toMatch(/http or https/);
    expect(inputError(() => parseTargetUrl("http://u:p@x/")).message).toMatch(/credentials/);
    // and no message ever echoes them
    expect(inputError(() => parseTargetUrl("http://u:s3cret@x/")).message).not.toContain("s3cret");
    expect(inputError(() => parseTargetUrl("ftp://tok@x/")).message).not.toContain("tok@");
    expect(inputError(() => parseTargetUrl("u:s3cret@x/")).message).not.toContain("s3cret");
    expect(redactUrl("https://user:pw@lb.example.com/a@b")).toBe("https://***@lb.example.com/a@b");
    expect(redactUrl("http://lb/x")).toBe("http://lb/x");
  });

  it("accepts host names for the Host header, not URLs or spaces", () => {
    expect(parseHostHeader("apps.example.com")).toBe("apps.example.com");
    expect(parseHostHeader("apps.example.com:8080")).toBe("apps.example.com:8080");
    inputError(() => parseHostHeader("http://apps.example.com"));
    inputError(() => parseHostHeader("a b"));
    inputError(() => parseHostHeader(""));
  });
});

describe("transport error kinds", () => {
  it.each([
    ["ECONNREFUSED", "refused"],
    ["UND_ERR_CONNECT_TIMEOUT", "timeout"],
    ["ENOTFOUND", "unreachable"],
    ["ECONNRESET", "reset"],
    ["UND_ERR_SOCKET", "reset"],
    ["EPIPE", "reset"],
    ["UND_ERR_HEADERS_TIMEOUT", "timeout"],
    ["UND_ERR_BODY_TIMEOUT", "timeout"],
    ["EWHATEVER", "other"],
  ])("%s is %s", (code, kind) => {
    expect(transportClass(Object.assign(new Error("x"), { code }))).toBe(kind);
  });

  it("anything without a code is other", () => {
    expect(transportClass(new Error("x"))).toBe("other");
    expect(transportClass(null)).toBe("other");
  });
});

describe("request options", () => {
  it("parses -H as curl and hey do, keeps the value out of messages", () => {
    expect(parseHeader("Accept: application/json")).toEqual(["Accept", "application/json"]);
    expect(parseHeader("X-Token:abc:def")).toEqual(["X-Token", "abc:def"]);
    const e = inputError(() => parseHeader("Authorization Bearer s3cret"));
    expect(e.message).not.toContain("s3cret");
    inputError(() => parseHeader("X: a\r\nInjected: 1"));
    expect(inputError(() => parseHeader("Host: x")).message).toMatch(/--host/);
  });

  it("accepts method tokens, upper-cased", () => {
    expect(parseMethod("post")).toBe("POST");
    expect(parseMethod("HEAD")).toBe("HEAD");
    inputError(() => parseMethod("GE T"));
    inputError(() => parseMethod("CONNECT"));
  });
});
