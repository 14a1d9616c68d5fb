import { describe, expect, it } from 'vitest';
import { hashSecret, hashToken, verifySecretAsync } from '../../src/auth/secrets.js';

describe('verifySecretAsync', () => {
  it('agrees with the stored scrypt and sha256 hashes', async () => {
    const stored = hashSecret('s3cret');
    expect(await verifySecretAsync('s3cret', stored)).toBe(true);
    expect(await verifySecretAsync('s3cret ', stored)).toBe(false);
    expect(await verifySecretAsync('se_tok', hashToken('se_tok'))).toBe(true);
    expect(await verifySecretAsync('se_tok', hashToken('se_other'))).toBe(false);
    expect(await verifySecretAsync('s3cret', 'scrypt$16384$8$1$bad')).toBe(false);
    expect(await verifySecretAsync('s3cret', 's3cret')).toBe(false);
  });
});
