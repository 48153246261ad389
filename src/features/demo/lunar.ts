/**
 * The lunar demo: the Chang'e-5 first batch as published (85 applications from
 * 23 institutions, 31 approved from 13, 17.4764 g distributed), built through
 * the same services a user's requests go through, so every movement and audit
 * event is real. Names are synthetic; the figures are the report's.
 * Deterministic: the same seed builds the same scenario.
 */
import type { Actor } from '../../core/actor.js';
import { systemActor } from '../../core/actor.js';
import { formatQuantity } from '../../core/quantity.js';
import type { Role } from '../../core/roles.js';
import type { Services } from '../../compose.js';
import { prng, type Random } from './random.js';

export const DEMO_PASSWORD = 'demo-password';
export const DEMO_DOMAIN = 'demo.samplebank.test';

/** The published figures of the first batch. */
export const FIRST_BATCH = { applications: 85, institutions: 23, approved: 31, approvedInstitutions: 13, distributed: '17.4764' } as const;

const SCALE = 4;
const DIRECTIONS = ['age of lunar volcanism', 'evolution of the Moon', 'space weathering', 'lunar volatiles and water', 'regolith physical properties'] as const;
const INSTITUTION_NAMES = [
  'Institute of Lunar Geochemistry', 'Northern Planetary Science Centre', 'Eastern University of Geosciences', 'Institute of Space Physics',
  'Southwest Institute of Mineralogy', 'National Isotope Laboratory', 'Coastal University Department of Earth Sciences', 'Institute of Nuclear Analysis',
  'Academy of Space Technology, Materials Division', 'Central University School of Astronomy', 'Plateau Institute of Geology', 'Institute of Remote Sensing',
  'River Delta University of Science', 'Institute of Deep Earth Physics', 'Northeastern Institute of Metallurgy', 'Institute of Vacuum Physics',
  'Western Planetary Laboratory', 'Institute of Analytical Chemistry', 'Mountain University of Mines', 'Institute of Cosmochemistry',
  'Harbour University of Engineering', 'Institute of Precision Instruments', 'Southern Academy of Environmental Science',
] as const;
const PARENT_BODIES = ['Ministry of Education', 'Ministry of Industry and IT', 'Ministry of Natural Resources', 'Academy of Sciences', 'Nuclear Industry Group', 'Aerospace Science and Technology Group'] as const;
const SURNAMES = ['Wang', 'Li', 'Zhang', 'Liu', 'Chen', 'Yang', 'Zhao', 'Huang', 'Zhou', 'Wu', 'Xu', 'Sun', 'Hu', 'Zhu', 'Gao', 'Lin', 'He', 'Guo', 'Ma', 'Luo'] as const;
const GIVEN = ['Wei', 'Fang', 'Min', 'Jing', 'Lei', 'Yan', 'Tao', 'Hui', 'Jun', 'Ping', 'Qiang', 'Xin', 'Yu', 'Hong', 'Bo', 'Ning'] as const;
const TOPICS = ['Pb-Pb ages of basalt clasts', 'Noble gases in regolith grains', 'Space weathering rims on glass beads', 'Hydrogen in apatite', 'Magnetic palaeointensity of basalts', 'Trace elements in olivine', 'Grain size distribution of fines', 'Thermal conductivity of regolith', 'Impact glass ages', 'Titanium-rich mineral phases'] as const;

export interface DemoAccount {
  email: string;
  roles: Role[];
}

export interface LunarDemo {
  collectionId: string;
  firstCallId: string;
  /** The second batch, in review: reviewer@ has reviews to write in it. */
  secondCallId: string;
  accounts: DemoAccount[];
  applications: number;
  approved: number;
  distributed: string;
}

export type DemoProgress = (step: string, done: number, total: number) => void;

interface Person {
  actor: Actor;
  email: string;
}

/** Splits `total` into `parts` positive integers (each at least `floor`), deterministically. */
export function partition(random: Random, total: bigint, parts: number, floor: bigint): bigint[] {
  const weights = Array.from({ length: parts }, () => 1 + random.next() * 3);
  const sum = weights.reduce((a, b) => a + b, 0);
  const spare = total - floor * BigInt(parts);
  if (spare < 0n) throw new Error('partition: total too small');
  const shares = weights.map((w) => floor + (spare * BigInt(Math.floor((w / sum) * 1_000_000))) / 1_000_000n);
  const given = shares.reduce((a, b) => a + b, 0n);
  shares[parts - 1] = shares[parts - 1]! + (total - given);
  return shares;
}

export async function buildLunarDemo(services: Services, options: { seed?: number; onProgress?: DemoProgress } = {}): Promise<LunarDemo> {
  const random = prng(options.seed ?? 20201217);
  const progress = options.onProgress ?? (() => {});
  const { identity, inventory, calls, applications, review } = services;
  const accounts: DemoAccount[] = [];

  async function person(email: string, name: string, roles: Role[], institutionId: string | null): Promise<Person> {
    const user = await identity.createUser(systemActor, { email, name, password: DEMO_PASSWORD, institutionId, roles });
    accounts.push({ email, roles });
    return { actor: { userId: user.id, institutionId, roles }, email };
  }
  const personName = (): string => `${random.pick(SURNAMES)} ${random.pick(GIVEN)}`;

  // ---- people and institutions ----
  progress('institutions and people', 0, 6);
  const office = await identity.createInstitution(systemActor, { code: 'LSO', name: 'Lunar Sample Office', parentBody: 'National Space Administration' });
  const institutions = [];
  for (let i = 0; i < INSTITUTION_NAMES.length; i++) {
    institutions.push(await identity.createInstitution(systemActor, { code: `I${String(i + 1).padStart(2, '0')}`, name: INSTITUTION_NAMES[i]!, parentBody: PARENT_BODIES[i % PARENT_BODIES.length]! }));
  }
  const reviewerInstitutions = [];
  for (const [code, name] of [['R1', 'Institute of Planetary Petrology'], ['R2', 'Observatory of Lunar Studies'], ['R3', 'Polar University of Geophysics']] as const) {
    reviewerInstitutions.push(await identity.createInstitution(systemActor, { code, name, parentBody: 'Academy of Sciences' }));
  }
  const curator = await person(`curator@${DEMO_DOMAIN}`, 'Curator Gao Lan', ['curator'], office.id);
  const chair = await person(`chair@${DEMO_DOMAIN}`, 'Chair Ouyang Zi', ['chair'], office.id);
  await person(`auditor@${DEMO_DOMAIN}`, 'Auditor Qian Yue', ['auditor'], office.id);
  await person(`admin@${DEMO_DOMAIN}`, 'Administrator Fan Li', ['admin'], office.id);
  const reviewers: Person[] = [await person(`reviewer@${DEMO_DOMAIN}`, 'Reviewer Shen Kuo', ['reviewer'], reviewerInstitutions[0]!.id)];
  for (let i = 2; i <= 8; i++) {
    // Two reviewers sit at applying institutions: their conflicts are automatic.
    const institutionId = i === 7 ? institutions[3]!.id : i === 8 ? institutions[15]!.id : reviewerInstitutions[i % 3]!.id;
    reviewers.push(await person(`reviewer${i}@${DEMO_DOMAIN}`, `Reviewer ${personName()}`, ['reviewer'], institutionId));
  }
  progress('institutions and people', 1, 6);

  // ---- the collection, its storage and its samples ----
  const collection = await inventory.createCollection(curator.actor, {
    code: 'CE5', name: "Chang'e-5 returned lunar samples", unit: 'g', scale: SCALE, humanConsent: false, kinds: ['scooped', 'drilled'],
    description: 'Regolith scooped from the surface and drilled from the core, returned on 17 December 2020.',
  });
  const site = await inventory.createLocation(curator.actor, { kind: 'site', code: 'BJ', name: 'Sample storage, Beijing' });
  const cabinet = await inventory.createLocation(curator.actor, { parentId: site.id, kind: 'cabinet', code: 'N2-01', name: 'Nitrogen cabinet 1' });
  const shelf = await inventory.createLocation(curator.actor, { parentId: cabinet.id, kind: 'shelf', code: 'S1', name: 'Shelf 1' });
  const box = await inventory.createLocation(curator.actor, { parentId: shelf.id, kind: 'box', code: 'B001', name: 'Research release box', rows: 4, cols: 6 });
  const parents: Record<'scooped' | 'drilled', string[]> = { scooped: [], drilled: [] };
  const stock: Array<[string, 'scooped' | 'drilled', string, string]> = [
    ['CE5C0100', 'scooped', '28.3150', 'A1'], ['CE5C0200', 'scooped', '26.0400', 'A2'], ['CE5C0300', 'scooped', '24.1270', 'A3'],
    ['CE5Z0100', 'drilled', '19.8800', 'B1'], ['CE5Z0200', 'drilled', '17.6250', 'B2'],
  ];
  for (const [identifier, kind, quantity, position] of stock) {
    const sample = await inventory.createSample(curator.actor, { collectionId: collection.id, kind, quantity, identifier, locationId: box.id, position, attributes: { mission: "Chang'e-5", site: 'Mons Rümker region' } });
    parents[kind].push(sample.id);
  }
  progress('collection and samples', 2, 6);

  // ---- the first batch ----
  const day = 86_400_000;
  const now = Date.now();
  const call = await calls.create(chair.actor, {
    collectionId: collection.id,
    title: "Chang'e-5 lunar samples, first batch for research",
    description: 'The first release of returned lunar samples for scientific research. 75% of the material stays in permanent reserve.',
    opensAt: new Date(now - 30 * day).toISOString(),
    closesAt: new Date(now + 30 * day).toISOString(),
    reviewDeadline: new Date(now + 60 * day).toISOString(),
    blind: true,
    reviewersPerApplication: 2,
    researchDirections: [...DIRECTIONS],
    rubric: { scaleMin: 1, scaleMax: 5, criteria: [{ key: 'merit', name: 'Scientific merit', weight: 3 }, { key: 'feasibility', name: 'Feasibility', weight: 2 }, { key: 'need', name: 'Need for returned samples', weight: 1 }] },
    panel: reviewers.map((r) => r.actor.userId!),
  });
  await calls.setPool(curator.actor, call.id, [...parents.scooped, ...parents.drilled]);
  await calls.transition(chair.actor, call.id, 'open');

  // 85 applications from 23 institutions; the first 13 institutions hold the 31 that will be approved.
  const perInstitution = Array.from({ length: 23 }, (_, i) => (i < 13 ? 4 : 3)); // 13*4 + 10*3 = 82
  perInstitution[0]! += 1; perInstitution[1]! += 1; perInstitution[2]! += 1; // 85
  const approvedPerInstitution = Array.from({ length: 13 }, (_, i) => (i < 5 ? 3 : 2)); // 5*3 + 8*2 = 31
  const approvedTotal = BigInt(FIRST_BATCH.distributed.replace('.', ''));
  const approvedShares = partition(random, approvedTotal, FIRST_BATCH.approved, 1500n);
  const applicants = new Map<string, Person>();
  const submitted: Array<{ id: string; approve: boolean; institution: number }> = [];
  let shareIndex = 0;
  for (let i = 0; i < 23; i++) {
    const inst = institutions[i]!;
    const pis: Person[] = [];
    const count = i === 0 ? 2 : 1 + (i % 2);
    for (let p = 0; p < count; p++) {
      const email = i === 0 && p === 0 ? `applicant@${DEMO_DOMAIN}` : `pi${i + 1}-${p + 1}@${DEMO_DOMAIN}`;
      pis.push(await person(email, `Prof. ${personName()}`, ['applicant'], inst.id));
    }
    for (let a = 0; a < perInstitution[i]!; a++) {
      const pi = pis[a % pis.length]!;
      applicants.set(pi.email, pi);
      const approve = i < 13 && a < approvedPerInstitution[i]!;
      const quantity = approve ? approvedShares[shareIndex++]! : BigInt(2000 + random.int(0, 12000));
      // Every fourth request asks for drilled material only.
      const kind = (submitted.length % 4 === 3 ? 'drilled' : 'scooped') as 'scooped' | 'drilled';
      const minimum = quantity / 2n < 1000n ? quantity : quantity / 2n;
      const direction = DIRECTIONS[(i + a) % (a % 3 === 0 ? 2 : DIRECTIONS.length)]!;
      const created = await applications.create(pi.actor, {
        callId: call.id,
        title: `${random.pick(TOPICS)}, study ${submitted.length + 1}`,
        researchDirection: direction,
        methods: 'Destructive micro-analysis in a clean laboratory; unused material returned.',
        destructive: true,
        justification: 'Returned samples from a young mare region constrain the late volcanic history of the Moon.',
        items: [{ kind, quantity: formatQuantity(quantity, SCALE), minimum: formatQuantity(minimum, SCALE) }],
        team: [{ name: personName(), role: 'co-investigator' }],
        publications: [{ citation: `${random.pick(SURNAMES)} et al. 2019, Journal of Planetary Science` }],
      });
      await applications.submit(pi.actor, created.id);
      submitted.push({ id: created.id, approve, institution: i });
    }
  }
  progress('applications', 3, 6);

  // ---- review ----
  await calls.transition(chair.actor, call.id, 'closed');
  await calls.transition(chair.actor, call.id, 'in_review');
  await review.autoAssign(chair.actor, call.id, 2);
  const approveSet = new Set(submitted.filter((s) => s.approve).map((s) => s.id));
  for (const reviewer of reviewers) {
    const bias = random.int(-1, 1);
    let cursor: string | undefined;
    do {
      const page = await review.mine(reviewer.actor, { limit: 100, callId: call.id, cursor });
      for (const item of page.items) {
        const good = approveSet.has(item.applicationId);
        const base = good ? 5 : 2;
        const score = (n: number) => Math.max(1, Math.min(5, n));
        await review.score(reviewer.actor, item.id, {
          scores: [
            { criterion: 'merit', score: score(base + (good ? 0 : random.int(-1, 1)) + (good ? 0 : bias)) },
            { criterion: 'feasibility', score: score(base - random.int(0, 1)) },
            { criterion: 'need', score: score(base - random.int(0, 1)) },
          ],
          commentsForApplicant: good ? 'A focused plan with a clear need for returned material.' : 'The questions could be answered with meteorites or earlier samples.',
          confidentialNotes: good ? 'Strong team.' : 'Lower priority for this batch.',
        });
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  progress('reviews', 4, 6);

  // ---- decisions ----
  for (const s of submitted) {
    await applications.decide(chair.actor, s.id, s.approve
      ? { outcome: 'approved', rationale: 'Ranked within the material released in this batch.' }
      : { outcome: 'rejected', rationale: 'Ranked below the material released in this batch; welcome to apply again in a later batch.' });
  }
  await calls.transition(chair.actor, call.id, 'decided');
  progress('decisions', 5, 6);

  const { distributed, overdue } = await allocateAndShip(services, { chair, curator, callId: call.id, applicants });
  progress('allocation', 6, 7);

  // The recipient with the overdue report may not apply again until it is in: the second batch is applied for by others.
  const mayApply = new Map([...applicants].filter(([email]) => email !== overdue));
  const secondCallId = await secondBatch(services, { chair, curator, reviewers, applicants: mayApply, collectionId: collection.id, pool: [...parents.scooped, ...parents.drilled], random });
  progress('second batch', 7, 7);

  return {
    collectionId: collection.id,
    firstCallId: call.id,
    secondCallId,
    accounts,
    applications: submitted.length,
    approved: approveSet.size,
    distributed,
  };
}

/** A second batch in review, with reviews still to write (reviewer@ among the reviewers) and one draft of applicant@. */
async function secondBatch(services: Services, context: { chair: Person; curator: Person; reviewers: Person[]; applicants: Map<string, Person>; collectionId: string; pool: string[]; random: Random }): Promise<string> {
  const { calls, applications, review } = services;
  const { chair, curator, random } = context;
  const day = 86_400_000;
  const call = await calls.create(chair.actor, {
    collectionId: context.collectionId,
    title: "Chang'e-5 lunar samples, second batch for research",
    opensAt: new Date(Date.now() - 7 * day).toISOString(),
    closesAt: new Date(Date.now() + 21 * day).toISOString(),
    reviewDeadline: new Date(Date.now() + 45 * day).toISOString(),
    blind: true,
    reviewersPerApplication: 2,
    researchDirections: [...DIRECTIONS],
    rubric: { scaleMin: 1, scaleMax: 5, criteria: [{ key: 'merit', name: 'Scientific merit', weight: 3 }, { key: 'feasibility', name: 'Feasibility', weight: 2 }] },
    panel: context.reviewers.map((r) => r.actor.userId!),
  });
  await calls.setPool(curator.actor, call.id, context.pool);
  await calls.transition(chair.actor, call.id, 'open');
  const people = [...context.applicants.values()];
  const submitted: string[] = [];
  for (let i = 0; i < 8; i++) {
    const pi = people[(i * 5 + 1) % people.length]!;
    const created = await applications.create(pi.actor, {
      callId: call.id,
      title: `${random.pick(TOPICS)}, follow-up ${i + 1}`,
      researchDirection: DIRECTIONS[i % DIRECTIONS.length]!,
      methods: 'Non-destructive imaging first, then micro-sampling.',
      destructive: i % 2 === 0,
      justification: 'Builds on results from the first batch.',
      items: [{ kind: i % 3 === 0 ? 'drilled' : 'scooped', quantity: formatQuantity(BigInt(3000 + random.int(0, 5000)), SCALE), minimum: '0.2000' }],
    });
    await applications.submit(pi.actor, created.id);
    submitted.push(created.id);
  }
  const applicant = context.applicants.get(`applicant@${DEMO_DOMAIN}`)!;
  await applications.create(applicant.actor, { callId: call.id, title: 'Space weathering of agglutinates (draft)', researchDirection: 'space weathering', items: [{ kind: 'scooped', quantity: '0.5000' }] });
  await calls.transition(chair.actor, call.id, 'closed');
  await calls.transition(chair.actor, call.id, 'in_review');
  await review.assign(chair.actor, submitted[0]!, context.reviewers[0]!.actor.userId!);
  await review.autoAssign(chair.actor, call.id, 2);
  return call.id;
}

/**
 * Proposes, approves and executes the allocation (every approved request fits
 * in what the batch releases, so the optimum gives each one all it asked for),
 * then ships to ten recipients: eight confirm receipt, one of those has a
 * report overdue, one returns part of its material.
 */
async function allocateAndShip(services: Services, context: { chair: Person; curator: Person; callId: string; applicants: Map<string, Person> }): Promise<{ distributed: string; overdue: string | undefined }> {
  const { allocation, distribution, loans } = services;
  const { chair, curator, callId } = context;
  const proposal = await allocation.propose(chair.actor, callId, { note: 'First batch: every approved request in full.' });
  if (!proposal.verification?.ok) throw new Error(`demo: the allocation proposal breaks the rules: ${JSON.stringify(proposal.verification)}`);
  if (proposal.totals.allocated !== FIRST_BATCH.distributed) throw new Error(`demo: the allocation gives ${proposal.totals.allocated} g, not ${FIRST_BATCH.distributed} g`);
  await allocation.approve(chair.actor, proposal.id);
  const executed = await allocation.execute(curator.actor, proposal.id);

  const byUser = new Map([...context.applicants.values()].map((p) => [p.actor.userId!, p]));
  const recipients = executed.applications.slice(0, 10);
  const day = 86_400_000;
  const recipientOf = new Map<string, Person>();
  for (const entry of recipients) {
    const app = await services.applications.get(chair.actor, entry.applicationId);
    const person = byUser.get(app.applicantId!);
    if (person) recipientOf.set(entry.applicationId, person);
  }
  const overdueIndex = recipients.findIndex((entry, i) => i < 8 && i !== 1 && recipientOf.get(entry.applicationId)?.email !== `applicant@${DEMO_DOMAIN}`);
  for (const [index, entry] of recipients.entries()) {
    const applicant = recipientOf.get(entry.applicationId);
    if (!applicant) throw new Error('demo: recipient not found');
    const shipment = await distribution.create(curator.actor, {
      applicationId: entry.applicationId,
      loanDueAt: new Date(Date.now() + 365 * day).toISOString(),
      reportDueAt: new Date(Date.now() + 180 * day).toISOString(),
    });
    await distribution.pack(curator.actor, shipment.id);
    await distribution.dispatch(curator.actor, shipment.id, { courier: 'Secure Courier Co.', trackingNumber: `SC${String(20210100 + index)}` });
    if (index >= 8) continue; // two shipments are still on their way
    const received = await distribution.receive(applicant.actor, shipment.id, {
      items: shipment.items.map((item) => ({ sampleId: item.sampleId, quantity: item.quantity, condition: 'intact' as const })),
    });
    const loan = (await loans.list(curator.actor, { limit: 5, applicationId: received.applicationId })).items[0];
    if (!loan) throw new Error('demo: no loan opened on receipt');
    if (index === overdueIndex) {
      // One result report is overdue (not applicant@'s: overdue obligations would stop them applying).
      await loans.update(curator.actor, loan.id, { reportDueAt: new Date(Date.now() - 10 * day).toISOString() });
    }
    if (index === 1) {
      // One recipient returns part of what it received.
      const first = shipment.items[0]!;
      const half = BigInt(first.quantity.replace('.', '')) / 2n;
      await loans.returnMaterial(applicant.actor, loan.id, { items: [{ sampleId: first.sampleId, quantity: formatQuantity(half, SCALE), condition: 'intact' }] });
    }
  }
  return { distributed: executed.totals.allocated, overdue: recipientOf.get(recipients[overdueIndex]?.applicationId ?? '')?.email };
}
