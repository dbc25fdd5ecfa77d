/** The link's HTTPS requests (enrollment): a private CA and an HTTP CONNECT proxy when configured. */
import type { Agent } from 'node:http';
import https from 'node:https';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { PlantgateError } from '../../drivers/core/index.ts';
import { gatewayError } from '../errors.ts';

export interface HttpsOptions {
  /** PEM of a private CA the bridge's certificate chains to. */
  ca?: string;
  /** http://proxy:3128 — the link and enrollment go through it with CONNECT. */
  proxy?: string;
}

export function proxyAgent(options: HttpsOptions): Agent | undefined {
  return options.proxy
    ? (new HttpsProxyAgent(options.proxy, options.ca ? { ca: options.ca } : {}) as Agent)
    : undefined;
}

export function postJson(
  url: string,
  body: unknown,
  options: HttpsOptions,
  timeoutMs = 15_000,
): Promise<unknown> {
  const payload = Buffer.from(JSON.stringify(body));
  const agent = proxyAgent(options);
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': payload.length },
        ...(options.ca ? { ca: options.ca } : {}),
        ...(agent ? { agent } : {}),
        timeout: timeoutMs,
      },
      (response) => {
        const parts: Buffer[] = [];
        response.on('data', (part: Buffer) => parts.push(part));
        response.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          let json: { error?: { code: string; message: string } } | undefined;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          if ((response.statusCode ?? 500) >= 400) {
            const error = json?.error;
            return reject(
              error
                ? new PlantgateError(error.code, error.message)
                : gatewayError('PG_ERR_INTERNAL', `${url} answered HTTP ${response.statusCode}`),
            );
          }
          resolve(json);
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    request.on('error', (error) =>
      reject(
        gatewayError('PG_ERR_BRIDGE_UNREACHABLE', `cannot reach the bridge at ${url}: ${error.message}`),
      ),
    );
    request.end(payload);
  });
}
