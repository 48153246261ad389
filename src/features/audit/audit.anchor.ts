/**
 * Anchors: the newest signed seal, with the public key that signed it, taken
 * out of the database and kept somewhere its owner cannot reach (a ticket, an
 * e-mail, a notary). Whoever rewrites the database and recomputes every hash
 * changes the seal the anchor names, and verification against the anchor
 * says so; whoever lacks the signing key cannot sign the rewritten seals.
 */
import crypto from 'node:crypto';
import type { z } from 'zod';
import { keyIdOf, sealSignatureValid } from '../../core/audit-chain.js';
import { DomainError } from '../../core/errors.js';
import { publicKeyPem, trustedKey } from './audit.keys.js';
import type { anchor as anchorSchema } from './audit.schemas.js';
import type { VerifiedAnchor } from './audit.verify.js';

export type AuditAnchor = z.infer<typeof anchorSchema>;
export const ANCHOR_FORMAT = 'samplebank-audit-anchor/1' as const;

const refuse = (field: string, message: string): DomainError => new DomainError('validation-failed', `anchor.${field}: ${message}`, { errors: [{ field: `anchor.${field}`, message }] });

export function makeAnchor(seal: { seq: string; hash: string; sealed_at: Date; key_id: string; signature: string }, publicKey: crypto.KeyObject, events: number): AuditAnchor {
  return {
    format: ANCHOR_FORMAT,
    seal: { seq: seal.seq, hash: seal.hash, sealedAt: seal.sealed_at.toISOString() },
    keyId: seal.key_id,
    signature: seal.signature,
    publicKey: publicKeyPem(publicKey),
    events,
    createdAt: new Date().toISOString(),
  };
}

/** Checks the anchor's own signature with the key it carries; answers what verification checks the trail against. */
export function checkAnchor(anchor: AuditAnchor): VerifiedAnchor {
  let publicKey: crypto.KeyObject;
  try {
    publicKey = crypto.createPublicKey(anchor.publicKey);
  } catch {
    throw refuse('publicKey', 'is not a PEM public key');
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') throw refuse('publicKey', 'is not an Ed25519 key');
  if (keyIdOf(publicKey) !== anchor.keyId) throw refuse('keyId', 'does not belong to the public key');
  if (!sealSignatureValid(publicKey, anchor.seal.hash, anchor.signature)) throw refuse('signature', 'does not match the seal hash: the anchor was altered');
  return { seq: BigInt(anchor.seal.seq), hash: anchor.seal.hash, key: trustedKey(publicKey, 'anchor') };
}
