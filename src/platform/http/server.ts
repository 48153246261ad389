/**
 * The HTTP platform: Fastify with Zod at the edge, problem+json errors, a
 * request id on every log line, OpenAPI 3.1 generated from the same schemas.
 * Features register their routes as plugins; this file knows none of them.
 */
import crypto from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Actor } from '../../core/actor.js';
import { DomainError, type FieldError } from '../../core/errors.js';
import type { Logger } from '../logger.js';
import { bearerMatches, type Metrics } from '../metrics.js';
import { sqlState } from '../db/tx.js';
import { internalProblem, problemFromDomainError, type Problem } from './problem.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
  }
  interface FastifyContextConfig {
    /** The route answers without sign-in (login, setup). Every other /api/v1 route needs a credential. */
    public?: boolean;
    /** The caller is never looked up (health probes, /metrics): these answer when the database does not. */
    anonymous?: boolean;
  }
}

export type App = FastifyInstance;
export type ZodApp = ReturnType<FastifyInstance['withTypeProvider']> & FastifyInstance;

export interface HttpServerOptions {
  logger: Logger;
  version: string;
  /** Finds who is calling from the request's bearer token or session cookie. */
  authenticate(request: FastifyRequest): Promise<Actor | null>;
  health(): Promise<void>;
  /** Registered under /api/v1. */
  api: Array<(app: FastifyInstance) => Promise<void>>;
  /** Registered at the root (static web app, fallbacks). */
  root?: Array<(app: FastifyInstance) => Promise<void>>;
  bodyLimit?: number;
  /** Fastify's trustProxy (SAMPLEBANK_TRUST_PROXY): whom to believe X-Forwarded-For from, so request.ip (and the login rate limit) is the client's. */
  trustProxy?: boolean | number | string[];
  /** Every request's duration is observed here; GET /metrics serves it when metricsToken is set. */
  metrics?: Metrics;
  /** Bearer token GET /metrics requires on this port; without it /metrics answers 404 here (off, or served on the metrics port). */
  metricsToken?: string | undefined;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

export async function createHttpServer(options: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as unknown as FastifyBaseLogger,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    },
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    trustProxy: trustProxyOption(options.trustProxy ?? false),
    ajv: { customOptions: { coerceTypes: false } },
    routerOptions: { maxParamLength: 200 },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('actor', null);

  // The API speaks JSON only; any other body is refused with 415.
  app.removeContentTypeParser('text/plain');
  await app.register(fastifyCookie);
  // Only routes that ask for it (config.rateLimit, e.g. sign-in) are limited, per client address.
  await app.register(fastifyRateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => new DomainError('rate-limited', `Too many requests from your address; wait and try again in ${context.after}`),
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (request.routeOptions.config?.anonymous === true) return;
    request.actor = await options.authenticate(request);
    if (request.actor) request.actor = { ...request.actor, requestId: request.id };
    // Sign-in first: an anonymous caller learns nothing about an API route, not even how its input is checked.
    const route = request.routeOptions.url;
    if (!request.actor && route?.startsWith('/api/v1/') && request.routeOptions.config?.public !== true) {
      throw new DomainError('unauthenticated', 'Sign in first (send a bearer token or the session cookie)');
    }
  });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'SampleBank API',
        version: options.version,
        description:
          'Custody, lending and exact accounting of scarce research samples. Quantities are decimal strings in the collection unit; errors are application/problem+json.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          cookie: { type: 'apiKey', in: 'cookie', name: 'sb_session' },
        },
      },
      security: [{ bearer: [] }, { cookie: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/api/docs' });

  // Text the database cannot store (NUL characters, unpaired UTF-16 surrogates) is refused at the edge, naming the field,
  // for every route: PostgreSQL rejects it in text and jsonb columns, which would otherwise surface as a 500.
  app.addHook('preValidation', async (request) => {
    const found =
      unstorableText(request.params, '', 'path') ?? unstorableText(request.query, '', 'query') ?? unstorableText(request.body, '', 'body');
    if (found) throw new DomainError('validation-failed', `${found}: must be text without NUL characters or unpaired surrogates`, { errors: [{ field: found, message: 'must be text without NUL characters or unpaired surrogates' }] });
  });

  app.setErrorHandler((error: FastifyError, request, reply) => sendError(error, request, reply));
  app.setNotFoundHandler((request, reply) => {
    sendProblem(reply, {
      type: 'not-found',
      title: 'Not found',
      status: 404,
      detail: `No route ${request.method} ${request.url.split('?')[0]}`,
      errors: [],
      requestId: request.id,
    });
  });

  const metrics = options.metrics;
  // The route pattern, never the raw URL (one series per route, not per sample id).
  if (metrics) {
    app.addHook('onResponse', async (request, reply) => {
      metrics.observeRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    });
  }
  // Without a token /metrics is off on this port (a metrics port may serve it instead): a 404, never the web app's page.
  const token = options.metricsToken;
  app.get('/metrics', { schema: { hide: true }, config: { anonymous: true } }, async (request, reply) => {
    if (!metrics || token === undefined) return reply.callNotFound();
    if (!bearerMatches(request.headers.authorization, token)) {
      reply.header('www-authenticate', 'Bearer realm="metrics"');
      throw new DomainError('unauthenticated', 'Send the metrics token (Authorization: Bearer …, SAMPLEBANK_METRICS_TOKEN)');
    }
    const text = await metrics.render();
    return reply.type(metrics.contentType).header('cache-control', 'no-store').send(text);
  });

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  // Liveness: the event loop answers. Never touches the database, so a database outage does not get the process restarted.
  app.get('/api/health/live', { schema: { hide: true }, config: { anonymous: true } }, async () => ({ status: 'ok' }));
  // Readiness: the database answers select 1. While the server closes, Fastify answers every request 503 (return503OnClosing).
  app.get('/api/health', { schema: { hide: true }, config: { anonymous: true } }, async (_request, reply) => {
    try {
      await options.health();
      return { status: 'ok' };
    } catch {
      return reply.code(503).send({ status: 'unavailable' });
    }
  });

  for (const plugin of options.api) await app.register(plugin, { prefix: '/api/v1' });
  for (const plugin of options.root ?? []) await app.register(plugin);
  return app;
}

/**
 * Fastify takes false, true and addresses as they are, but treats a hop count
 * as "trust nobody" (a direct client could claim any number of hops). A count
 * is what the operator asked for, so it keeps its usual meaning: the n nearest
 * hops are proxies. Addresses are the safer setting where the server can also
 * be reached without going through the proxies.
 */
function trustProxyOption(value: boolean | number | string[]): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof value !== 'number') return value;
  return (_address, hop) => hop < value;
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  // A back-off the domain decided (e.g. an account's failed sign-ins) tells the client when to come back.
  if (problem.status === 429 && typeof problem.retryAfter === 'number' && !reply.hasHeader('retry-after')) reply.header('retry-after', String(problem.retryAfter));
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

function sendError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const problem = toProblem(error, request);
  if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ problem: problem.type, status: problem.status }, 'request refused');
  return sendProblem(reply, problem);
}

function toProblem(error: FastifyError, request: FastifyRequest): Problem {
  if (error instanceof DomainError) return problemFromDomainError(error, request.id);
  if (hasZodFastifySchemaValidationErrors(error)) {
    const errors: FieldError[] = error.validation.flatMap((issue) => {
      // An unknown key is named itself ('sort', 'parts.0.extra'), not the object that holds it.
      const keys = issue.keyword === 'unrecognized_keys' ? (issue.params as { keys?: unknown }).keys : undefined;
      if (Array.isArray(keys) && keys.length > 0) {
        const parent = issue.instancePath.replace(/\/$/, '');
        return keys.map((key) => ({ field: fieldName(error.validationContext, `${parent}/${String(key)}`), message: 'is not a known field' }));
      }
      return [{ field: fieldName(error.validationContext, issue.instancePath), message: issue.message ?? 'is not valid' }];
    });
    const first = errors[0];
    return problemFromDomainError(
      new DomainError('validation-failed', first ? `${first.field}: ${first.message}` : 'The request is not valid', { errors }),
      request.id,
    );
  }
  const fromDb = databaseProblem(error);
  if (fromDb) return problemFromDomainError(fromDb, request.id);
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return problemFromDomainError(
        new DomainError('unsupported-media-type', `Send the body as application/json (got ${request.headers['content-type'] ?? 'none'})`, {
          errors: [{ field: 'Content-Type', message: 'must be application/json' }],
        }),
        request.id,
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problemFromDomainError(new DomainError('payload-too-large', 'The request body is too large'), request.id);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problemFromDomainError(
        new DomainError('malformed-request', 'The body is empty; send a JSON object', { errors: [{ field: 'body', message: 'is empty' }] }),
        request.id,
      );
    case 'FST_ERR_RATE_LIMIT_EXCEEDED':
      return problemFromDomainError(new DomainError('rate-limited', error.message || 'Too many requests; wait and try again'), request.id);
  }
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (error.statusCode === 400 && /JSON/i.test(error.message))) {
    return problemFromDomainError(
      new DomainError('malformed-request', 'The body is not valid JSON', { errors: [{ field: 'body', message: 'is not valid JSON' }] }),
      request.id,
    );
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return {
      type: 'malformed-request',
      title: 'The request could not be read',
      status: error.statusCode,
      detail: error.message,
      errors: [],
      requestId: request.id,
    };
  }
  return internalProblem(request.id);
}

/** A constraint the database enforced that the code did not check first: still the caller's fault, never a 500. */
function databaseProblem(error: unknown): DomainError | undefined {
  const state = sqlState(error);
  if (!state) return undefined;
  const message = (error as { constraint?: string; message?: string }).constraint ?? (error as Error).message;
  if (state === '23505') return new DomainError('duplicate', `That already exists (${message})`);
  // The donor withdrew consent: migrations/0040's guards on samples.
  if ((state === '23514' || state === '23503') && message.startsWith('samples_consent')) return new DomainError('consent-withdrawn', 'The donor withdrew consent; this material cannot be reserved, split or allocated');
  if (state === '23514') return new DomainError('conflict', `The database refused the change (${message})`);
  if (state === '23503') return new DomainError('not-found', `A referenced record does not exist (${message})`);
  // Invalid text representation, out of range, too long, bad date, bad characters or JSON escapes: a value the edge let through.
  if (state === '22P02' || state === '22003' || state === '22001' || state === '22007' || state === '22008' || state === '22021' || state === '22P05' || state === '22023' || state === '2201X' || state === '2201W') {
    const message = `is not valid (${(error as Error).message})`;
    return new DomainError('validation-failed', `A value ${message}`, { errors: [{ field: 'request', message }] });
  }
  if (state === '40001' || state === '40P01' || state === '55P03') {
    return new DomainError('conflict', 'Another request changed the same data at the same time; try again');
  }
  return undefined;
}

// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The field (dotted path, as validation errors name it) holding a string or key PostgreSQL cannot store, if any. */
function unstorableText(value: unknown, path: string, context: string, depth = 0): string | undefined {
  const here = path || context;
  if (typeof value === 'string') return UNSTORABLE.test(value) ? here : undefined;
  if (value === null || typeof value !== 'object' || depth > 64 || Buffer.isBuffer(value)) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unstorableText(value[i], path ? `${path}.${i}` : String(i), context, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return undefined;
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    const name = path ? `${path}.${key}` : key;
    if (UNSTORABLE.test(key)) return name.replace(UNSTORABLE, '?');
    const found = unstorableText(inner, name, context, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function fieldName(context: string | undefined, instancePath: string): string {
  const path = instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (context === 'body') return path || 'body';
  return path || context || 'request';
}

export type { ZodTypeProvider };
