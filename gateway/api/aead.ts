/**
 * XChaCha20-Poly1305 (libsodium, through sodium-native) with a random nonce in front of the ciphertext:
 * the one authenticated cipher of plantgate, for sealed config secrets and for the link.
 */
import sodium from 'sodium-native';

const NONCE = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
const TAG = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES;
export const AEAD_KEY_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_KEYBYTES;

/** nonce ‖ ciphertext ‖ tag */
export function aeadSeal(key: Buffer, plaintext: Buffer, associatedData: Buffer): Buffer {
  const out = Buffer.alloc(NONCE + plaintext.length + TAG);
  const nonce = out.subarray(0, NONCE);
  sodium.randombytes_buf(nonce);
  sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
    out.subarray(NONCE),
    plaintext,
    associatedData,
    null,
    nonce,
    key,
  );
  return out;
}

/** The plaintext, or undefined when `sealed` was not sealed with this key and associated data. */
export function aeadOpen(key: Buffer, sealed: Buffer, associatedData: Buffer): Buffer | undefined {
  if (sealed.length < NONCE + TAG) return undefined;
  const out = Buffer.alloc(sealed.length - NONCE - TAG);
  try {
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      out,
      null,
      sealed.subarray(NONCE),
      associatedData,
      sealed.subarray(0, NONCE),
      key,
    );
    return out;
  } catch {
    return undefined;
  }
}
