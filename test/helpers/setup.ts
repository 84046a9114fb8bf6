// Loaded before every test file (vitest.config.ts setupFiles): a test that makes no assertion fails,
// so an early return or a loop over nothing can never pass as green.
import { beforeEach, expect } from "vitest";

beforeEach(() => {
  expect.hasAssertions();
});
