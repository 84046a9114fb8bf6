// Signing in to the dashboard through its real form (app.request on the API harness): the login
// cookie and form token, the credential exchange, then requests with the session cookie.
import type { Harness } from "../api/helpers.ts";

export type UiSession = {
  cookie: string;
  csrf: string;
  get: (path: string, headers?: Record<string, string>) => Promise<Response>;
  post: (path: string, form: Record<string, string>, headers?: Record<string, string>) => Promise<Response>;
};

export function cookieValue(res: Response, name: string): string | undefined {
  for (const c of res.headers.getSetCookie()) {
    const m = new RegExp(`^${name}=([^;]*)`).exec(c);
    if (m) return m[1];
  }
  return undefined;
}

export function setCookieLine(res: Response, name: string): string | undefined {
  return res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
}

export function hiddenValue(page: string, name: string): string | undefined {
  return new RegExp(`name="${name}" value="([^"]*)"`).exec(page)?.[1];
}

export async function formPost(h: Harness, path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return h.call("POST", path, {
    body: new URLSearchParams(form).toString(),
    headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://127.0.0.1:7411", ...headers },
  });
}

/** Signs in with a credential; returns the answer of the POST and, on success, a session. */
export async function signIn(h: Harness, credential: string): Promise<{ res: Response; session?: UiSession }> {
  const form = await h.call("GET", "/ui/login");
  const pre = cookieValue(form, "aicfg_login")!;
  const token = hiddenValue(await form.text(), "_csrf")!;
  const res = await formPost(h, "/ui/login", { _csrf: token, credential, next: "/ui" }, { cookie: `aicfg_login=${pre}` });
  const cookie = cookieValue(res, "aicfg_session");
  if (res.status !== 303 || !cookie) return { res };
  const jar = `aicfg_session=${cookie}`;
  const overview = await h.call("GET", "/ui", { headers: { cookie: jar } });
  const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(await overview.text())?.[1] ?? "";
  return {
    res,
    session: {
      cookie: jar,
      csrf,
      get: (path, headers = {}) => h.call("GET", path, { headers: { cookie: jar, ...headers } }),
      post: (path, f, headers = {}) => formPost(h, path, f, { cookie: jar, ...headers }),
    },
  };
}
