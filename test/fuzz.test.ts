/**
 * Bad input never breaks the API: every operation in the OpenAPI document the
 * server serves gets a fixed battery of malformed requests (broken JSON, other
 * content types, wrong JSON shapes, every body property replaced by values of
 * the wrong type or range, unknown properties, path ids that are not UUIDs or
 * do not exist, bad query parameters, garbage Idempotency-Key headers), sent by
 * a user holding every role against real entities. No answer may be a 5xx;
 * every 4xx is application/problem+json with a string type and title, the HTTP
 * status in `status`, and a 400 names the field in `errors`. Then, for the
 * quantity-changing endpoints, every rejected request is checked to have
 * changed nothing in samples, reservations, movements and the audit log.
 *
 * Deterministic: the battery is fixed and the sampled values come from a
 * seeded generator, so a failure reproduces on every run and engine.
 */
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roles as ALL_ROLES } from '../src/core/roles.js';
import { sql } from 'kysely';
import { buildWorld, json, newApplicant, openCall, submitApplication, type World } from '../src/features/calls/calls.testkit.js';
import { allocatedApplication } from '../src/features/distribution/distribution.testkit.js';
import { newCollection, newSample } from '../src/features/inventory/inventory.testkit.js';
import { addDonor, seedBank } from '../src/features/pathology/pathology.testkit.js';
import { signIn, unique, type SignedIn } from './factories.js';
import { createTestServer, engine, type TestServer } from './harness.js';

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  minItems?: number;
  default?: unknown;
};
interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  schema?: Schema;
}
interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  body?: Schema;
}
interface Probe {
  what: string;
  url: string;
  headers?: Record<string, string>;
  payload?: string;
  contentType?: string;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const NIL_UUID = '00000000-0000-4000-8000-000000000000';

/** Values that are of the wrong type, range or form for almost any field. */
const WEIRD: Array<[string, unknown]> = [
  ['number', 12345],
  ['negative number', -1],
  ['float', 0.5],
  ['huge integer', 2 ** 70],
  ['past safe integers', 2 ** 53 + 2],
  ['string', 'not-the-right-thing'],
  ['empty string', ''],
  ['"-1"', '-1'],
  ['"1e309"', '1e309'],
  ['"0.000000001"', '0.000000001'],
  ['"NaN"', 'NaN'],
  ['"Infinity"', 'Infinity'],
  ['"99999999999999999999999999999999999"', '99999999999999999999999999999999999'],
  ['unicode and NUL', 'a\u0000b\u202e\ud83e\uddea\u3000'],
  ['lone surrogate', '\ud800'],
  ['100 000 characters', 'x'.repeat(100_000)],
  ['object', { a: 1 }],
  ['array', [1, 'two', null]],
  ['empty array', []],
  ['null', null],
  ['true', true],
  ['date-like', '2026-02-30T25:61:00Z'],
  ['not a uuid', 'not-a-uuid'],
  ['random uuid', 'b7a1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d'],
];
const BAD_PATH_IDS = ['not-a-uuid', '1', "x'%3B%20drop%20table%20samples%3B--", '%00', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '00000000-0000-0000-0000-000000000000', 'e'.repeat(150)];
const BAD_QUERY = ['abc', '-1', '0', '1e309', '0.000000001', 'NaN', '99999999999999999999999', '%00', 'x'.repeat(300), '%E2%80%AE%F0%9F%A7%AA', 'true'];
const BAD_KEYS = ['', ' ', 'k'.repeat(600), 'ключ-идемпотентности', 'a b\tc', '../../etc/passwd'];

/** A small seeded generator (mulberry32): the same choices on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seededUuid(random: () => number): string {
  const bytes = Buffer.from(Array.from({ length: 16 }, () => Math.floor(random() * 256)));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** FUZZ_FULL=1 sends the whole battery (minutes); by default a fixed rotating sample of it, so every value still gets used somewhere. */
const FULL = process.env.FUZZ_FULL === '1';
function pick<T>(list: readonly T[], n: number, offset: number): T[] {
  if (FULL || n >= list.length) return [...list];
  return Array.from({ length: n }, (_, k) => list[(offset * n + k) % list.length]!);
}

function operations(document: { paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content?: Record<string, { schema?: Schema }> } }>> }): Operation[] {
  return Object.entries(document.paths).flatMap(([path, ops]) =>
    METHODS.filter((m) => m in ops).map((method) => {
      const op = ops[method]!;
      return { method: method.toUpperCase(), path, parameters: op.parameters ?? [], body: op.requestBody?.content?.['application/json']?.schema };
    }),
  );
}

describe(`malformed input on ${engine}`, () => {
  let server: TestServer;
  let boss: SignedIn;
  let world: World;
  let ops: Operation[];
  let ledgerSample: string;
  let approvedAllocation: string;
  let loanSamples: Array<{ sampleId: string; quantity: string }>;
  let dispatchedItems: Array<{ sampleId: string; quantity: string }>;
  /** Real entity ids by the path segment that names them. */
  const ids: Record<string, string> = {};
  const idFor = (segment: string): string | undefined => ids[segment];

  beforeAll(async () => {
    server = await createTestServer();
    const { app, context } = server;
    boss = await signIn(app, context, [...ALL_ROLES]);
    world = await buildWorld(app, context, { reviewers: 2 });
    const collection = await newCollection(app, boss);
    ids.collections = collection.id;
    const location = json<{ id: string }>(await app.inject({ method: 'POST', url: '/api/v1/locations', headers: boss.headers, payload: { kind: 'site', code: unique('S'), name: 'Fuzz site' } }), 201);
    ids.locations = location.id;
    const sample = await newSample(app, boss, collection.id, { quantity: '1000.0000' });
    ids.samples = sample.id;
    ids.reservations = json<{ id: string }>(await app.inject({ method: 'POST', url: `/api/v1/samples/${sample.id}/reservations`, headers: boss.headers, payload: { quantity: '1.0000' } }), 201).id;
    const callId = await openCall(app, world);
    ids.calls = callId;
    ids.applications = await submitApplication(app, boss, callId);
    ids.users = boss.user.id;
    ids.institutions = boss.user.institutionId ?? NIL_UUID;
    // An allocated application with a dispatched shipment (receipt is the applicant's: boss).
    const allocated = await allocatedApplication(app, context, world, boss, { whole: [5_000n, 7_000n] });
    const shipment = json<{ id: string }>(await app.inject({ method: 'POST', url: '/api/v1/shipments', headers: world.curator.headers, payload: { applicationId: allocated.applicationId } }), 201);
    json(await app.inject({ method: 'POST', url: `/api/v1/shipments/${shipment.id}/pack`, headers: world.curator.headers }), 200);
    json(await app.inject({ method: 'POST', url: `/api/v1/shipments/${shipment.id}/dispatch`, headers: world.curator.headers, payload: { courier: 'SF Express', trackingNumber: 'SF1' } }), 200);
    ids.shipments = shipment.id;
    // For the quantity checks: a sample of the boss's, an approved allocation, a dispatched shipment and an open loan.
    ledgerSample = (await newSample(app, boss, collection.id, { quantity: '500.0000' })).id;
    const chairPost = async (url: string, payload?: object) => app.inject({ method: 'POST', url: `/api/v1${url}`, headers: world.chair.headers, ...(payload ? { payload } : {}) });
    const decided = await openCall(app, world);
    const wanting = await newApplicant(app, context);
    const wanted = await submitApplication(app, wanting, decided, { items: [{ kind: 'scooped', quantity: '5.0000', minimum: '1.0000' }] });
    for (const to of ['closed', 'in_review']) json(await chairPost(`/calls/${decided}/transitions`, { to }), 200);
    json(await chairPost(`/applications/${wanted}/decision`, { outcome: 'approved', rationale: 'Strong case' }), 200);
    json(await chairPost(`/calls/${decided}/transitions`, { to: 'decided' }), 200);
    const proposed = json<{ id: string }>(await chairPost(`/calls/${decided}/allocations`, {}), 201);
    json(await chairPost(`/allocations/${proposed.id}/approve`), 200);
    approvedAllocation = proposed.id;
    ids.allocations = proposed.id;
    const loaned = await allocatedApplication(app, context, world, boss, { whole: [3_000n, 4_000n] });
    const loanShipment = json<{ id: string; items: Array<{ sampleId: string; quantity: string }> }>(await app.inject({ method: 'POST', url: '/api/v1/shipments', headers: world.curator.headers, payload: { applicationId: loaned.applicationId } }), 201);
    json(await app.inject({ method: 'POST', url: `/api/v1/shipments/${loanShipment.id}/pack`, headers: world.curator.headers }), 200);
    json(await app.inject({ method: 'POST', url: `/api/v1/shipments/${loanShipment.id}/dispatch`, headers: world.curator.headers, payload: { courier: 'SF Express', trackingNumber: 'SF2' } }), 200);
    json(await app.inject({ method: 'POST', url: `/api/v1/shipments/${loanShipment.id}/receipt`, headers: boss.headers, payload: { items: loanShipment.items.map((i) => ({ sampleId: i.sampleId, quantity: i.quantity, condition: 'intact' })) } }), 200);
    const loans = json<{ items: Array<{ id: string }> }>(await app.inject({ method: 'GET', url: `/api/v1/loans?applicationId=${loaned.applicationId}`, headers: boss.headers }), 200).items;
    ids.loans = loans[0]!.id;
    loanSamples = loanShipment.items;
    dispatchedItems = json<{ items: Array<{ sampleId: string; quantity: string }> }>(await app.inject({ method: 'GET', url: `/api/v1/shipments/${shipment.id}`, headers: boss.headers }), 200).items;
    const bank = await seedBank(app, context);
    ids.donors = (await addDonor(app, bank)).id;
    const document = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as Parameters<typeof operations>[0];
    ops = operations(document);
  }, 120_000);
  afterAll(async () => server?.close());

  /** A plausible (not necessarily valid) value for a schema, with real ids where the name says what it refers to. */
  function example(schema: Schema | undefined, key: string): unknown {
    if (!schema) return 'x';
    const options = schema.anyOf ?? schema.oneOf;
    if (options) return example(options.find((o) => o.type !== 'null') ?? options[0], key);
    if (schema.enum) return schema.enum[0];
    const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
    switch (type) {
      case 'object': {
        const out: Record<string, unknown> = {};
        for (const name of schema.required ?? []) out[name] = example(schema.properties?.[name], name);
        return out;
      }
      case 'array':
        return Array.from({ length: Math.max(1, schema.minItems ?? 1) }, () => example(schema.items, key));
      case 'integer':
      case 'number':
        return schema.minimum ?? 1;
      case 'boolean':
        return true;
      default: {
        if (schema.format === 'uuid') {
          const segment = `${key.replace(/Ids?$/, '')}s`;
          return idFor(segment) ?? NIL_UUID;
        }
        if (schema.format === 'date-time') return new Date(Date.now() + 86_400_000).toISOString();
        if (schema.format === 'date') return '2024-01-01';
        if (schema.format === 'email') return `${unique('f')}@test.samplebank`;
        if (/quantity|delta|loss|minimum|minCut/i.test(key)) return '1.0000';
        const text = `fuzz ${key}`;
        return schema.pattern ? 'A1' : text.slice(0, schema.maxLength ?? text.length);
      }
    }
  }

  function fillPath(path: string, override?: Record<string, string>): string {
    const segments = path.split('/');
    return segments
      .map((segment, i) => {
        const name = /^\{(.+)\}$/.exec(segment)?.[1];
        if (!name) return segment;
        if (override && name in override) return override[name];
        return (name === 'id' ? idFor(segments[i - 1] ?? '') : undefined) ?? NIL_UUID;
      })
      .join('/');
  }

  /** The battery for one operation (the `index`th); `random` samples the wrong values per property. */
  function battery(op: Operation, random: () => number, index: number): Probe[] {
    const probes: Probe[] = [];
    const url = fillPath(op.path);
    const hasBody = op.method !== 'GET' && op.method !== 'DELETE';
    const base = op.body ? (example(op.body, 'body') as Record<string, unknown>) : {};
    const body = (value: unknown, what: string, target = url): Probe => ({ what, url: target, payload: JSON.stringify(value), contentType: 'application/json' });

    // Path ids that are not UUIDs, and UUIDs of nothing.
    const pathParams = op.parameters.filter((p) => p.in === 'path').map((p) => p.name);
    for (const name of pathParams) {
      for (const bad of [...pick(BAD_PATH_IDS, 3, index), seededUuid(random)]) probes.push({ ...body(base, `path ${name}=${bad.slice(0, 20)}`, fillPath(op.path, { [name]: bad })), ...(hasBody ? {} : { payload: undefined, contentType: undefined }) });
    }
    // Query parameters of the wrong type or size, and repeated.
    op.parameters
      .filter((p) => p.in === 'query')
      .forEach((param, j) => {
        const values =
          param.name === 'limit'
            ? pick(['0', '-5', '501', '1000000000000', '1.5', 'abc', '1e309'], 3, index)
            : param.name === 'cursor'
              ? pick(['abc', 'x'.repeat(5000), Buffer.from('{"k":"\'","id":null}').toString('base64url'), Buffer.from('[1,2').toString('base64url'), '%ff%fe'], 2, index)
              : pick(BAD_QUERY, 2, index + j);
        for (const value of values) probes.push({ what: `query ${param.name}=${value.slice(0, 20)}`, url: `${url}?${param.name}=${value}` });
        if (j === 0 || FULL) probes.push({ what: `query ${param.name} repeated`, url: `${url}?${param.name}=1&${param.name}=2` });
      });
    if (op.parameters.some((p) => p.in === 'header' && p.name === 'idempotency-key')) {
      for (const key of pick(BAD_KEYS, 2, index)) probes.push({ ...body(base, `idempotency-key "${key.slice(0, 12)}"`), headers: { 'idempotency-key': key } });
    }
    if (!hasBody) return probes;

    // The body as a whole.
    const raw = (payload: string | undefined, contentType: string | undefined, what: string): Probe => ({ what, url, payload, contentType });
    probes.push(
      raw('{"not json', 'application/json', 'truncated JSON'),
      raw(JSON.stringify(base), 'text/plain', 'text/plain'),
      raw('<a>1</a>', 'application/xml', 'application/xml'),
      raw('', 'application/json', 'empty body, JSON content type'),
      raw(undefined, undefined, 'no body'),
      raw('[]', 'application/json', 'JSON array'),
      raw('null', 'application/json', 'JSON null'),
      body({ ...base, unexpectedProperty: 'surprise' }, 'unknown extra property'),
      ...pick(
        [
          raw('{a: 1}', 'application/json', 'JSON5, not JSON'),
          raw('{"a":1}}', 'application/json', 'trailing garbage'),
          raw('\u0000\u0001', 'application/json', 'binary'),
          raw('a=1&b=2', 'application/x-www-form-urlencoded', 'form'),
          raw('[{}]', 'application/json', 'array of object'),
          raw('42', 'application/json', 'JSON number'),
          raw('"text"', 'application/json', 'JSON string'),
          raw('{}', 'application/json', 'empty object'),
          raw('{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}', 'application/json', 'prototype pollution'),
          raw(`${'['.repeat(5000)}${']'.repeat(5000)}`, 'application/json', 'deep nesting'),
        ],
        3,
        index,
      ),
    );
    // Each property (and each property of the first item of an array of objects) with wrong values.
    const properties = Object.entries(op.body?.properties ?? {});
    properties.forEach(([name, schema], p) => {
      const picks = [...pick(WEIRD, 3, index * 7 + p), WEIRD[Math.floor(random() * WEIRD.length)]!];
      for (const [label, value] of picks) probes.push(body({ ...base, [name]: value }, `${name} = ${label}`));
      const itemSchema = (schema.anyOf?.find((o) => o.type === 'array') ?? schema).items;
      if (itemSchema?.properties) {
        const item = example(itemSchema, name) as Record<string, unknown>;
        Object.keys(itemSchema.properties).forEach((inner, j) => {
          for (const [label, value] of pick(WEIRD, 2, index * 5 + p + j)) probes.push(body({ ...base, [name]: [{ ...item, [inner]: value }] }, `${name}[0].${inner} = ${label}`));
        });
        probes.push(body({ ...base, [name]: Array.from({ length: 2000 }, () => item) }, `${name} with 2000 items`));
      }
    });
    return probes;
  }

  async function send(op: Operation, probe: Probe, who: SignedIn = boss): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = { ...who.headers, ...(probe.headers ?? {}) };
    if (probe.contentType) headers['content-type'] = probe.contentType;
    const options: InjectOptions = { method: op.method as 'GET', url: probe.url, headers, ...(probe.payload === undefined ? {} : { payload: probe.payload }) };
    return server.app.inject(options);
  }

  /** What is wrong with an answer to bad input, if anything. */
  function fault(response: LightMyRequestResponse): string | undefined {
    const status = response.statusCode;
    if (status >= 500) return `${status} ${response.body.slice(0, 300)}`;
    if (status < 400) return undefined;
    const type = String(response.headers['content-type'] ?? '');
    if (!type.startsWith('application/problem+json')) return `${status} with content-type ${type}: ${response.body.slice(0, 200)}`;
    let doc: { type?: unknown; title?: unknown; status?: unknown; errors?: Array<{ field?: unknown; message?: unknown }> };
    try {
      doc = response.json();
    } catch {
      return `${status} problem+json that is not JSON: ${response.body.slice(0, 200)}`;
    }
    if (typeof doc.type !== 'string' || !doc.type) return `${status} without a type: ${response.body.slice(0, 200)}`;
    if (typeof doc.title !== 'string' || !doc.title) return `${status} without a title: ${response.body.slice(0, 200)}`;
    if (doc.status !== status) return `${status} with status ${String(doc.status)} in the document`;
    if (status === 400) {
      const named = Array.isArray(doc.errors) && doc.errors.length > 0 && doc.errors.every((e) => typeof e.field === 'string' && e.field !== '' && typeof e.message === 'string' && e.message !== '');
      if (!named) return `400 ${doc.type} without errors naming a field: ${response.body.slice(0, 200)}`;
    }
    return undefined;
  }

  /** Everything a quantity-changing request could touch. */
  async function ledgerState(): Promise<string> {
    const { rows } = await sql`select
        (select json_agg(json_build_array(id, quantity::text, reserved::text, state, location_id, position, parent_id, updated_at::text) order by id) from samples)::text as samples,
        (select json_agg(json_build_array(id, sample_id, quantity::text, state) order by id) from reservations)::text as reservations,
        (select count(*)::text || '/' || coalesce(max(seq), 0)::text from movements) as movements,
        (select count(*)::text from audit_events) as audit,
        (select json_agg(json_build_array(id, state) order by id) from shipments)::text as shipments,
        (select json_agg(json_build_array(id, state) order by id) from loans)::text as loans,
        (select json_agg(json_build_array(id, state) order by id) from allocations)::text as allocations,
        (select count(*)::text from loan_entries) as loan_entries`.execute(server.context.handle.db);
    return JSON.stringify(rows);
  }

  it('changes nothing when it refuses a request to a quantity-changing endpoint', async () => {
    const sampleOp = (path: string, base: Record<string, unknown>): [Operation, Record<string, unknown>] => [{ method: 'POST', path, parameters: [{ in: 'path', name: 'id' }, { in: 'header', name: 'idempotency-key' }] }, base];
    const targets: Array<[Operation, Record<string, unknown> | undefined, string]> = [
      [{ method: 'POST', path: '/api/v1/samples', parameters: [{ in: 'header', name: 'idempotency-key' }] }, { collectionId: ids.collections, kind: 'fines', quantity: '10.0000' }, ''],
      [...sampleOp('/api/v1/samples/{id}/split', { parts: [{ quantity: '1.0000' }, { quantity: '2.0000' }], loss: '0.0001', reason: 'fuzz' }), ledgerSample],
      [...sampleOp('/api/v1/samples/{id}/reservations', { quantity: '1.0000', note: 'fuzz' }), ledgerSample],
      [...sampleOp('/api/v1/samples/{id}/consume', { quantity: '1.0000', reason: 'fuzz' }), ledgerSample],
      [...sampleOp('/api/v1/samples/{id}/adjust', { delta: '-1.0000', reason: 'fuzz' }), ledgerSample],
      [{ method: 'POST', path: '/api/v1/allocations/{id}/execute', parameters: [{ in: 'path', name: 'id' }, { in: 'header', name: 'idempotency-key' }] }, undefined, approvedAllocation],
      [
        { method: 'POST', path: '/api/v1/shipments/{id}/receipt', parameters: [{ in: 'path', name: 'id' }, { in: 'header', name: 'idempotency-key' }] },
        { items: dispatchedItems.map((i) => ({ sampleId: i.sampleId, quantity: i.quantity, condition: 'intact' })), note: 'fuzz' },
        ids.shipments!,
      ],
      [
        { method: 'POST', path: '/api/v1/loans/{id}/returns', parameters: [{ in: 'path', name: 'id' }, { in: 'header', name: 'idempotency-key' }] },
        { items: [{ sampleId: loanSamples[0]!.sampleId, quantity: '0.1000', condition: 'intact' }] },
        ids.loans!,
      ],
    ];
    const failures: string[] = [];
    let refused = 0;
    for (const [op, base, id] of targets) {
      const url = op.path.replace('{id}', id);
      const probes: Probe[] = [];
      for (const bad of [...BAD_PATH_IDS, 'b7a1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d']) if (op.path.includes('{id}')) probes.push({ what: `path id=${bad.slice(0, 20)}`, url: op.path.replace('{id}', bad), payload: JSON.stringify(base ?? {}), contentType: 'application/json' });
      for (const key of ['', 'k'.repeat(600)]) probes.push({ what: `idempotency-key of ${key.length}`, url, headers: { 'idempotency-key': key }, ...(base ? { payload: JSON.stringify(base), contentType: 'application/json' } : {}) });
      probes.push(
        { what: 'truncated JSON', url, payload: '{"quantity": "1', contentType: 'application/json' },
        { what: 'text/plain', url, payload: JSON.stringify(base ?? {}), contentType: 'text/plain' },
        { what: 'application/xml', url, payload: '<quantity>1</quantity>', contentType: 'application/xml' },
      );
      if (base) {
        probes.push(
          { what: 'empty body', url, payload: '', contentType: 'application/json' },
          { what: 'array', url, payload: JSON.stringify([base]), contentType: 'application/json' },
          { what: 'number', url, payload: '1', contentType: 'application/json' },
          { what: 'null', url, payload: 'null', contentType: 'application/json' },
          { what: 'extra property', url, payload: JSON.stringify({ ...base, extra: 1 }), contentType: 'application/json' },
        );
        // Wrong quantities and wrong types in every field, nested ones too.
        // (Surrounding spaces, ' 1', are trimmed by parseQuantity and accepted: not bad input.)
        const QUANTITIES = ['-1', '1e309', '0.000000001', 'NaN', 'Infinity', '99999999999999999999999999999999999', '0x10', '1,5', '+1', '', '1.', '.5', '١٫٥'];
        const fields: Array<[string, (v: unknown) => unknown]> = [];
        for (const [name, value] of Object.entries(base)) {
          fields.push([name, (v) => ({ ...base, [name]: v })]);
          if (Array.isArray(value) && typeof value[0] === 'object') {
            for (const inner of Object.keys(value[0] as object)) fields.push([`${name}[0].${inner}`, (v) => ({ ...base, [name]: [{ ...(value[0] as object), [inner]: v }, ...value.slice(1)] })]);
          }
        }
        for (const [f, [field, build]] of fields.entries()) {
          const isQuantity = /quantity|delta|loss/.test(field);
          // (A negative or signed delta is a valid adjustment; a note may be null.)
          const values: unknown[] = (isQuantity ? [...pick(QUANTITIES, 7, f), 1, null, {}] : field.endsWith('Id') ? ['not-a-uuid', 'b7a1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d', 7, null] : [12345, null, {}, [], 'x'.repeat(100_000), 'a\u0000b']).filter(
            (v) => !(field === 'delta' && (v === '-1' || v === '+1')) && !(field === 'note' && v === null),
          );
          for (const value of values) probes.push({ what: `${field} = ${JSON.stringify(value).slice(0, 20)}`, url, payload: JSON.stringify(build(value)), contentType: 'application/json' });
        }
      }
      for (const probe of probes) {
        const before = await ledgerState();
        const response = await send(op, probe);
        const wrong = fault(response);
        if (wrong) failures.push(`${op.method} ${op.path} [${probe.what}]: ${wrong}`);
        if (response.statusCode >= 400) {
          refused++;
          if ((await ledgerState()) !== before) failures.push(`${op.method} ${op.path} [${probe.what}]: refused with ${response.statusCode} but changed the ledger`);
        } else {
          failures.push(`${op.method} ${op.path} [${probe.what}]: accepted bad input with ${response.statusCode}: ${response.body.slice(0, 200)}`);
        }
      }
    }
    expect(refused).toBeGreaterThan(200);
    expect(failures).toEqual([]);
  }, 300_000);

  it('answers every malformed request to every operation with a 4xx problem document, never a 5xx', async () => {
    expect(ops.length).toBeGreaterThan(100);
    const random = seeded(20261123);
    const failures: string[] = [];
    let sent = 0;
    const timing = new Map<string, number>();
    const statuses = new Map<number, number>();
    const started = Date.now();
    for (const [index, op] of ops.entries()) {
      // Signing out would end the session the battery runs on: it gets its own.
      const who = op.path === '/api/v1/auth/logout' ? await signIn(server.app, server.context, ['applicant']) : boss;
      for (const probe of battery(op, random, index)) {
        sent++;
        const t0 = Date.now();
        const response = await send(op, probe, who);
        const label = probe.what.includes(' = ') ? `= ${probe.what.split(' = ')[1]}` : probe.what.replace(/=.*/, '=');
        timing.set(label, (timing.get(label) ?? 0) + Date.now() - t0);
        timing.set(`${op.method} ${op.path}`, (timing.get(`${op.method} ${op.path}`) ?? 0) + Date.now() - t0);
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        const wrong = fault(response);
        if (wrong) failures.push(`${op.method} ${op.path} [${probe.what}]: ${wrong}`);
      }
    }
    // Still signed in: no probe ended the session.
    expect((await server.app.inject({ method: 'GET', url: '/api/v1/me', headers: boss.headers })).statusCode).toBe(200);
    console.log(`fuzz on ${engine}: ${sent} requests to ${ops.length} operations in ${((Date.now() - started) / 1000).toFixed(1)} s; by status ${JSON.stringify(Object.fromEntries(statuses))}`);
    // The battery reaches the handlers, not only the sign-in gate.
    expect(statuses.get(401) ?? 0).toBeLessThan(sent / 20);
    if (process.env.FUZZ_PROFILE) console.log([...timing].sort((a, b) => b[1] - a[1]).slice(0, 30));
    expect(failures).toEqual([]);
  }, 300_000);
});
