import { describe, expect, it } from 'vitest';
import { canAccessUai, hasRole, type Principal } from '../../src/auth/principal.js';

const consumer: Principal = {
  clientId: 'ent',
  role: 'consumer',
  purpose: 'ent',
  uais: new Set(['0670999X']),
};
const admin: Principal = { clientId: 'op', role: 'admin', uais: 'all' };

describe('canAccessUai', () => {
  it('allows listed UAIs in any case and refuses others', () => {
    expect(canAccessUai(consumer, '0670999X')).toBe(true);
    expect(canAccessUai(consumer, ' 0670999x')).toBe(true);
    expect(canAccessUai(consumer, '0670080Y')).toBe(false);
    expect(canAccessUai(admin, '0750654D')).toBe(true);
  });
});

describe('hasRole', () => {
  it('matches the listed roles, and admin always', () => {
    expect(hasRole(consumer, 'consumer')).toBe(true);
    expect(hasRole(consumer, 'manager', 'auditor')).toBe(false);
    expect(hasRole(admin, 'editor')).toBe(true);
  });
});
