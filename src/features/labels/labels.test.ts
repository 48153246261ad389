/** Label sheets for chosen samples: a PDF of DataMatrix labels, for those who may read the samples. */
import { PDFDocument } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, engine, type TestServer } from '../../../test/harness.js';
import { problem, signIn, type SignedIn } from '../../../test/factories.js';
import { buildWorld, type World } from '../calls/calls.testkit.js';
import { pdf } from '../distribution/distribution.testkit.js';

describe(`sample labels on ${engine}`, () => {
  let server: TestServer;
  let world: World;
  let applicant: SignedIn;
  beforeAll(async () => {
    server = await createTestServer();
    world = await buildWorld(server.app, server.context, { reviewers: 0 });
    applicant = await signIn(server.app, server.context, ['applicant']);
  });
  afterAll(async () => server?.close());
  const get = (who: SignedIn | null, url: string) => server.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: who?.headers ?? {} });

  it('prints one sample or a selection as an A4 PDF, one label each', async () => {
    const one = pdf(await get(world.curator, `/samples/labels.pdf?ids=${world.samples.drilled[0]}`));
    expect(one.subarray(0, 5).toString()).toBe('%PDF-');
    expect((await PDFDocument.load(one)).getPageCount()).toBe(1);
    const ids = [...world.samples.scooped, ...world.samples.drilled, world.samples.scooped[0]!];
    const response = await get(world.curator, `/samples/labels.pdf?ids=${ids.join(',')}`);
    const several = pdf(response);
    expect(response.headers['content-disposition']).toBe('inline; filename="labels-3.pdf"');
    const document = await PDFDocument.load(several);
    expect(document.getPageCount()).toBe(1);
    // One DataMatrix per distinct sample: three times the images of a one-label sheet.
    const images = (file: Buffer) => file.toString('latin1').match(/\/Subtype \/Image/g)?.length ?? 0;
    expect(images(one)).toBeGreaterThan(0);
    expect(images(several)).toBe(3 * images(one));
    expect((await get(world.auditor, `/samples/labels.pdf?ids=${ids[0]}`)).statusCode).toBe(200);
  });

  it('refuses bad lists, unknown samples, and callers who may not read samples', async () => {
    expect(problem(await get(world.curator, '/samples/labels.pdf?ids=not-a-uuid'), 400, 'validation-failed').errors[0]!.field).toBe('ids');
    problem(await get(world.curator, '/samples/labels.pdf'), 400, 'validation-failed');
    expect(problem(await get(world.curator, '/samples/labels.pdf?ids=,'), 400, 'validation-failed').errors[0]!.field).toBe('ids');
    problem(await get(world.curator, '/samples/labels.pdf?ids=00000000-0000-4000-8000-000000000000'), 404, 'not-found');
    problem(await get(applicant, `/samples/labels.pdf?ids=${world.samples.drilled[0]}`), 403, 'forbidden');
    problem(await get(null, `/samples/labels.pdf?ids=${world.samples.drilled[0]}`), 401, 'unauthenticated');
  });
});
