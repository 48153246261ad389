/**
 * Networks of institutions (the nine medical universities of one network):
 * members see one another's collection-level catalog and apply to one
 * another's calls. The catalog is aggregates only.
 */
import crypto from 'node:crypto';
import { hasRole, type Actor } from '../../core/actor.js';
import { DomainError, invalid, notFound } from '../../core/errors.js';
import { authorize } from '../../core/policy.js';
import { formatQuantity } from '../../core/quantity.js';
import type { DB } from '../../platform/db/database.js';
import { inTransaction, isUniqueViolation } from '../../platform/db/tx.js';
import { recordAudit } from '../audit/audit.service.js';
import { networkRepository as repo, type NetworkRow } from './network.repository.js';

export interface NetworkView {
  id: string;
  code: string;
  name: string;
  members: Array<{ id: string; code: string; name: string }>;
}

export interface CatalogEntry {
  collectionId: string;
  code: string;
  name: string;
  institution: { id: string; code: string; name: string };
  unit: string;
  humanConsent: boolean;
  biosafetyLevel: number | null;
  donors: number;
  samples: number;
  availability: { available: number; unavailable: number; withdrawn: number };
  availableQuantity: string;
  byKind: Record<string, { samples: number; available: number; availableQuantity: string }>;
  byDiagnosis: Record<string, { samples: number; donors: number; available: number }>;
  openCalls: Array<{ id: string; title: string; closesAt: string }>;
}

const seesAllNetworks = (actor: Actor): boolean => hasRole(actor, 'admin', 'auditor');

export type NetworkService = ReturnType<typeof createNetworkService>;

export function createNetworkService(db: DB) {
  async function view(network: NetworkRow): Promise<NetworkView> {
    return { id: network.id, code: network.code, name: network.name, members: await repo.members(db, network.id) };
  }

  async function checkInstitutions(ids: readonly string[]): Promise<string[]> {
    const unique = [...new Set(ids)];
    const found = await repo.institutionsExist(db, unique);
    const bad = ids.findIndex((id) => !found.has(id));
    if (bad >= 0) throw invalid(`institutionIds.${bad}`, 'no such institution');
    return unique;
  }

  /** The network, if the actor may see it (a member institution's user, or admin and auditor); 404 otherwise. */
  async function visible(actor: Actor, id: string): Promise<NetworkRow> {
    const network = await repo.find(db, id);
    const member = network && actor.institutionId !== null && (await repo.isMember(db, id, actor.institutionId));
    if (!network || (!member && !seesAllNetworks(actor))) throw notFound('The network');
    return network;
  }

  return {
    async create(actor: Actor | null, input: { code: string; name: string; institutionIds: string[] }): Promise<NetworkView> {
      authorize(actor, 'network.manage');
      const members = await checkInstitutions(input.institutionIds);
      try {
        const network = await inTransaction(db, async (tx) => {
          const row = await repo.insert(tx, { id: crypto.randomUUID(), code: input.code, name: input.name });
          await repo.setMembers(tx, row.id, members);
          await recordAudit(tx, actor, { stream: `network:${row.id}`, action: 'network.create', entityType: 'network', entityId: row.id, data: { code: row.code, members } });
          return row;
        });
        return view(network);
      } catch (error) {
        if (isUniqueViolation(error)) throw new DomainError('duplicate', `Network ${input.code} already exists`, { errors: [{ field: 'code', message: 'is already used' }] });
        throw error;
      }
    },

    async setMembers(actor: Actor | null, id: string, institutionIds: string[]): Promise<NetworkView> {
      authorize(actor, 'network.manage');
      const network = await repo.find(db, id);
      if (!network) throw notFound('The network');
      const members = await checkInstitutions(institutionIds);
      await inTransaction(db, async (tx) => {
        await repo.setMembers(tx, id, members);
        await recordAudit(tx, actor, { stream: `network:${id}`, action: 'network.members', entityType: 'network', entityId: id, data: { members } });
      });
      return view(network);
    },

    async list(actor: Actor | null): Promise<{ items: NetworkView[] }> {
      authorize(actor, 'network.catalog');
      const rows = await repo.list(db, seesAllNetworks(actor) ? null : (actor.institutionId ?? '00000000-0000-0000-0000-000000000000'));
      return { items: await Promise.all(rows.map(view)) };
    },

    async get(actor: Actor | null, id: string): Promise<NetworkView> {
      authorize(actor, 'network.catalog');
      return view(await visible(actor, id));
    },

    /** Every member's collections, as counts. */
    async catalog(actor: Actor | null, id: string): Promise<{ network: { id: string; code: string; name: string }; collections: CatalogEntry[] }> {
      authorize(actor, 'network.catalog');
      const network = await visible(actor, id);
      const collections = await repo.collections(db, id);
      const ids = collections.map((c) => c.id);
      const [counts, diagnoses, donors, calls] = await Promise.all([repo.counts(db, ids), repo.diagnoses(db, ids), repo.donorCounts(db, ids), repo.openCalls(db, ids)]);
      const entries = collections.map((c): CatalogEntry => {
        const entry: CatalogEntry = {
          collectionId: c.id,
          code: c.code,
          name: c.name,
          institution: { id: c.institution_id, code: c.institution_code, name: c.institution_name },
          unit: c.unit,
          humanConsent: c.human_consent,
          biosafetyLevel: c.biosafety_level,
          donors: donors.get(c.id) ?? 0,
          samples: 0,
          availability: { available: 0, unavailable: 0, withdrawn: 0 },
          availableQuantity: '0',
          byKind: {},
          byDiagnosis: {},
          openCalls: calls.filter((k) => k.collection_id === c.id).map((k) => ({ id: k.id, title: k.title, closesAt: new Date(k.closes_at).toISOString() })),
        };
        let availableUnits = 0n;
        const kindUnits = new Map<string, bigint>();
        for (const row of counts.filter((r) => r.collection_id === c.id)) {
          const n = Number(row.samples);
          entry.samples += n;
          entry.availability[row.availability as keyof CatalogEntry['availability']] += n;
          const kind = (entry.byKind[row.kind] ??= { samples: 0, available: 0, availableQuantity: '0' });
          kind.samples += n;
          if (row.availability === 'available') {
            kind.available += n;
            availableUnits += BigInt(row.quantity);
            kindUnits.set(row.kind, (kindUnits.get(row.kind) ?? 0n) + BigInt(row.quantity));
          }
        }
        for (const [kind, units] of kindUnits) entry.byKind[kind]!.availableQuantity = formatQuantity(units, c.scale);
        entry.availableQuantity = formatQuantity(availableUnits, c.scale);
        for (const row of diagnoses.filter((r) => r.collection_id === c.id)) {
          entry.byDiagnosis[row.code] = { samples: Number(row.samples), donors: Number(row.donors), available: Number(row.available) };
        }
        return entry;
      });
      return { network: { id: network.id, code: network.code, name: network.name }, collections: entries };
    },
  };
}
