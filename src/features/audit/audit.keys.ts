/**
 * The key that signs audit seals, kept in a file outside the database
 * (SAMPLEBANK_AUDIT_KEY_FILE, by default DATA_DIR/audit-signing-key.pem). It
 * is created on first use, readable by its owner only, with a warning to back
 * it up: whoever can rewrite the database cannot sign a seal without it, and
 * without it the seals it signed can no longer be checked (keep its public
 * key, which `samplebank audit anchor` prints, to check them anyway).
 * Creation is atomic (written aside, then hard-linked into place), so several
 * processes starting at once end up with the same key.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { keyIdOf, sealSigner, type SealSigner } from '../../core/audit-chain.js';
import type { Logger } from '../../platform/logger.js';

export interface TrustedKey {
  keyId: string;
  publicKey: crypto.KeyObject;
  /** Where it came from: the signing key, a trusted-keys file, an anchor. */
  source: string;
}

export interface AuditKeys {
  /**
   * Loads the key file, or creates it noting the newest seal at that moment:
   * the seals up to it were written before seals were signed, and only they
   * may be unsigned. That note lives outside the database, so an owner who
   * strips every signature cannot pass the trail off as one from before signing.
   */
  load(lastSealSeq: () => Promise<bigint>): Promise<void>;
  /** The signer (after load). */
  signer(): SealSigner;
  /** The newest seal written before seals were signed (0 for a trail signed from its first seal). */
  unsignedUpTo(): bigint;
  /** Public keys whose signatures verify: the signing key's and the configured trusted ones. */
  trusted(): Map<string, TrustedKey>;
  /** The signing key's public key, PEM (SPKI). */
  publicKeyPem(): string;
}

export function publicKeyPem(key: crypto.KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

export function trustedKey(publicKey: crypto.KeyObject, source: string): TrustedKey {
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error(`${source}: not an Ed25519 public key`);
  return { keyId: keyIdOf(publicKey), publicKey, source };
}

interface KeyFile {
  privateKey: crypto.KeyObject;
  unsignedUpTo: bigint;
}

const UNSIGNED_NOTE = /^Seals written before signing: up to seal (\d+)$/m;

function read(file: string): KeyFile {
  // PEM allows explanatory text before the key (RFC 7468): the note lives there.
  const text = fs.readFileSync(file, 'utf8');
  return { privateKey: crypto.createPrivateKey(text), unsignedUpTo: BigInt(UNSIGNED_NOTE.exec(text)?.[1] ?? '0') };
}

/** Reads the key file, creating it first when it does not exist. */
async function loadOrCreate(file: string, lastSealSeq: () => Promise<bigint>, logger: Logger): Promise<KeyFile> {
  try {
    return read(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`The audit signing key ${file} cannot be read: ${(error as Error).message}`);
  }
  const unsignedUpTo = await lastSealSeq();
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  const text =
    `SampleBank audit signing key, created ${new Date().toISOString()}. Keep it secret, back it up apart from the database.\n` +
    `Seals written before signing: up to seal ${unsignedUpTo}\n` +
    privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const aside = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
  fs.writeFileSync(aside, text, { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(aside, file);
    logger.warn(
      { file, keyId: keyIdOf(crypto.createPublicKey(privateKey)), unsignedUpTo: unsignedUpTo.toString() },
      'created the audit signing key: back this file up (apart from the database backups) and copy it to every server of this deployment; without it the trail cannot prove it was not rewritten',
    );
    return { privateKey, unsignedUpTo };
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return read(file);
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

export function createAuditKeys(options: { keyFile: string; trustedKeyFiles: string[]; logger: Logger }): AuditKeys {
  let loaded: KeyFile | undefined;
  let loading: Promise<KeyFile> | undefined;
  let signer: SealSigner | undefined;
  let trusted: Map<string, TrustedKey> | undefined;
  const key = (): KeyFile => {
    if (!loaded) throw new Error('the audit signing key is not loaded yet (call load first)');
    return loaded;
  };
  return {
    async load(lastSealSeq) {
      if (loaded) return;
      loading ??= loadOrCreate(options.keyFile, lastSealSeq, options.logger);
      try {
        loaded = await loading;
      } finally {
        loading = undefined;
      }
    },
    signer: () => (signer ??= sealSigner(key().privateKey)),
    unsignedUpTo: () => key().unsignedUpTo,
    publicKeyPem: () => publicKeyPem(crypto.createPublicKey(key().privateKey)),
    trusted() {
      if (trusted) return trusted;
      const own = trustedKey(crypto.createPublicKey(key().privateKey), options.keyFile);
      const all = new Map([[own.keyId, own]]);
      for (const file of options.trustedKeyFiles) {
        const extra = trustedKey(crypto.createPublicKey(fs.readFileSync(file)), file);
        all.set(extra.keyId, extra);
      }
      trusted = all;
      return all;
    },
  };
}
