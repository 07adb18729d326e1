import { describe, expect, it } from 'vitest';
import { isSetupPath, isSetupRefusal, setupTokenOf } from './setup';

describe('the setup link', () => {
  it('reads the token from the fragment', () => {
    expect(setupTokenOf('#token=abc-DEF_123')).toBe('abc-DEF_123');
    expect(setupTokenOf('token=abc')).toBe('abc');
  });
  it('has no token without one', () => {
    expect(setupTokenOf('')).toBeNull();
    expect(setupTokenOf('#token=')).toBeNull();
    expect(setupTokenOf('#other=1')).toBeNull();
  });
  it('is the /setup page only', () => {
    expect(isSetupPath('/setup')).toBe(true);
    expect(isSetupPath('/setupx')).toBe(false);
    expect(isSetupPath('/desk')).toBe(false);
  });
  it('knows the refusals it has a message for', () => {
    expect(isSetupRefusal('SETUP_TOKEN_USED')).toBe(true);
    expect(isSetupRefusal('VALIDATION')).toBe(false);
    expect(isSetupRefusal(undefined)).toBe(false);
  });
});
