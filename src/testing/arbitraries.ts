// fast-check generators of valid universal agents, for parse(render(x)) round-trip properties.
import fc from "fast-check";
import type { ResolvedAgent } from "../library/model.ts";
import type { McpServer } from "../library/schema.ts";

const slug = fc.stringMatching(/^[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,8}){0,2}$/);
const safeText = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ,.()'-]{0,60}$/).map((s) => s.trim() || "x");
const word = fc.stringMatching(/^[a-z][a-z0-9_-]{0,12}$/);

const stdioServer: fc.Arbitrary<McpServer> = fc.record(
  {
    command: fc.constantFrom("uvx", "npx", "node", "/usr/local/bin/mcp"),
    args: fc.array(word, { maxLength: 3 }),
    env: fc.dictionary(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,8}$/), word, { maxKeys: 2 }),
  },
  { requiredKeys: ["command"] },
);

const httpServer: fc.Arbitrary<McpServer> = fc.record(
  {
    type: fc.constant("http" as const),
    url: fc.constantFrom("https://mcp.example.com/mcp", "https://api.example.org/v1/mcp"),
    headers: fc.dictionary(fc.constantFrom("X-Team", "X-Env"), word, { maxKeys: 1 }),
  },
  { requiredKeys: ["type", "url"] },
);

export type AgentArbOptions = { withHttp?: boolean };

export function agentArb(opts: AgentArbOptions = {}): fc.Arbitrary<ResolvedAgent> {
  const servers = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), opts.withHttp === false ? stdioServer : fc.oneof(stdioServer, httpServer), {
    maxKeys: 3,
  });
  return fc
    .record({
      name: slug,
      description: safeText,
      instructions: fc.array(safeText, { minLength: 1, maxLength: 4 }).map((l) => l.join("\n") + "\n"),
      model: fc.option(fc.constantFrom("claude-sonnet-4", "claude-opus-4", "gpt-5-codex"), { nil: undefined }),
      mcpServers: servers,
      allow: fc.option(fc.uniqueArray(fc.constantFrom("read", "write", "shell", "web_fetch", "web_search"), { maxLength: 4 }), { nil: undefined }),
    })
    .map((r) => {
      const a: ResolvedAgent = {
        name: r.name,
        description: r.description,
        instructions: r.instructions,
        knowledge: [],
        mcpServers: r.mcpServers,
        tools: r.allow ? { allow: r.allow } : {},
        toolSettings: {},
        hooks: {},
        targets: [],
        tags: [],
        extensions: {},
        sourceFile: `/lib/agents/${r.name}.md`,
        provenance: {},
      };
      if (r.model) a.model = r.model;
      return a;
    });
}
