/**
 * Verification walks every stream's chain in pages (never the whole log in
 * memory), checks the seal chain, and checks every head a seal or the stream
 * table vouches for against the events.
 *
 * "First bad" is defined as: within a stream, the lowest seq at fault; across
 * streams, the finding whose time is earliest (then the stream name). A
 * finding's time is its event's occurred_at; for a missing event, the
 * occurred_at of the next event that survived, or else the time of the seal
 * that listed it. A break in the seal chain itself is reported with stream
 * "#seals" and the seal's seq, at the seal's time.
 */
import { advance, checkLink, GENESIS, sealHash, sealSignatureValid, startStream, type StreamCursor } from '../../core/audit-chain.js';
import type { DB } from '../../platform/db/database.js';
import type { TrustedKey } from './audit.keys.js';
import { auditRepository, type AuditEventRow, type HeadMismatchRow, type SealRow } from './audit.repository.js';

export const SEAL_STREAM = '#seals';
const EVENTS_PAGE = 1000;
const SEALS_PAGE = 50;

export interface BadEvent {
  eventId: string | null;
  stream: string;
  seq: number;
  reason: string;
}

export interface Verification {
  ok: boolean;
  events: number;
  /** The hash of the latest seal: the one value to keep elsewhere to pin the whole history. */
  head: string;
  seals: number;
  /** Seals signed by a trusted key, and those written before seals were signed (only ever before the first signed one). */
  signatures?: { signed: number; unsigned: number; keys: string[] };
  /** The anchor checked against: the seal it names, and whether the trail still holds exactly that seal. */
  anchor?: { seq: number; ok: boolean };
  firstBad?: BadEvent;
}

/** What `samplebank audit anchor` prints: a signed seal to keep outside the database. */
export interface VerifiedAnchor {
  seq: bigint;
  hash: string;
  key: TrustedKey;
}

interface Finding {
  eventId: string | null;
  stream: string;
  seq: bigint;
  reason: string;
  at: Date;
}

export interface VerifyOptions {
  /** Rows per page; small pages only in tests. */
  eventsPage?: number;
  sealsPage?: number;
  /** Check every seal's signature against these keys (without them, signatures are not checked). */
  keys?: Map<string, TrustedKey> | undefined;
  /** With keys: the newest seal written before seals were signed (the key file's note); every later seal must be signed. */
  unsignedUpTo?: bigint | undefined;
  /** An anchor whose own signature was checked: the trail must still hold its seal, unchanged. */
  anchor?: VerifiedAnchor | undefined;
}

export async function verifyAudit(db: DB, options: VerifyOptions = {}): Promise<Verification> {
  const keys = options.keys && options.anchor ? new Map([...options.keys, [options.anchor.key.keyId, options.anchor.key]]) : options.keys;
  const seals = await verifySeals(db, options.sealsPage ?? SEALS_PAGE, keys ? { keys, unsignedUpTo: options.unsignedUpTo ?? 0n } : undefined, options.anchor);
  const findings = new Map<string, Finding>();
  const keep = (finding: Finding): void => {
    const known = findings.get(finding.stream);
    if (!known || finding.seq < known.seq) findings.set(finding.stream, finding);
  };
  // Heads first, events after: events only ever get added, so whatever a head vouched for must still be there.
  for (const row of await auditRepository.sealMismatches(db, seals.count)) keep(headFinding(row, 'seal'));
  for (const row of await auditRepository.headMismatches(db)) keep(headFinding(row, 'head'));
  const events = await walkEvents(db, keep, options.eventsPage ?? EVENTS_PAGE);
  const all = [...findings.values(), ...(seals.finding ? [seals.finding] : [])];
  const first = all.sort((a, b) => a.at.getTime() - b.at.getTime() || (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0))[0];
  return {
    ok: !first,
    events,
    head: seals.head,
    seals: Number(seals.count),
    ...(keys ? { signatures: { signed: seals.signed, unsigned: seals.unsigned, keys: [...seals.keyIds] } } : {}),
    ...(options.anchor ? { anchor: { seq: Number(options.anchor.seq), ok: seals.anchorOk } } : {}),
    ...(first ? { firstBad: { eventId: first.eventId, stream: first.stream, seq: Number(first.seq), reason: first.reason } } : {}),
  };
}

interface SealWalk {
  count: bigint;
  head: string;
  signed: number;
  unsigned: number;
  keyIds: Set<string>;
  anchorOk: boolean;
  finding?: Finding;
}

interface Signing {
  keys: Map<string, TrustedKey>;
  unsignedUpTo: bigint;
}

async function verifySeals(db: DB, pageSize: number, signing: Signing | undefined, anchor: VerifiedAnchor | undefined): Promise<SealWalk> {
  const last = await auditRepository.lastSeal(db);
  const upTo = BigInt(last?.seq ?? 0);
  const walk: SealWalk = { count: upTo, head: last?.hash ?? GENESIS, signed: 0, unsigned: 0, keyIds: new Set(), anchorOk: false };
  const fail = (seq: bigint, reason: string, at: Date): SealWalk => ({ ...walk, finding: { eventId: null, stream: SEAL_STREAM, seq, reason, at } });
  let expected = 1n;
  let prevHash = GENESIS;
  let firstSigned: bigint | null = null;
  for (;;) {
    const page = await auditRepository.sealsPage(db, expected - 1n, upTo, pageSize);
    for (const seal of page) {
      const seq = BigInt(seal.seq);
      const fault =
        seq !== expected
          ? `seal ${expected} is missing`
          : seal.prev_hash !== prevHash
            ? 'does not link to the seal before it'
            : sealHash(prevHash, seq, seal.sealed_at.toISOString(), seal.heads) !== seal.hash
              ? 'its content no longer matches its hash (the seal was edited)'
              : signing
                ? signatureFault(seal, signing, firstSigned)
                : null;
      if (fault) return fail(expected, fault, seal.sealed_at);
      if (anchor && seq === anchor.seq) {
        if (seal.hash !== anchor.hash) return fail(seq, `differs from the anchor kept outside the database: the trail up to seal ${seq} was rewritten`, seal.sealed_at);
        walk.anchorOk = true;
      }
      if (seal.signature) {
        walk.signed++;
        walk.keyIds.add(seal.key_id!);
        firstSigned ??= seq;
      } else {
        walk.unsigned++;
      }
      expected = seq + 1n;
      prevHash = seal.hash;
    }
    if (page.length < pageSize) break;
  }
  if (expected - 1n !== upTo) return fail(expected, `seal ${expected} is missing`, new Date());
  if (anchor && upTo < anchor.seq) return fail(anchor.seq, `seal ${anchor.seq}, which the anchor kept outside the database names, is missing: the trail was cut short`, new Date());
  return walk;
}

/** Signed by a key this server trusts, with a signature that matches; unsigned only when written before seals were signed. */
function signatureFault(seal: SealRow, signing: Signing, firstSigned: bigint | null): string | null {
  if (!seal.signature || !seal.key_id) {
    if (firstSigned !== null) return `is not signed, although seal ${firstSigned} before it is (a signature was removed)`;
    if (BigInt(seal.seq) > signing.unsignedUpTo) return `is not signed, but every seal after seal ${signing.unsignedUpTo} is signed when written (the signing key says so): its signature was removed`;
    return null;
  }
  const key = signing.keys.get(seal.key_id);
  if (!key) return `is signed by key ${seal.key_id}, which this server does not trust (a forged seal, or add that key's public key to SAMPLEBANK_AUDIT_TRUSTED_KEYS)`;
  if (!sealSignatureValid(key.publicKey, seal.hash, seal.signature)) return 'its signature does not match its content (the seal was forged or edited)';
  return null;
}

function headFinding(row: HeadMismatchRow, by: 'seal' | 'head'): Finding {
  const who = by === 'seal' ? `seal ${row.seal_seq}` : 'the stream head';
  return {
    eventId: row.event_id,
    stream: row.stream,
    seq: BigInt(row.seq),
    reason: row.event_id ? `its hash differs from the one ${who} recorded (the stream was rewritten)` : `${who} records this event but it is missing (deleted)`,
    at: row.occurred_at ?? row.sealed_at ?? new Date(),
  };
}

/** Walks all events in (stream, seq) order, one page at a time; answers how many it read. */
async function walkEvents(db: DB, keep: (finding: Finding) => void, pageSize: number): Promise<number> {
  let count = 0;
  let cursor: StreamCursor | null = null;
  let broken = false;
  let after: { stream: string; seq: bigint } | null = null;
  for (;;) {
    const page: AuditEventRow[] = await auditRepository.eventsPage(db, after, pageSize);
    for (const row of page) {
      count++;
      if (cursor?.stream !== row.stream) {
        cursor = startStream(row.stream);
        broken = false;
      }
      if (broken) continue;
      const event = toStored(row);
      const problem = checkLink(cursor, event);
      if (problem) {
        broken = true;
        keep({ eventId: problem.kind === 'event' ? row.id : null, stream: row.stream, seq: problem.seq, reason: problem.reason, at: row.occurred_at });
        continue;
      }
      cursor = advance(cursor, event);
    }
    const last = page.at(-1);
    if (!last || page.length < pageSize) return count;
    after = { stream: last.stream, seq: BigInt(last.seq) };
  }
}

/** A stored row in the shape the chain hashes (core/audit-chain.ts). */
export function toStored(row: AuditEventRow) {
  return {
    id: row.id,
    stream: row.stream,
    seq: BigInt(row.seq),
    occurredAt: row.occurred_at.toISOString(),
    actorId: row.actor_id,
    action: row.action,
    entityType: row.entity_type,
    entityId: row.entity_id,
    data: row.data,
    requestId: row.request_id,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
