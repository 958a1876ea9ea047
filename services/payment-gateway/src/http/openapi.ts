/**
 * The OpenAPI 3.1 document of the merchant API (CONTRACT 3 and 10), generated from the zod
 * schemas the gateway validates requests with and builds its answers to: one source, no copy kept
 * by hand. Served at `GET /openapi.json`, rendered at `GET /docs`.
 */
import { z } from 'zod';
import { API_ERRORS, applyRequestSchema, type ApiErrorCode } from '@payments/core';
import { checkoutRequestSchema } from '../cashier/checkout';
import {
  apiErrorSchema,
  applyAnswerSchema,
  checkoutAnswerSchema,
  payActionSchema,
  paymentViewSchema,
} from './api-schemas';

type JsonSchema = Record<string, unknown>;

const COMPONENTS = {
  ApplyRequest: applyRequestSchema,
  CheckoutRequest: checkoutRequestSchema,
  PayAction: payActionSchema,
  ApplyAnswer: applyAnswerSchema,
  Payment: paymentViewSchema,
  CheckoutAnswer: checkoutAnswerSchema,
  Error: apiErrorSchema,
} as const;
type Component = keyof typeof COMPONENTS;

/** One route of the merchant API: its answers by status, and the error codes each status carries. */
interface Route {
  method: 'get' | 'post';
  path: string;
  summary: string;
  description: string;
  request?: Component;
  ok: Partial<Record<200 | 201, Component>>;
  errors: ApiErrorCode[];
  params?: boolean;
}

/** Every route may also answer these: no key, a dependency down, a fault of ours. */
const ALWAYS: ApiErrorCode[] = ['UNAUTHORIZED', 'DEPENDENCY_UNAVAILABLE', 'INTERNAL'];

export const MERCHANT_ROUTES: readonly Route[] = [
  {
    method: 'post',
    path: '/v1/payments',
    summary: 'Apply for payment through one channel',
    description:
      '201: a new channel attempt. 200: the same channel’s attempt still in flight, returned again (same channelOrderNo and payUrl). Another channel closes the first at its provider before its attempt is made.',
    request: 'ApplyRequest',
    ok: { 201: 'ApplyAnswer', 200: 'ApplyAnswer' },
    errors: [
      'VALIDATION_FAILED',
      'UNKNOWN_CHANNEL',
      'UNSUPPORTED_CURRENCY',
      'ORDER_ALREADY_PAID',
      'PAYMENT_IN_PROGRESS',
      'ORDER_CLOSED',
      'AMOUNT_MISMATCH',
      'CHANNEL_ERROR',
    ],
  },
  {
    method: 'get',
    path: '/v1/payments/{merchantOrderNo}',
    summary: 'Read one payment: its attempts and refunds',
    description: 'The pay order, every attempt on every channel, and every refund of an extra charge.',
    params: true,
    ok: { 200: 'Payment' },
    errors: ['VALIDATION_FAILED', 'NOT_FOUND'],
  },
  {
    method: 'post',
    path: '/v1/payments/{merchantOrderNo}/close',
    summary: 'Cancel an order',
    description:
      'The pay order becomes CLOSED and its attempts in flight are closed at their providers; a payment that arrives after it is refunded.',
    params: true,
    ok: { 200: 'Payment' },
    errors: ['VALIDATION_FAILED', 'NOT_FOUND', 'ORDER_ALREADY_PAID', 'PAYMENT_IN_PROGRESS'],
  },
  {
    method: 'post',
    path: '/v1/checkout',
    summary: 'Open a cashier page for an order (CONTRACT 10)',
    description:
      '201: a new order and its cashier page; 200: an order already known, with a new page of it. Hand `url` to the shopper.',
    request: 'CheckoutRequest',
    ok: { 201: 'CheckoutAnswer', 200: 'CheckoutAnswer' },
    errors: [
      'VALIDATION_FAILED',
      'UNKNOWN_CHANNEL',
      'UNSUPPORTED_CURRENCY',
      'AMOUNT_MISMATCH',
      'PAYMENT_IN_PROGRESS',
    ],
  },
];

/** The error codes a route answers with, by HTTP status. */
export function errorsByStatus(route: Route): Map<number, ApiErrorCode[]> {
  const byStatus = new Map<number, ApiErrorCode[]>();
  for (const code of [...route.errors, ...ALWAYS]) {
    const status = API_ERRORS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return byStatus;
}

const ref = (name: Component) => ({ $ref: `#/components/schemas/${name}` });

function componentSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENTS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    uri: (id) => `#/components/schemas/${id}`,
    io: 'output',
  }) as { schemas: Record<string, JsonSchema> };
  // A component is a schema inside the document: its own $schema and $id would rebase its refs.
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      const { $schema: _schema, $id: _id, ...rest } = schema;
      return [id, rest];
    }),
  );
}

export function buildOpenApiDocument(serverUrl?: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of MERCHANT_ROUTES) {
    const responses: Record<string, unknown> = {};
    for (const [status, component] of Object.entries(route.ok))
      responses[status] = {
        description: status === '201' ? 'Created' : 'OK',
        content: { 'application/json': { schema: ref(component) } },
      };
    for (const [status, codes] of errorsByStatus(route))
      responses[String(status)] = {
        description: codes.join(', '),
        'x-error-codes': codes,
        content: {
          'application/json': {
            schema: {
              allOf: [ref('Error')],
              properties: { error: { properties: { code: { enum: codes } } } },
            },
          },
        },
      };
    paths[route.path] = {
      ...paths[route.path],
      [route.method]: {
        summary: route.summary,
        description: route.description,
        security: [{ apiKey: [] }],
        ...(route.params
          ? {
              parameters: [
                {
                  name: 'merchantOrderNo',
                  in: 'path',
                  required: true,
                  schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
                },
              ],
            }
          : {}),
        ...(route.request
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: ref(route.request) } },
              },
            }
          : {}),
        responses,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Payment pipeline: merchant API',
      version: '2',
      description:
        'One charge kept per order, every extra charge refunded, every payment reported to the order service. Money is an integer in minor units. Errors are `{"error":{"code","message"}}`.',
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'An API key from API_KEYS' },
      },
      schemas: componentSchemas(),
    },
    paths,
  };
}
