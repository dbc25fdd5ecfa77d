/** A client of the loopback API, for the CLI: finds port and token from the gateway's config. */

import { OPERATION_PATHS } from '../api/operation-paths.ts';
import { isOperationName, type OperationName } from '../api/operations.ts';
import type { GatewayConfig } from '../config/schema.ts';
import { gatewayError } from '../errors.ts';
import { readLocalToken } from './token.ts';

export interface LocalApiAnswer {
  status: number;
  body: unknown;
}

export class LocalApiClient {
  readonly base: string;
  private readonly token: string;

  constructor(port: number, token: string) {
    this.base = `http://127.0.0.1:${port}/api/v1`;
    this.token = token;
  }

  static forConfig(config: GatewayConfig): LocalApiClient {
    let token: string;
    try {
      token = readLocalToken(config.gateway.dataDir);
    } catch {
      throw new Error(`no local token in ${config.gateway.dataDir}: has this gateway been started?`);
    }
    return new LocalApiClient(config.console.port, token);
  }

  /** The URL path of an operation; health is gateway-wide, everything else names a source. */
  pathOf(operation: string, source: string | undefined): string {
    if (!isOperationName(operation))
      throw gatewayError('PG_ERR_UNKNOWN_OPERATION', `no operation "${operation}"`);
    if (operation === 'health') return '/health';
    if (!source) throw gatewayError('PG_ERR_BAD_REQUEST', `${operation} needs a source`);
    const path = OPERATION_PATHS[operation as Exclude<OperationName, 'health' | 'values.subscribe'>];
    if (!path) throw gatewayError('PG_ERR_BAD_REQUEST', `${operation} streams; use the stream call`);
    return `/sources/${encodeURIComponent(source)}/${path}`;
  }

  async call(operation: string, source: string | undefined, request: unknown = {}): Promise<LocalApiAnswer> {
    const path = this.pathOf(operation, source);
    const get = operation === 'health';
    const response = await this.fetch(path, {
      method: get ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(get ? {} : { 'content-type': 'application/json' }),
      },
      ...(get ? {} : { body: JSON.stringify(request) }),
    });
    return { status: response.status, body: await response.json() };
  }

  /** values.subscribe as a stream of pushes. */
  async *stream(
    source: string,
    tags: readonly string[],
    publishInterval: number,
    signal: AbortSignal,
  ): AsyncGenerator<unknown> {
    const query = new URLSearchParams({ tags: tags.join(','), publishInterval: String(publishInterval) });
    const response = await this.fetch(`/sources/${encodeURIComponent(source)}/values/stream?${query}`, {
      headers: { authorization: `Bearer ${this.token}` },
      signal,
    });
    if (!response.ok || !response.body) {
      yield await response.json();
      return;
    }
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (event.startsWith('data: ')) yield JSON.parse(event.slice(6));
        end = buffer.indexOf('\n\n');
      }
    }
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.base}${path}`, init);
    } catch (error) {
      if ((init.signal as AbortSignal | undefined)?.aborted) throw error;
      throw new Error(
        `cannot reach the gateway at ${this.base}: is it running? (${(error as Error).cause ?? (error as Error).message})`,
      );
    }
  }
}
