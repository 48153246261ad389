import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { idParam } from '../../platform/http/schemas.js';
import { writeTable, type ExportTable } from '../inventory/export/export.service.js';
import type { DonorsService } from './donors.service.js';
import type { EligibilityService } from './eligibility.service.js';
import type { PathologyExportsService } from './exports.service.js';
import type { NetworkService } from './network.service.js';
import * as s from './pathology.schemas.js';
import { toSpecimenView } from './pathology.view.js';

export interface PathologyServices {
  donors: DonorsService;
  eligibility: EligibilityService;
  networks: NetworkService;
  pathologyExports: PathologyExportsService;
}

const contentTypes = { csv: 'text/csv; charset=utf-8', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' } as const;
const fhirJson = 'application/fhir+json; charset=utf-8';
const fhirResource = z.looseObject({ resourceType: z.string() });
const code = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/, 'letters, digits, dot, dash or underscore; at most 32');
const networkInput = z.strictObject({ code, name: z.string().trim().min(1).max(200), institutionIds: z.array(z.uuid()).max(1000) });
const network = z.object({ id: z.uuid(), code: z.string(), name: z.string(), members: z.array(z.object({ id: z.uuid(), code: z.string(), name: z.string() })) });
const pageQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(200), cursor: z.string().max(64).optional() });

export function pathologyRoutes(services: PathologyServices) {
  const { donors, eligibility, networks, pathologyExports } = services;
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ['pathology'];

    app.post('/donors', { schema: { tags, summary: 'Register a donor by pseudonymous code (curator); identifying fields are refused', body: s.donorInput, response: { 201: s.donor } } }, async (request, reply) =>
      reply.code(201).send(await donors.create(request.actor, request.body)),
    );
    app.get('/donors', { schema: { tags, summary: 'Donors (curator, admin, auditor)', querystring: s.donorListQuery, response: { 200: z.object({ items: z.array(s.donor), nextCursor: z.string().nullable() }) } } }, async (request) =>
      donors.list(request.actor, request.query),
    );
    app.get('/donors/export', { schema: { tags, summary: 'Donors as CSV or XLSX', querystring: s.exportQuery, produces: [contentTypes.csv, contentTypes.xlsx] } }, async (request, reply) =>
      sendTable(request, reply, await pathologyExports.donorsTable(request.actor, request.query.collectionId), request.query.format, 'donors'),
    );
    app.get('/donors/:id', { schema: { tags, summary: 'A donor with their consent records', params: idParam, response: { 200: s.donor } } }, async (request) => donors.get(request.actor, request.params.id));
    app.post('/donors/:id/consents', { schema: { tags, summary: 'Record a signed consent form (curator)', params: idParam, body: s.consentInput, response: { 201: s.donor } } }, async (request, reply) =>
      reply.code(201).send(await donors.addConsent(request.actor, request.params.id, request.body)),
    );
    app.post('/donors/:id/consent-withdrawal', {
      schema: { tags, summary: "Withdraw the donor's consent: quarantines their material, releases its reservations, tells the curators (curator)", params: idParam, body: s.withdrawalInput, response: { 200: s.withdrawal } },
    }, async (request) => donors.withdraw(request.actor, request.params.id, request.body.reason));
    app.get('/donors/:id/holdings', { schema: { tags, summary: "Loans, shipments and reservations holding the donor's material", params: idParam, response: { 200: s.holdings } } }, async (request) =>
      donors.holdings(request.actor, request.params.id),
    );
    app.get('/donors/:id/specimens', {
      schema: { tags, summary: "The donor's specimens: each sample, its pre-analytical data and how many subsamples were cut from it (curator, admin, auditor)", params: idParam, querystring: s.donorSpecimenQuery, response: { 200: z.object({ items: z.array(s.donorSpecimen), nextCursor: z.string().nullable() }) } },
    }, async (request) => donors.specimens(request.actor, request.params.id, request.query));
    app.post('/donors/:id/specimens', { schema: { tags, summary: "Register a specimen of the donor with its pre-analytical data (curator)", params: idParam, body: s.specimenInput, response: { 201: s.specimen } } }, async (request, reply) =>
      reply.code(201).send(toSpecimenView(await donors.addSpecimen(request.actor, request.params.id, request.body))),
    );
    app.get('/samples/:id/specimen', { schema: { tags, summary: "A sample's specimen record (its own or its root's)", params: idParam, response: { 200: s.specimen } } }, async (request) =>
      toSpecimenView(await donors.specimen(request.actor, request.params.id)),
    );

    app.get('/applications/:id/uses', { schema: { tags, summary: 'The research uses an application declares, and those it needs consent for', params: idParam, response: { 200: s.uses } } }, async (request) =>
      eligibility.uses(request.actor, request.params.id),
    );
    app.put('/applications/:id/uses', { schema: { tags, summary: 'Declare the intended uses (the applicant, while draft or submitted)', params: idParam, body: s.usesInput, response: { 200: s.uses } } }, async (request) =>
      eligibility.setUses(request.actor, request.params.id, request.body.uses),
    );
    app.post('/eligibility', { schema: { tags, summary: "Which samples an application's uses may draw on under each donor's consent", body: s.eligibilityInput, response: { 200: s.eligibility } } }, async (request) => {
      const { applicationId, uses, sampleIds } = request.body;
      return eligibility.check(request.actor, applicationId !== undefined ? { applicationId } : { uses: uses ?? [] }, sampleIds);
    });

    app.post('/networks', { schema: { tags, summary: 'Create a network of institutions (admin)', body: networkInput, response: { 201: network } } }, async (request, reply) =>
      reply.code(201).send(await networks.create(request.actor, request.body)),
    );
    app.get('/networks', { schema: { tags, summary: 'The networks your institution belongs to', response: { 200: z.object({ items: z.array(network) }) } } }, async (request) => networks.list(request.actor));
    app.get('/networks/:id', { schema: { tags, summary: 'A network and its members', params: idParam, response: { 200: network } } }, async (request) => networks.get(request.actor, request.params.id));
    app.put('/networks/:id/members', { schema: { tags, summary: "Set a network's member institutions (admin)", params: idParam, body: z.strictObject({ institutionIds: z.array(z.uuid()).max(1000) }), response: { 200: network } } }, async (request) =>
      networks.setMembers(request.actor, request.params.id, request.body.institutionIds),
    );
    app.get('/networks/:id/catalog', { schema: { tags, summary: "The members' collections as counts by kind, diagnosis and availability (no donor data)", params: idParam, response: { 200: s.catalog } } }, async (request) =>
      networks.catalog(request.actor, request.params.id),
    );

    app.get('/samples/:id/lineage/fhir', { schema: { tags, summary: 'The sample and its ancestors as a FHIR R4 Bundle of Specimens, with collection and pre-analytical details', params: idParam, produces: [fhirJson], response: { 200: fhirResource } } }, async (request, reply) =>
      reply.type(fhirJson).send(await pathologyExports.lineageBundle(request.actor, request.params.id)),
    );
    app.get('/collections/:id/fhir', {
      schema: { tags, summary: "A page of the collection's samples as a FHIR R4 Bundle of Specimens (next page in the Link header)", params: idParam, querystring: pageQuery, produces: [fhirJson], response: { 200: fhirResource } },
    }, async (request, reply) => {
      const { bundle, nextCursor } = await pathologyExports.bundle(request.actor, request.params.id, request.query);
      if (nextCursor) reply.header('link', `</api/v1/collections/${request.params.id}/fhir?limit=${request.query.limit}&cursor=${encodeURIComponent(nextCursor)}>; rel="next"`);
      return reply.type(fhirJson).send(bundle);
    });
    app.get('/collections/:id/miabis', { schema: { tags, summary: 'A MIABIS-style collection record for network portals (aggregates only)', params: idParam, response: { 200: z.looseObject({ standard: z.string() }) } } }, async (request) =>
      pathologyExports.miabis(request.actor, request.params.id),
    );
    app.get('/collections/:id/specimens/export', { schema: { tags, summary: "The collection's specimens with pre-analytical data, as CSV or XLSX", params: idParam, querystring: s.exportQuery.omit({ collectionId: true }), produces: [contentTypes.csv, contentTypes.xlsx] } }, async (request, reply) =>
      sendTable(request, reply, await pathologyExports.specimensTable(request.actor, request.params.id), request.query.format, 'specimens'),
    );
  };
}

function sendTable(request: FastifyRequest, reply: FastifyReply, table: ExportTable, format: 'csv' | 'xlsx', what: string): FastifyReply {
  const body = new PassThrough();
  writeTable(table, format, body).then(
    () => {
      if (format === 'csv') body.end();
    },
    (error: unknown) => {
      request.log.error({ err: error }, 'export failed while streaming');
      body.destroy(error instanceof Error ? error : new Error(String(error)));
    },
  );
  return reply.type(contentTypes[format]).header('content-disposition', `attachment; filename="${table.collection.code}-${what}.${format}"`).send(body);
}
