// The fixed-window limiter behind failed-auth throttling and per-token request budgets.
import { describe, expect, it } from "vitest";
import { createLimiter } from "../../../src/daemon/auth/rate-limit.ts";

describe("createLimiter", () => {
  it("allows `limit` hits per window, then tells how long to wait, and resets with the window", () => {
    let t = 1_000_000;
    const l = createLimiter({ limit: 3, windowMs: 60_000, now: () => t });
    expect([l.hit("a"), l.hit("a"), l.hit("a")]).toEqual([0, 0, 0]);
    expect(l.blocked("a")).toBe(60);
    expect(l.hit("a")).toBe(60);
    t += 59_500;
    expect(l.blocked("a")).toBe(1);
    expect(l.blocked("b")).toBe(0);
    t += 500;
    expect(l.blocked("a")).toBe(0);
    expect(l.hit("a")).toBe(0);
  });

  it("bounds the number of tracked keys", () => {
    const l = createLimiter({ limit: 1, windowMs: 60_000, now: () => 0, maxKeys: 100 });
    for (let i = 0; i < 1000; i++) l.hit(`ip-${i}`);
    expect(l.size()).toBe(100);
    expect(l.blocked("ip-999")).toBe(60);
    expect(l.blocked("ip-0")).toBe(0);
  });
});
