/** The OpenAPI document of the app API (`GET /api/v1/openapi.json`), built from the operation schemas. */
import {
  CHANGE_OPERATIONS,
  ERROR_CATALOGUE,
  OPERATION_PATHS,
  OPERATION_SCHEMAS,
  type OperationName,
  VERSION,
} from '../gateway/api/index.ts';

const errorResponse = {
  description: 'An error: `{ "error": { "code": "PG_ERR_…", "message": "…" } }`.',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        properties: {
          error: {
            type: 'object',
            properties: {
              code: { type: 'string', enum: Object.keys(ERROR_CATALOGUE) },
              message: { type: 'string' },
              details: { type: 'object' },
            },
            required: ['code', 'message'],
          },
        },
      },
    },
  },
};

const params = (...names: string[]) =>
  names.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, unknown> = {
    '/gateways': {
      get: {
        summary: "The organisation's gateways",
        responses: { 200: { description: 'ok' }, default: errorResponse },
      },
    },
    '/gateways/{gw}/health': {
      get: {
        summary: 'Gateway health',
        parameters: params('gw'),
        responses: { 200: { description: 'ok' }, default: errorResponse },
      },
    },
    '/gateways/{gw}/sources': {
      get: {
        summary: 'The sources of a gateway the user consented this app to',
        parameters: params('gw'),
        responses: { 200: { description: 'ok' }, default: errorResponse },
      },
    },
    '/gateways/{gw}/sources/{src}/values/stream': {
      get: {
        summary: 'values.subscribe as a WebSocket: one text message {"values":[…]} per push',
        parameters: [
          ...params('gw', 'src'),
          {
            name: 'tags',
            in: 'query',
            required: true,
            schema: { type: 'string' },
            description: 'Comma separated.',
          },
          { name: 'publishInterval', in: 'query', schema: { type: 'integer', minimum: 100 } },
        ],
        responses: { 101: { description: 'WebSocket' }, default: errorResponse },
      },
    },
  };
  for (const [operation, path] of Object.entries(OPERATION_PATHS)) {
    const write = CHANGE_OPERATIONS.has(operation as OperationName);
    paths[`/gateways/{gw}/sources/{src}/${path}`] = {
      post: {
        operationId: operation,
        summary: operation,
        parameters: [
          ...params('gw', 'src'),
          ...(write
            ? [
                {
                  name: 'Idempotency-Key',
                  in: 'header',
                  required: true,
                  schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{8,128}$' },
                },
              ]
            : []),
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: JSON.parse(JSON.stringify(OPERATION_SCHEMAS[operation as OperationName])),
            },
          },
        },
        responses: { 200: { description: 'ok' }, default: errorResponse },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'plantgate bridge', version: VERSION },
    servers: [{ url: '/api/v1' }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
