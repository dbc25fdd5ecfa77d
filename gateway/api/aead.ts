/**
 * XChaCha20-Poly1305 (libsodium, through sodium-native) with a random nonce in front of the ciphertext:
 * the one authenticated cipher of plantgate, for sealed config secrets and for the link.
 */
import sodium from 'sodium-native';

const NONCE = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
const TAG = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES;
export const AEAD_KEY_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_KEYBYTES;

/**
 * nonce ‖ ciphertext ‖ tag. Several pieces are sealed as one plaintext: they are copied once, into the
 * output, and encrypted there in place (libsodium allows the ciphertext over the message), rather than
 * joined first and encrypted into a second buffer. The output is not zero-filled: all of it is written.
 */
export function aeadSeal(key: Buffer, plaintext: Buffer | readonly Buffer[], associatedData: Buffer): Buffer {
  const pieces = Buffer.isBuffer(plaintext) ? [plaintext] : plaintext;
  const length = pieces.reduce((n, p) => n + p.length, 0);
  const out = Buffer.allocUnsafe(NONCE + length + TAG);
  const nonce = out.subarray(0, NONCE);
  sodium.randombytes_buf(nonce);
  let message: Buffer;
  if (pieces.length === 1) message = pieces[0] as Buffer;
  else {
    let at = NONCE;
    for (const piece of pieces) at += piece.copy(out, at);
    message = out.subarray(NONCE, NONCE + length);
  }
  sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
    out.subarray(NONCE),
    message,
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
  // Not zero-filled: decryption writes all of it, and a failed one is dropped.
  const out = Buffer.allocUnsafe(sealed.length - NONCE - TAG);
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
