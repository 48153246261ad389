/**
 * The audit hash chain, as pure functions. An event's hash covers its content
 * and the previous event's hash in the same stream, so editing, deleting or
 * reordering any event breaks every hash after it.
 */
import crypto from 'node:crypto';

export const GENESIS = '0'.repeat(64);

export interface ChainedEvent {
  id: string;
  stream: string;
  seq: bigint;
  occurredAt: string;
  actorId: string | null;
  action: string;
  entityType: string;
  entityId: string | null;
  data: unknown;
  requestId: string | null;
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function eventHash(prevHash: string, event: ChainedEvent): string {
  const body = canonicalJson({
    id: event.id,
    stream: event.stream,
    seq: event.seq.toString(),
    occurredAt: event.occurredAt,
    actorId: event.actorId,
    action: event.action,
    entityType: event.entityType,
    entityId: event.entityId,
    data: event.data,
    requestId: event.requestId,
  });
  return crypto.createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

export function sealHash(prevHash: string, seq: bigint, sealedAt: string, heads: Record<string, { seq: string; hash: string }>): string {
  return crypto
    .createHash('sha256')
    .update(prevHash)
    .update('\n')
    .update(canonicalJson({ seq: seq.toString(), sealedAt, heads }))
    .digest('hex');
}

/** What the data looks like after a round trip through jsonb, so the hash written equals the hash recomputed (Dates become strings, undefined members vanish). */
export function chainData(data: Record<string, unknown> | undefined): Record<string, unknown> {
  return JSON.parse(JSON.stringify(data ?? {})) as Record<string, unknown>;
}

export type SealHeads = Record<string, { seq: string; hash: string }>;

/** Where a stream's walk stands: the next seq expected and the hash it must link to. */
export interface StreamCursor {
  stream: string;
  nextSeq: bigint;
  prevHash: string;
  /** The time of the event before (ISO 8601): time never goes backwards within a stream. */
  prevAt?: string;
}

export interface StoredEvent extends ChainedEvent {
  prevHash: string;
  hash: string;
}

export type LinkProblem =
  | { kind: 'missing'; seq: bigint; reason: string }
  | { kind: 'event'; seq: bigint; reason: string };

export function startStream(stream: string): StreamCursor {
  return { stream, nextSeq: 1n, prevHash: GENESIS };
}

/**
 * Checks one stored event against the walk so far (events must arrive in seq
 * order): the seq is the next one, it links to the previous hash, and its
 * content still hashes to what was stored. Returns the first problem, if any.
 */
export function checkLink(cursor: StreamCursor, event: StoredEvent): LinkProblem | null {
  if (event.seq !== cursor.nextSeq) {
    return { kind: 'missing', seq: cursor.nextSeq, reason: `event ${cursor.nextSeq} of the stream is missing (the next stored is ${event.seq})` };
  }
  if (event.prevHash !== cursor.prevHash) {
    return { kind: 'event', seq: event.seq, reason: 'does not link to the event before it (an event was deleted, inserted or reordered)' };
  }
  if (eventHash(cursor.prevHash, event) !== event.hash) {
    return { kind: 'event', seq: event.seq, reason: 'its content no longer matches its hash (the event was edited)' };
  }
  if (cursor.prevAt !== undefined && Date.parse(event.occurredAt) < Date.parse(cursor.prevAt)) {
    return { kind: 'event', seq: event.seq, reason: `it is dated ${event.occurredAt}, before the event it follows (${cursor.prevAt}): it was backdated` };
  }
  return null;
}

export function advance(cursor: StreamCursor, event: StoredEvent): StreamCursor {
  return { stream: cursor.stream, nextSeq: event.seq + 1n, prevHash: event.hash, prevAt: event.occurredAt };
}

/** Who signs seals: the key's id (a fingerprint of its public key) and the signature of a seal's hash. */
export interface SealSigner {
  keyId: string;
  sign(sealHash: string): string;
}

/** The first 16 hex digits of the SHA-256 of the public key (SPKI, DER): short, stable, and names the key in every seal. */
export function keyIdOf(publicKey: crypto.KeyObject): string {
  return crypto.createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

export function sealSigner(privateKey: crypto.KeyObject): SealSigner {
  const keyId = keyIdOf(crypto.createPublicKey(privateKey));
  return { keyId, sign: (hash) => crypto.sign(null, Buffer.from(hash, 'hex'), privateKey).toString('base64') };
}

/** Whether `signature` (base64) is the key's Ed25519 signature of the seal hash. */
export function sealSignatureValid(publicKey: crypto.KeyObject, sealHash: string, signature: string): boolean {
  try {
    return crypto.verify(null, Buffer.from(sealHash, 'hex'), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
