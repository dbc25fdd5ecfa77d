/** A browser's HTTP for the bridge's pages: cookies per host, the bridge's certificate trusted, redirects followed. */
import http from 'node:http';
import https from 'node:https';
import { DEMO_PASSWORD } from '../dev-idp.ts';
import type { LinkHarness } from './link-harness.ts';

export type Browser = ReturnType<typeof browserFor>;

interface Visit {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** A browser's HTTP: a cookie jar per host, the bridge's certificate trusted, redirects followed on request. */
export function browserFor(h: LinkHarness) {
  const jar = new Map<string, Map<string, string>>();
  const send = (url: URL, method: string, body?: string, headers: Record<string, string> = {}) =>
    new Promise<Visit>((resolve, reject) => {
      const cookies = jar.get(url.host) ?? new Map<string, string>();
      const request = (url.protocol === 'https:' ? https : http).request(
        url,
        {
          method,
          ...(url.protocol === 'https:' ? { ca: h.bridge.certificate } : {}),
          headers: {
            ...(cookies.size ? { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
            ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
            ...headers,
          },
        },
        (response) => {
          for (const line of response.headers['set-cookie'] ?? []) {
            const [pair, ...attributes] = line.split(';');
            const [name, ...value] = (pair ?? '').split('=');
            if (!name) continue;
            if (attributes.some((a) => /max-age=0/i.test(a.trim()))) cookies.delete(name.trim());
            else cookies.set(name.trim(), value.join('='));
          }
          jar.set(url.host, cookies);
          const parts: Buffer[] = [];
          response.on('data', (p: Buffer) => parts.push(p));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              text: Buffer.concat(parts).toString(),
            }),
          );
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  return {
    jar,
    async go(
      start: string,
      options: {
        method?: string;
        form?: Record<string, string>;
        headers?: Record<string, string>;
        follow?: boolean;
      } = {},
    ) {
      let url = new URL(start, h.bridge.url);
      let visit = await send(
        url,
        options.method ?? (options.form ? 'POST' : 'GET'),
        options.form ? new URLSearchParams(options.form).toString() : undefined,
        options.headers,
      );
      for (
        let hop = 0;
        options.follow !== false && hop < 12 && visit.status >= 300 && visit.status < 400;
        hop++
      ) {
        url = new URL(visit.headers.location as string, url);
        visit = await send(url, 'GET');
      }
      return { ...visit, url };
    },
  };
}

/** Signs in through the development provider's form; the page the bridge sent back to. */
export async function signInAs(h: LinkHarness, b: Browser, account: string, start = '/my-apps') {
  const form = await b.go(start);
  if (form.url.origin !== h.bridge.devIdp?.issuer) throw new Error(`sign-in went to ${form.url.href}`);
  const action = /<form method="post" action="([^"]+)"/.exec(form.text)?.[1] as string;
  return b.go(new URL(action, form.url).href, { form: { login: account, password: DEMO_PASSWORD } });
}

export const csrfOf = (text: string) => /name="csrf" value="([^"]+)"/.exec(text)?.[1] as string;
