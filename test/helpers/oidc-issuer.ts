// A real OIDC issuer for tests, on loopback: node:http serves the discovery document and the JWKS
// (which the test can rotate, or take down), keys come from jose's generateKeyPair and tokens from
// SignJWT. Counts JWKS fetches so tests can prove caching and the refetch cooldown.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";

export type IssuerKey = { kid: string; alg: "RS256" | "ES256"; privateKey: CryptoKey; publicJwk: JWK };

export type TestIssuer = {
  issuer: string;
  jwksUri: string;
  /** JWKS responses served so far. */
  hits: () => number;
  newKey: (alg?: "RS256" | "ES256", kid?: string) => Promise<IssuerKey>;
  /** The keys the JWKS publishes from now on. */
  publish: (keys: IssuerKey[]) => void;
  /** Makes the JWKS answer 500 (true) or serve again (false). */
  fail: (down: boolean) => void;
  sign: (key: IssuerKey, claims: JWTPayload, opts?: { iat: number; exp?: number | null; nbf?: number; header?: Record<string, unknown> }) => Promise<string>;
  close: () => Promise<void>;
};

export async function startIssuer(): Promise<TestIssuer> {
  let published: JWK[] = [];
  let hits = 0;
  let failing = false;
  const server: Server = createServer((req, res) => {
    if (req.url === "/.well-known/openid-configuration") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ issuer, jwks_uri: jwksUri }));
      return;
    }
    if (req.url === "/jwks") {
      hits++;
      if (failing) {
        res.writeHead(500);
        res.end("down");
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: published }));
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;
  const jwksUri = `${issuer}/jwks`;
  let n = 0;
  return {
    issuer,
    jwksUri,
    hits: () => hits,
    newKey: async (alg = "RS256", kid = `k${++n}`) => {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
      return { kid, alg, privateKey, publicJwk };
    },
    publish: (keys) => {
      published = keys.map((k) => k.publicJwk);
    },
    fail: (down) => {
      failing = down;
    },
    sign: async (key, claims, opts = { iat: 0 }) => {
      let jwt = new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, ...opts.header }).setIssuedAt(opts.iat);
      if (opts.exp !== null) jwt = jwt.setExpirationTime(opts.exp ?? opts.iat + 3600);
      if (opts.nbf !== undefined) jwt = jwt.setNotBefore(opts.nbf);
      return jwt.sign(key.privateKey);
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}
