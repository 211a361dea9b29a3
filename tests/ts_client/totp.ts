// RFC 6238 with the contract's numbers (SHA-1, 6 digits, 30-second steps), for the
// client programs' second factor.
import { createHmac } from "node:crypto";

export function fail(message: string): never {
  throw new Error(message);
}

function base32(text: string): Buffer {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of text.replace(/=+$/, "").toUpperCase()) {
    const value = alphabet.indexOf(char);
    if (value < 0) fail(`not base32: ${char}`);
    bits += value.toString(2).padStart(5, "0");
  }
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

export function totp(secret: string, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", base32(secret)).update(counter).digest();
  const offset = (mac[mac.length - 1] ?? fail("empty HMAC")) & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return code.toString().padStart(6, "0");
}

export function currentStep(): number {
  return Math.floor(Date.now() / 30_000);
}

// A code no step near now accepts: the previous, current and next steps' codes excluded.
export function wrongCode(secret: string): string {
  const near = new Set([-1, 0, 1, 2].map((d) => totp(secret, currentStep() + d)));
  for (let n = 0; ; n += 1) {
    const candidate = n.toString().padStart(6, "0");
    if (!near.has(candidate)) return candidate;
  }
}
