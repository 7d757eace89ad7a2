// Test helper: bytes from an annotated hex listing ("00 01   # field" lines; '#' starts a comment).
export function hex(listing: string): Buffer {
  const digits = listing.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(digits)) throw new Error(`bad hex listing: ${digits}`);
  return Buffer.from(digits, 'hex');
}
