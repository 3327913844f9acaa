import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { describeKubeError, statusCodeOf } from "../../src/kube/errors.js";

describe("describeKubeError", () => {
  it("quotes the API's Status message, never headers", () => {
    const err = new ApiException(
      429,
      "Unknown API Status Code!",
      JSON.stringify({ kind: "Status", code: 429, message: "Cannot evict pod" }),
      { authorization: "Bearer secret" },
    );
    expect(describeKubeError(err)).toBe("API server answered 429: Cannot evict pod");
    expect(statusCodeOf(err)).toBe(429);
  });

  it("names the transport error of an unreachable server", () => {
    const err = new TypeError("fetch failed", {
      cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), {
        code: "ECONNREFUSED",
      }),
    });
    expect(describeKubeError(err)).toBe(
      "API server unreachable (connect ECONNREFUSED 127.0.0.1:6443)",
    );
    expect(statusCodeOf(err)).toBeUndefined();
  });

  it("does not mistake a timeout's DOMException code for an HTTP status", () => {
    const err = new DOMException("The operation was aborted due to timeout", "TimeoutError");
    expect(statusCodeOf(err)).toBeUndefined();
    expect(describeKubeError(err)).toBe("API request timed out or was cancelled");
  });
});
