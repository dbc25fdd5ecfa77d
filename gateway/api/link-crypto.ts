/**
 * The link's keys: each side (gateway, bridge) holds an Ed25519 pair to sign and an X25519 pair to seal.
 * Enrollment exchanges the public halves and both sides pin them. Sealing uses libsodium's key exchange
 * (X25519 + BLAKE2b) once per pair of keys, then XChaCha20-Poly1305 per message, with a separate key for
 * each direction — so a broker in between can neither read nor alter what crosses.
 */
import sodium from 'sodium-native';
import { PlantgateError } from '../../drivers/core/index.ts';
import { aeadOpen, aeadSeal } from './aead.ts';

const SESSION_KEY = sodium.crypto_kx_SESSIONKEYBYTES;
export const SIGNATURE_BYTES = sodium.crypto_sign_BYTES;

export interface LinkKeyPair {
  signPublic: Buffer;
  signSecret: Buffer;
  boxPublic: Buffer;
  boxSecret: Buffer;
}

/** The public halves, as they travel during enrollment (base64url). */
export interface LinkPublicKeys {
  signPublicKey: string;
  boxPublicKey: string;
}

export interface PinnedKeys {
  sign: Buffer;
  box: Buffer;
}

export function generateLinkKeys(): LinkKeyPair {
  const signPublic = Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES);
  const signSecret = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES);
  sodium.crypto_sign_keypair(signPublic, signSecret);
  const boxPublic = Buffer.alloc(sodium.crypto_kx_PUBLICKEYBYTES);
  const boxSecret = Buffer.alloc(sodium.crypto_kx_SECRETKEYBYTES);
  sodium.crypto_kx_keypair(boxPublic, boxSecret);
  return { signPublic, signSecret, boxPublic, boxSecret };
}

export function publicKeysOf(keys: LinkKeyPair): LinkPublicKeys {
  return {
    signPublicKey: keys.signPublic.toString('base64url'),
    boxPublicKey: keys.boxPublic.toString('base64url'),
  };
}

/** Decodes public keys received from the other side; throws naming the bad one. */
export function decodePublicKeys(keys: LinkPublicKeys): PinnedKeys {
  const decode = (name: keyof LinkPublicKeys, bytes: number) => {
    const value = typeof keys?.[name] === 'string' ? Buffer.from(keys[name], 'base64url') : Buffer.alloc(0);
    if (value.length !== bytes)
      throw new PlantgateError('PG_ERR_BAD_REQUEST', `${name} must be ${bytes} bytes, base64url`);
    return value;
  };
  return {
    sign: decode('signPublicKey', sodium.crypto_sign_PUBLICKEYBYTES),
    box: decode('boxPublicKey', sodium.crypto_kx_PUBLICKEYBYTES),
  };
}

/** Key pairs as stored in a key file (base64url of all four parts). */
export function encodeKeyPair(keys: LinkKeyPair): Record<keyof LinkKeyPair, string> {
  return {
    signPublic: keys.signPublic.toString('base64url'),
    signSecret: keys.signSecret.toString('base64url'),
    boxPublic: keys.boxPublic.toString('base64url'),
    boxSecret: keys.boxSecret.toString('base64url'),
  };
}

export function decodeKeyPair(stored: Record<keyof LinkKeyPair, string>): LinkKeyPair {
  const keys = {
    signPublic: Buffer.from(stored.signPublic, 'base64url'),
    signSecret: Buffer.from(stored.signSecret, 'base64url'),
    boxPublic: Buffer.from(stored.boxPublic, 'base64url'),
    boxSecret: Buffer.from(stored.boxSecret, 'base64url'),
  };
  if (
    keys.signPublic.length !== sodium.crypto_sign_PUBLICKEYBYTES ||
    keys.signSecret.length !== sodium.crypto_sign_SECRETKEYBYTES ||
    keys.boxPublic.length !== sodium.crypto_kx_PUBLICKEYBYTES ||
    keys.boxSecret.length !== sodium.crypto_kx_SECRETKEYBYTES
  )
    throw new Error('the stored link keys are damaged (wrong lengths)');
  return keys;
}

export function signDetached(message: Buffer, secret: Buffer): Buffer {
  const signature = Buffer.alloc(SIGNATURE_BYTES);
  sodium.crypto_sign_detached(signature, message, secret);
  return signature;
}

export function verifyDetached(signature: Buffer, message: Buffer, publicKey: Buffer): boolean {
  if (signature.length !== SIGNATURE_BYTES) return false;
  return sodium.crypto_sign_verify_detached(signature, message, publicKey);
}

/** Sealing between one gateway and one bridge: a key for what this side sends, one for what it receives. */
export class LinkSession {
  private readonly receiveKey: Buffer;
  private readonly sendKey: Buffer;

  private constructor(receiveKey: Buffer, sendKey: Buffer) {
    this.receiveKey = receiveKey;
    this.sendKey = sendKey;
  }

  /** The gateway's side (the key exchange's client). */
  static forGateway(gateway: LinkKeyPair, bridgeBoxPublic: Buffer): LinkSession {
    const rx = Buffer.alloc(SESSION_KEY);
    const tx = Buffer.alloc(SESSION_KEY);
    sodium.crypto_kx_client_session_keys(rx, tx, gateway.boxPublic, gateway.boxSecret, bridgeBoxPublic);
    return new LinkSession(rx, tx);
  }

  /** The bridge's side (the key exchange's server). */
  static forBridge(bridge: LinkKeyPair, gatewayBoxPublic: Buffer): LinkSession {
    const rx = Buffer.alloc(SESSION_KEY);
    const tx = Buffer.alloc(SESSION_KEY);
    sodium.crypto_kx_server_session_keys(rx, tx, bridge.boxPublic, bridge.boxSecret, gatewayBoxPublic);
    return new LinkSession(rx, tx);
  }

  seal(plaintext: Buffer | readonly Buffer[], associatedData: Buffer): Buffer {
    return aeadSeal(this.sendKey, plaintext, associatedData);
  }

  /** The plaintext, or undefined when the message was not sealed by the other side for this purpose. */
  open(sealed: Buffer, associatedData: Buffer): Buffer | undefined {
    return aeadOpen(this.receiveKey, sealed, associatedData);
  }
}
