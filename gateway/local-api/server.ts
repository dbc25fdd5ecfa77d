/**
 * The loopback API: the typed operations over HTTP on 127.0.0.1 only, for the CLI and the console. Every
 * request needs the local token. Requests are validated by the query engine (the same check a request
 * from the link gets), so routes carry no body schemas of their own.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from '../../drivers/core/index.ts';
import { LOCAL_ADMIN } from '../access/policy.ts';
import type { CallContext } from '../api/call-context.ts';
import { OPERATION_PATHS } from '../api/operation-paths.ts';
import type { OperationName } from '../api/operations.ts';
import { type ConsoleDeps, registerConsole } from '../console/routes.ts';
import { httpStatusOf, isPlantgateError, toErrorBody } from '../errors.ts';
import type { QueryEngine } from '../query/engine.ts';
import type { SourceRegistry } from '../sources/registry.ts';
import { tokenMatches } from './token.ts';

export interface LocalApiOptions {
  port: number;
  /** A loopback address: 127.0.0.1 or ::1. */
  host?: '127.0.0.1' | '::1';
  /** Prometheus text of the gateway's metrics (GET /metrics, with the local token). */
  metrics?: () => Promise<string>;
  /** The console's needs; without them the server has no console. */
  console?: Omit<ConsoleDeps, 'engine' | 'token'>;
  /** The token in force (it changes when rotated). */
  token: () => string;
  engine: QueryEngine;
  registry: SourceRegistry;
  log: Logger;
}

function localContext(): CallContext {
  return { requestId: randomUUID(), origin: 'local', principal: { subject: LOCAL_ADMIN, groups: [] } };
}

/** Aborts the operation when the client goes away. */
function requestSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('the client closed the connection'));
  });
  return controller.signal;
}

export async function startLocalApi(options: LocalApiOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 8 * 1024 * 1024 });

  const host = options.host ?? '127.0.0.1';
  // DNS rebinding: a page elsewhere that makes its name point at 127.0.0.1 still sends its own Host.
  const allowedHosts = new Set([
    `127.0.0.1:${options.port}`,
    `localhost:${options.port}`,
    `[::1]:${options.port}`,
  ]);
  app.addHook('onRequest', async (request, reply) => {
    if (!allowedHosts.has(request.headers.host ?? '')) {
      return reply.code(421).send({
        error: {
          code: 'PG_ERR_FORBIDDEN',
          message: `this server answers only as 127.0.0.1:${options.port} or localhost:${options.port}`,
        },
      });
    }
    // The console has its own sign-in; everything else needs the local token.
    if (options.console && request.url.startsWith('/console')) return;
    const header = request.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!presented || !tokenMatches(presented, options.token())) {
      return reply.code(401).send({
        error: {
          code: 'PG_ERR_UNAUTHENTICATED',
          message: 'the local token is required (Authorization: Bearer …)',
        },
      });
    }
  });

  app.setErrorHandler((error, _request, reply) => {
    if (isPlantgateError(error)) {
      return reply.code(httpStatusOf(error.code)).send(toErrorBody(error));
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      return reply
        .code(status)
        .send({ error: { code: 'PG_ERR_BAD_REQUEST', message: (error as Error).message } });
    }
    options.log.error('local API request failed', { error: (error as Error).message });
    return reply.code(500).send(toErrorBody(error));
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: {
        code: 'PG_ERR_UNKNOWN_OPERATION',
        message: `no route ${request.method} ${request.url.split('?')[0]}`,
      },
    }),
  );

  if (options.metrics) {
    const metrics = options.metrics;
    app.get('/metrics', async (_request, reply) =>
      reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').send(await metrics()),
    );
  }

  app.get('/api/v1/health', () => options.engine.execute(localContext(), 'health', undefined, {}));

  app.get('/api/v1/sources', () => ({
    sources: options.registry.list().map((s) => ({
      id: s.id,
      driver: s.config.driver,
      description: s.config.description,
      state: s.health().state,
    })),
  }));

  for (const [operation, path] of Object.entries(OPERATION_PATHS)) {
    app.post<{ Params: { source: string } }>(`/api/v1/sources/:source/${path}`, (request, reply) =>
      options.engine.execute(
        localContext(),
        operation as OperationName,
        request.params.source,
        request.body ?? {},
        requestSignal(reply),
      ),
    );
  }

  // values.subscribe as server-sent events: `data: {"values":[…]}` for each push.
  app.get<{ Params: { source: string }; Querystring: { tags?: string; publishInterval?: string } }>(
    '/api/v1/sources/:source/values/stream',
    async (request, reply) => {
      const signal = requestSignal(reply);
      const tags = (request.query.tags ?? '').split(',').filter(Boolean);
      const publishInterval =
        request.query.publishInterval === undefined ? undefined : Number(request.query.publishInterval);
      const stream = await options.engine.subscribe(
        localContext(),
        request.params.source,
        { tags, ...(publishInterval === undefined ? {} : { publishInterval }) },
        signal,
      );
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      try {
        for await (const batch of stream) reply.raw.write(`data: ${JSON.stringify(batch)}\n\n`);
      } finally {
        reply.raw.end();
      }
    },
  );

  if (options.console)
    registerConsole(app, { ...options.console, engine: options.engine, token: options.token });

  await app.listen({ host, port: options.port });
  return app;
}
