/**
 * The pathology demo: a hospital bank of COVID-19 autopsy and biopsy tissue
 * (blocks, slides, frozen tissue, fluids) from a few dozen pseudonymous donors,
 * shared across a network of three medical universities; one donor withdraws
 * consent while a call across the three universities is open. Built through
 * the services, so every movement, audit event and notification is real.
 * Names are synthetic. Deterministic for a given seed.
 */
import type { Actor } from '../../core/actor.js';
import { systemActor } from '../../core/actor.js';
import { consentUses } from '../../core/consent.js';
import type { Role } from '../../core/roles.js';
import type { Services } from '../../compose.js';

export interface PathologyDemoOptions {
  seed?: number;
  /** How many donors (default 36). */
  donors?: number;
  /** Password of the demo accounts. */
  password?: string;
  /** E-mail domain of the demo accounts. */
  domain?: string;
  onProgress?: (step: string, done: number, total: number) => void;
}

export interface PathologyDemo {
  institutions: Array<{ id: string; code: string; name: string }>;
  networkId: string;
  collectionId: string;
  callId: string;
  donors: number;
  specimens: number;
  samples: number;
  withdrawnDonorId: string;
  quarantined: number;
  applications: string[];
  accounts: Array<{ email: string; roles: Role[] }>;
}

const UNIVERSITIES = [
  ['PMU', 'Chongqing-area Medical University (pathology bank)'],
  ['NMU', 'Northern Medical University'],
  ['SMU', 'Southern Medical University'],
] as const;
const DIAGNOSES = ['J80', 'J18.9', 'I26.9', 'J84.1', 'N17.9', 'I21.9'] as const;
const BODY_SITES = ['lung, right lower lobe', 'lung, left upper lobe', 'heart, left ventricle', 'liver', 'kidney', 'spleen'] as const;

/** A small seeded generator (mulberry32): the same seed builds the same bank. */
function generator(seed: number): { next(): number; pick<T>(items: readonly T[]): T; int(low: number, high: number): number } {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: (items) => items[Math.floor(next() * items.length)]!, int: (low, high) => low + Math.floor(next() * (high - low + 1)) };
}

export async function buildPathologyDemo(services: Services, options: PathologyDemoOptions = {}): Promise<PathologyDemo> {
  const random = generator(options.seed ?? 20200214);
  const donorCount = options.donors ?? 36;
  const password = options.password ?? 'demo-password';
  const domain = options.domain ?? 'demo.samplebank.test';
  const progress = options.onProgress ?? (() => {});
  const { identity, inventory, donors, networks, calls, applications, eligibility } = services;
  const accounts: PathologyDemo['accounts'] = [];

  async function person(local: string, name: string, roles: Role[], institutionId: string): Promise<Actor> {
    const email = `${local}@${domain}`;
    const user = await identity.createUser(systemActor, { email, name, password, institutionId, roles });
    accounts.push({ email, roles });
    return { userId: user.id, institutionId, roles };
  }

  progress('universities and people', 0, 5);
  const institutions = [];
  for (const [code, name] of UNIVERSITIES) institutions.push(await identity.createInstitution(systemActor, { code, name, parentBody: 'Medical universities network' }));
  const [bank, north, south] = institutions as [(typeof institutions)[number], (typeof institutions)[number], (typeof institutions)[number]];
  const curator = await person('pathology-curator', 'Curator Tan Yu', ['curator'], bank.id);
  const chair = await person('pathology-chair', 'Chair Bian Qing', ['chair'], bank.id);
  const panel = [await person('pathology-reviewer1', 'Reviewer Luo Jia', ['reviewer'], north.id), await person('pathology-reviewer2', 'Reviewer Mo Ran', ['reviewer'], south.id)];
  const applicants = [
    await person('pathology-applicant1', 'Applicant Wen Xi', ['applicant'], bank.id),
    await person('pathology-applicant2', 'Applicant Qiu Shan', ['applicant'], north.id),
    await person('pathology-applicant3', 'Applicant Jiang He', ['applicant'], south.id),
  ];
  const network = await networks.create(systemActor, { code: 'MEDNET3', name: 'Medical universities collaboration network', institutionIds: institutions.map((i) => i.id) });

  progress('collection, donors and specimens', 1, 5);
  const collection = await inventory.createCollection(curator, {
    code: 'COVIDPATH',
    name: 'COVID-19 autopsy and biopsy tissue',
    unit: 'count',
    scale: 0,
    humanConsent: true,
    kinds: ['block', 'slide', 'frozen', 'fluid'],
    biosafetyLevel: 2,
    institutionId: bank.id,
    description: 'Formalin-fixed blocks, sections, frozen tissue and fluids from pseudonymous donors, under informed consent and ethics approval.',
  });
  const donorIds: string[] = [];
  const pool: string[] = [];
  let specimens = 0;
  let samples = 0;
  for (let d = 1; d <= donorCount; d++) {
    const day = 1 + ((d * 3) % 28);
    const collectedOn = `2020-0${2 + (d % 3)}-${String(day).padStart(2, '0')}`;
    const scope = consentUses.filter((use) => use !== 'commercial-use' && use !== 'animal-research' ? random.next() < 0.8 : random.next() < 0.2);
    const donor = await donors.create(curator, {
      code: `CQ-COVID-${String(d).padStart(4, '0')}`,
      collectionId: collection.id,
      collectedOn,
      collectionSite: d % 4 === 0 ? 'Department of Pathology, biopsy service' : 'Department of Pathology, autopsy service',
      diagnoses: ['U07.1', random.pick(DIAGNOSES)],
      consent: { scope, givenOn: collectedOn, formVersion: d < 10 ? 'v1.0' : 'v1.1' },
    });
    donorIds.push(donor.id);
    const method = d % 4 === 0 ? 'biopsy' : 'autopsy';
    const collectedAt = `${collectedOn}T08:00:00Z`;
    for (let b = 0; b < 3; b++) {
      const specimen = await donors.addSpecimen(curator, donor.id, {
        kind: 'block', quantity: String(random.int(12, 30)), collectionMethod: method, bodySite: random.pick(BODY_SITES), collectedAt,
        fixation: 'formalin', coldIschaemiaMinutes: random.int(20, 240), storageTemperatureC: 20, sprec: `TIS-${method === 'autopsy' ? 'ARM' : 'BPS'}-A-B-FOR-S-A`, biosafetyLevel: 2,
      });
      specimens++;
      samples++;
      if (b === 0) {
        // Sections cut for H&E: subsamples that follow their block's donor and consent.
        await inventory.split(curator, specimen.sample_id, { parts: [{ quantity: '1', kind: 'slide' }, { quantity: '1', kind: 'slide' }, { quantity: '1', kind: 'slide' }], reason: 'sections for H&E review' });
        samples += 3;
      }
      pool.push(specimen.sample_id);
    }
    for (let f = 0; f < 2; f++) {
      const frozen = await donors.addSpecimen(curator, donor.id, {
        kind: 'frozen', quantity: String(random.int(2, 6)), collectionMethod: method, bodySite: random.pick(BODY_SITES), collectedAt,
        fixation: 'frozen', coldIschaemiaMinutes: random.int(20, 120), storageTemperatureC: -80, biosafetyLevel: 3,
      });
      specimens++;
      samples++;
      pool.push(frozen.sample_id);
    }
    await donors.addSpecimen(curator, donor.id, { kind: 'fluid', quantity: String(random.int(3, 8)), collectionMethod: 'lavage', bodySite: 'bronchoalveolar lavage', collectedAt, fixation: 'none', storageTemperatureC: -80, biosafetyLevel: 3 });
    specimens++;
    samples++;
  }

  progress('a call across three universities', 2, 5);
  const now = Date.now();
  const dayMs = 86_400_000;
  const call = await calls.create(chair, {
    collectionId: collection.id,
    title: 'COVID-19 pathology specimens for network research, 2020',
    description: 'Blocks and frozen tissue from the bank, for research groups of the three universities of the network. An ethics approval reference is required.',
    opensAt: new Date(now - 7 * dayMs).toISOString(),
    closesAt: new Date(now + 21 * dayMs).toISOString(),
    reviewDeadline: new Date(now + 42 * dayMs).toISOString(),
    reserveFraction: '0.5',
    blind: true,
    reviewersPerApplication: 2,
    researchDirections: ['pathogenesis of lung injury', 'multi-organ involvement', 'host genetics'],
    eligibleInstitutionIds: institutions.map((i) => i.id),
    rubric: { scaleMin: 1, scaleMax: 5, criteria: [{ key: 'merit', name: 'Scientific merit', weight: 3 }, { key: 'feasibility', name: 'Feasibility', weight: 1 }] },
    panel: panel.map((r) => r.userId!),
  });
  await calls.setPool(curator, call.id, pool);
  await calls.transition(chair, call.id, 'open');

  progress('applications', 3, 5);
  const plans = [
    { title: 'Alveolar damage patterns in fatal COVID-19', direction: 'pathogenesis of lung injury', uses: [] as string[], items: [{ kind: 'block', quantity: '20', minimum: '10' }] },
    { title: 'Viral RNA in extrapulmonary organs', direction: 'multi-organ involvement', uses: ['genetic-analysis'], items: [{ kind: 'frozen', quantity: '8', minimum: '4' }] },
    { title: 'Host genetic variants and severe disease', direction: 'host genetics', uses: ['genetic-analysis', 'data-linkage'], items: [{ kind: 'frozen', quantity: '10', minimum: '5' }, { kind: 'block', quantity: '10', minimum: '5' }] },
  ];
  const applicationIds: string[] = [];
  for (const [i, plan] of plans.entries()) {
    const actor = applicants[i]!;
    const created = await applications.create(actor, {
      callId: call.id,
      title: plan.title,
      researchDirection: plan.direction,
      methods: 'Histology, immunohistochemistry and RNA in situ hybridisation on the requested material.',
      destructive: true,
      justification: 'Autopsy material of this kind is scarce; the bank holds well-documented cases with consent for research.',
      items: plan.items,
      ethicsReference: `IRB-2020-${String(101 + i)}`,
    });
    await eligibility.setUses(actor, created.id, plan.uses);
    await applications.submit(actor, created.id);
    applicationIds.push(created.id);
  }

  progress('a donor withdraws consent', 4, 5);
  const withdrawnDonorId = donorIds[Math.min(6, donorIds.length - 1)]!;
  const withdrawal = await donors.withdraw(curator, withdrawnDonorId, 'The donor’s family asked by telephone for the material not to be used.');
  progress('done', 5, 5);

  return {
    institutions: institutions.map((i) => ({ id: i.id, code: i.code, name: i.name })),
    networkId: network.id,
    collectionId: collection.id,
    callId: call.id,
    donors: donorIds.length,
    specimens,
    samples,
    withdrawnDonorId,
    quarantined: withdrawal.quarantined.length,
    applications: applicationIds,
    accounts,
  };
}
