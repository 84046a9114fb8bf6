// MCP server arguments and URLs carry credentials as often as env values do: a viewer reading an
// effective agent sees `--api-key=[redacted]`, not the key, and the value is scrubbed from the logs.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { json, setupApi, type Harness } from "./helpers.ts";

let h: Harness;
afterEach(async () => {
  await h?.cleanup();
});

const KEY = "live-4f9a8b7c6d5e4f3a";
const PASS = "hunter2-correct-horse";

describe("MCP arguments in the API", () => {
  it("masks credential-named options, URL passwords and credential query parameters; keeps ${VAR} references", async () => {
    h = await setupApi();
    writeFileSync(
      join(h.stateDir, "libs", "team", "mcp", "fetch.yaml"),
      [
        "command: uvx",
        "args:",
        "  - mcp-server-fetch",
        `  - --api-key=${KEY}`,
        "  - --token",
        `  - ${KEY}-2`,
        `  - postgres://app:${PASS}@db.internal/x`,
        "  - --password",
        '  - "${DB_PASSWORD}"',
        "  - --verbose",
        "  - --keyfile",
        "  - /etc/app/key.pem",
        `  - https://api.example.com/sse?mode=fast&access_token=${PASS}`,
        "",
      ].join("\n"),
    );
    const res = await json(await h.call("GET", "/v1/libraries/team/agents/reviewer", { token: h.tokens.viewer }));
    expect(res.agent.mcpServers.fetch.args).toEqual([
      "mcp-server-fetch",
      "--api-key=[redacted]",
      "--token",
      "[redacted]",
      "postgres://app:[redacted]@db.internal/x",
      "--password",
      "${DB_PASSWORD}",
      "--verbose",
      "--keyfile",
      "/etc/app/key.pem",
      "https://api.example.com/sse?mode=fast&access_token=[redacted]",
    ]);
    const text = JSON.stringify(res);
    for (const secret of [KEY, PASS]) expect(text).not.toContain(secret);
    expect(h.logs.join("\n")).not.toContain(KEY);
  });
});
