import { describe, expect, it } from "vitest";
import {
  httpClass,
  isConnectFailure,
  isFailureClass,
  orderFailureClasses,
  statusOfClass,
  TRANSPORT_CLASSES,
  transportClass,
  transportClassIndex,
} from "../../src/traffic/error-kind.js";

// How a strict client names each failure: by the error undici reports and by the state of
// the connection the request went out on.

const err = (code: string) => Object.assign(new Error(code), { code });
const fresh = { reused: false, responseStarted: false };
const reusedIdle = { reused: true, responseStarted: false };
const reusedMidAnswer = { reused: true, responseStarted: true };

describe("failure classes", () => {
  it.each([
    ["ECONNRESET", "keepalive-race"],
    ["UND_ERR_SOCKET", "keepalive-race"],
    ["EPIPE", "keepalive-race"],
    ["UND_ERR_CLOSED", "keepalive-race"],
  ])("%s on a reused connection before any response byte is a keep-alive race", (code, cls) => {
    expect(transportClass(err(code), reusedIdle)).toBe(cls);
  });

  it("the same break on a fresh connection, or after the answer started, is a reset", () => {
    expect(transportClass(err("ECONNRESET"), fresh)).toBe("reset");
    expect(transportClass(err("UND_ERR_SOCKET"), reusedMidAnswer)).toBe("reset");
    expect(transportClass(err("ECONNRESET"))).toBe("reset");
  });

  it("refused and timeouts stay what they are on any connection", () => {
    expect(transportClass(err("ECONNREFUSED"), reusedIdle)).toBe("refused");
    expect(transportClass(err("UND_ERR_HEADERS_TIMEOUT"), reusedIdle)).toBe("timeout");
    expect(transportClass(err("ETIMEDOUT"), fresh)).toBe("timeout");
    expect(transportClass(err("EHOSTUNREACH"), fresh)).toBe("unreachable");
  });

  it.each([
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "CERT_HAS_EXPIRED",
    "ERR_TLS_CERT_ALTNAME_INVALID",
    "ERR_SSL_WRONG_VERSION_NUMBER",
    "ERR_SSL_PACKET_LENGTH_TOO_LONG",
    "EPROTO",
  ])("%s is a TLS failure (a failed request, not a crash)", (code) => {
    expect(transportClass(err(code), fresh)).toBe("tls");
  });

  it("looks into the cause undici wraps socket errors in", () => {
    const wrapped = Object.assign(new Error("fetch failed"), { cause: err("ECONNREFUSED") });
    expect(transportClass(wrapped)).toBe("refused");
  });

  it("anything unknown is other, never dropped", () => {
    expect(transportClass(err("EWHATEVER"))).toBe("other");
    expect(transportClass(undefined)).toBe("other");
  });

  it("connect-phase failures are the ones a lane rests after", () => {
    const connectPhase = TRANSPORT_CLASSES.filter((_, i) => isConnectFailure(i));
    expect(connectPhase).toEqual(["refused", "tls", "unreachable"]);
    expect(isConnectFailure(transportClassIndex(err("ECONNRESET"), reusedIdle))).toBe(false);
  });

  it("names HTTP classes by code and validates class names for configuration", () => {
    expect(httpClass(503)).toBe("http-503");
    expect(statusOfClass("http-503")).toBe(503);
    expect(statusOfClass("503")).toBeUndefined();
    expect(isFailureClass("keepalive-race")).toBe(true);
    expect(isFailureClass("http-429")).toBe(true);
    expect(isFailureClass("connect")).toBe(false);
    expect(isFailureClass("http-5xx")).toBe(false);
  });

  it("orders classes: status codes ascending, then transport classes in their order", () => {
    expect(
      orderFailureClasses(["timeout", "http-503", "keepalive-race", "http-404", "refused", "zzz"]),
    ).toEqual(["http-404", "http-503", "refused", "keepalive-race", "timeout", "zzz"]);
  });
});
