/**
 * A small lunar-sample scene for screenshots and the benchmark: institutions,
 * staff, a collection with samples, storage (when the inventory API exists),
 * and a release batch with applications from several institutions, some
 * decided (with `reviews`, after the panel has scored them through the review
 * API, so the ranking has something to rank). Collections and samples go
 * through the inventory API when it is there, else straight into its tables
 * (as the calls tests do).
 */
import crypto from 'node:crypto';
import { systemActor } from '../../src/core/actor.js';
import type { Role } from '../../src/core/roles.js';
import type { TestServer } from '../../test/harness.js';

export const SEED_PASSWORD = 'correct-horse-battery';

export interface SeedUser {
  id: string;
  email: string;
  name: string;
  headers: { authorization: string };
}

export interface Seed {
  curator: SeedUser;
  chair: SeedUser;
  applicant: SeedUser;
  reviewer: SeedUser;
  auditor: SeedUser;
  collectionId: string;
  sampleId: string;
  callId: string | null;
  boxId: string | null;
  inventoryApi: boolean;
}

const hours = (n: number): string => new Date(Date.now() + n * 3600_000).toISOString();

export interface SeedOptions {
  /** The panel is assigned and scores every application before the chair decides (off for the benchmark, whose scene predates it). */
  reviews?: boolean;
}

/**
 * Each reviewer's scores (merit, feasibility; rubric 1 to 5) for the
 * applications in plan order: the approved ones score higher, and the second
 * reviewer is a point harsher, which the ranking's per-reviewer normalisation
 * takes out.
 */
const PLANNED_SCORES: Array<[merit: number, feasibility: number, comment: string | null]> = [
  [5, 4, 'Clear dating strategy; the clasts chosen answer the question.'],
  [4, 5, null],
  [2, 3, 'The link between the measurements and the question is not made.'],
  [5, 5, 'Excellent, well-costed plan.'],
  [3, 2, null],
  [4, 4, null],
  [2, 2, 'Too little material to support the claims.'],
  [4, 3, null],
  [1, 3, 'Space weathering is outside this batch’s priorities.'],
  [3, 4, null],
];

export async function seedShowcase(server: TestServer, options: SeedOptions = {}): Promise<Seed> {
  const { app, context } = server;
  const identity = context.services.identity;
  const inject = async <T>(method: string, url: string, who: SeedUser | null, payload?: unknown, expected?: number): Promise<{ status: number; body: T }> => {
    const response = await app.inject({ method: method as 'GET', url: `/api/v1${url}`, headers: who?.headers ?? {}, ...(payload === undefined ? {} : { payload: payload as object }) });
    if (expected !== undefined && response.statusCode !== expected) throw new Error(`${method} ${url}: expected ${expected}, got ${response.statusCode}: ${response.body}`);
    return { status: response.statusCode, body: (response.body ? response.json() : undefined) as T };
  };

  const institutions: Array<{ id: string; name: string }> = [];
  for (const [code, name] of [
    ['IGGCAS', 'Institute of Geology and Geophysics, CAS'],
    ['GIGCAS', 'Guangzhou Institute of Geochemistry, CAS'],
    ['PKU', 'Peking University'],
    ['NJU', 'Nanjing University'],
    ['CUG', 'China University of Geosciences'],
    ['PMO', 'Purple Mountain Observatory'],
    ['CNSA', 'Lunar Exploration and Space Engineering Center'],
  ] as const) {
    institutions.push(await identity.createInstitution(systemActor, { code, name }));
  }
  const home = institutions[6]!.id;
  const user = async (roles: Role[], name: string, institutionId: string): Promise<SeedUser> => {
    const email = `${name.toLowerCase().replace(/[^a-z]+/g, '.')}@showcase.samplebank.test`;
    const created = await identity.createUser(systemActor, { email, name, password: SEED_PASSWORD, institutionId, roles });
    const login = await inject<{ token: string }>('POST', '/auth/login', null, { email, password: SEED_PASSWORD }, 200);
    return { id: created.id, email, name, headers: { authorization: `Bearer ${login.body.token}` } };
  };
  const curator = await user(['curator'], 'Chen Yue', home);
  const chair = await user(['chair'], 'Li Chunlai', home);
  const auditor = await user(['auditor'], 'Zhao Min', home);
  const reviewer = await user(['reviewer'], 'Wang Fang', institutions[5]!.id);
  const reviewer2 = await user(['reviewer'], 'Sun Hao', institutions[4]!.id);

  // Collection and samples.
  const inventoryApi = (await inject('GET', '/collections', curator)).status !== 404;
  let collectionId: string;
  const sampleIds: string[] = [];
  const samples: Array<[string, string, string]> = [
    ['CE5C0400', 'scooped', '1500.0000'],
    ['CE5C0800', 'scooped', '120.5000'],
    ['CE5Z0100', 'drilled', '110.4764'],
    ['CE5C0401', 'scooped', '17.4764'],
  ];
  if (inventoryApi) {
    const created = await inject<{ id: string }>('POST', '/collections', curator, {
      code: 'CE5',
      name: "Chang'e-5 returned lunar samples",
      description: 'Regolith scooped from the surface and drilled from a core at Mons Rümker, returned December 2020.',
      unit: 'g',
      scale: 4,
      humanConsent: false,
      kinds: ['scooped', 'drilled'],
    }, 201);
    collectionId = created.body.id;
    for (const [identifier, kind, quantity] of samples) {
      sampleIds.push((await inject<{ id: string }>('POST', '/samples', curator, { collectionId, kind, quantity, identifier }, 201)).body.id);
    }
  } else {
    collectionId = crypto.randomUUID();
    const db = context.handle.db;
    await db.insertInto('collections').values({ id: collectionId, code: 'CE5', name: "Chang'e-5 returned lunar samples", unit: 'g', scale: 4, human_consent: false, kinds: ['scooped', 'drilled'] }).execute();
    for (const [identifier, kind, quantity] of samples) {
      const id = crypto.randomUUID();
      const units = quantity.replace('.', '').replace(/^0+/, '') || '0';
      await db.insertInto('samples').values({ id, collection_id: collectionId, identifier, kind, quantity: units, reserved: '0', state: 'available', parent_id: null, root_id: id, location_id: null, position: null, attributes: '{}' }).execute();
      sampleIds.push(id);
    }
  }

  // Storage and a split, through the inventory API only.
  let boxId: string | null = null;
  if (inventoryApi) {
    const site = await inject<{ id: string }>('POST', '/locations', curator, { kind: 'site', code: 'BJ', name: 'Beijing curation facility' });
    if (site.status === 201) {
      const freezer = await inject<{ id: string }>('POST', '/locations', curator, { parentId: site.body.id, kind: 'cabinet', code: 'N2-01', name: 'Nitrogen cabinet 1' }, 201);
      const box = await inject<{ id: string }>('POST', '/locations', curator, { parentId: freezer.body.id, kind: 'box', code: 'BOX-A', name: 'Release box A', rows: 6, cols: 8 }, 201);
      boxId = box.body.id;
      for (const [index, position] of ['A1', 'A2', 'B4'].entries()) {
        await inject('POST', `/samples/${sampleIds[index]}/move`, curator, { locationId: boxId, position, reason: 'stored' });
      }
    }
    await inject('POST', `/samples/${sampleIds[0]}/split`, curator, { parts: [{ quantity: '2.0000' }, { quantity: '1.5000' }, { quantity: '0.5000', kind: 'scooped' }], reason: 'Subsamples for the first release batch' });
  }

  // A release batch with applications from several institutions.
  let callId: string | null = null;
  const call = await inject<{ id: string }>('POST', '/calls', chair, {
    collectionId,
    title: "First release of Chang'e-5 samples",
    opensAt: hours(-1),
    closesAt: hours(24),
    reviewDeadline: hours(24 * 14),
    blind: true,
    reviewersPerApplication: 2,
    researchDirections: ['age of lunar volcanism', 'evolution of the Moon', 'space weathering'],
    rubric: { scaleMin: 1, scaleMax: 5, criteria: [{ key: 'merit', name: 'Scientific merit', weight: 3 }, { key: 'feasibility', name: 'Feasibility', weight: 1 }] },
    panel: [reviewer.id, reviewer2.id],
  });
  let applicant: SeedUser = reviewer;
  if (call.status === 201) {
    callId = call.body.id;
    await inject('PUT', `/calls/${callId}/pool`, curator, { sampleIds }, 200);
    await inject('POST', `/calls/${callId}/transitions`, chair, { to: 'open' }, 200);
    const plan: Array<[number, string, 'approved' | 'rejected' | null]> = [
      [0, 'age of lunar volcanism', 'approved'],
      [0, 'evolution of the Moon', 'approved'],
      [0, 'space weathering', 'rejected'],
      [1, 'age of lunar volcanism', 'approved'],
      [1, 'evolution of the Moon', 'rejected'],
      [2, 'age of lunar volcanism', 'approved'],
      [2, 'space weathering', 'rejected'],
      [3, 'evolution of the Moon', 'approved'],
      [4, 'space weathering', 'rejected'],
      [3, 'age of lunar volcanism', null], // left in review for the reviewers (not from their institutions)
    ];
    const applicants = new Map<number, SeedUser>();
    const decisions: Array<[string, 'approved' | 'rejected']> = [];
    const planIndex = new Map<string, number>();
    for (const [index, [inst, direction, outcome]] of plan.entries()) {
      let who = applicants.get(inst);
      if (!who) {
        who = await user(['applicant'], `PI ${String.fromCharCode(65 + inst)} ${institutions[inst]!.name.split(/[ ,]/)[0]}`, institutions[inst]!.id);
        applicants.set(inst, who);
      }
      const created = await inject<{ id: string }>('POST', '/applications', who, {
        callId,
        title: ['Crystallisation ages of mare basalt fragments', 'Thermal history of the Procellarum KREEP terrane', 'Solar-wind water in regolith grains'][index % 3],
        researchDirection: direction,
        methods: 'SIMS Pb-Pb dating; electron microprobe',
        destructive: index % 2 === 0,
        justification: 'Young basalts constrain late lunar volcanism.',
        items: [{ kind: 'scooped', quantity: '1.5000', minimum: '0.5000' }],
        team: [{ name: 'Co-investigator', role: 'co-investigator' }],
        publications: [],
      }, 201);
      await inject('POST', `/applications/${created.body.id}/submit`, who, undefined, 200);
      planIndex.set(created.body.id, index);
      if (outcome) decisions.push([created.body.id, outcome]);
    }
    applicant = applicants.get(0)!;
    await inject('POST', `/calls/${callId}/transitions`, chair, { to: 'closed' }, 200);
    if (options.reviews) await inject('POST', `/calls/${callId}/assignments/auto`, chair, {}, 200);
    await inject('POST', `/calls/${callId}/transitions`, chair, { to: 'in_review' }, 200);
    if (options.reviews) {
      // Each panel member scores what they were assigned, as they would in the review workspace.
      for (const [harshness, panelist] of [reviewer, reviewer2].entries()) {
        const assigned = await inject<{ items: Array<{ id: string; applicationId: string; state: string }> }>('GET', `/reviews?callId=${callId}&limit=200`, panelist, undefined, 200);
        for (const review of assigned.body.items.filter((item) => item.state === 'assigned')) {
          const [merit, feasibility, comment] = PLANNED_SCORES[planIndex.get(review.applicationId) ?? 0]!;
          await inject('PUT', `/reviews/${review.id}`, panelist, {
            scores: [
              { criterion: 'merit', score: Math.max(1, merit - harshness) },
              { criterion: 'feasibility', score: Math.max(1, feasibility - harshness) },
            ],
            ...(comment && harshness === 0 ? { commentsForApplicant: comment } : {}),
          }, 200);
        }
      }
    }
    for (const [id, outcome] of decisions) {
      await inject('POST', `/applications/${id}/decision`, chair, { outcome, rationale: outcome === 'approved' ? 'Strong, feasible proposal' : 'Outside the priorities of this batch' }, 200);
    }
  }
  return { curator, chair, applicant, reviewer, auditor, collectionId, sampleId: sampleIds[0]!, callId, boxId, inventoryApi };
}
