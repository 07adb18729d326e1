import { describe, expect, it } from 'vitest';
import { avatarAcceptable, profileChanges } from './profile';

describe('avatarAcceptable', () => {
  it('takes https, http on localhost only, and nothing', () => {
    expect(avatarAcceptable('https://example.com/me.png')).toBe(true);
    expect(avatarAcceptable('')).toBe(true);
    expect(avatarAcceptable('http://localhost:8080/me.png')).toBe(true);
    expect(avatarAcceptable('http://example.com/me.png')).toBe(false);
    expect(avatarAcceptable('javascript:alert(1)')).toBe(false);
    expect(avatarAcceptable('not a url')).toBe(false);
    expect(avatarAcceptable(`https://example.com/${'a'.repeat(2000)}`)).toBe(false);
  });
});

describe('profileChanges', () => {
  it('sends only what changed, an emptied avatar as null', () => {
    const me = { name: 'Ann', avatarUrl: 'https://a/x.png' };
    expect(profileChanges(me, { name: ' Ann ', avatarUrl: 'https://a/x.png' })).toBeNull();
    expect(profileChanges(me, { name: 'Anne', avatarUrl: 'https://a/x.png' })).toEqual({ name: 'Anne' });
    expect(profileChanges(me, { name: 'Ann', avatarUrl: '' })).toEqual({ avatarUrl: null });
    expect(profileChanges({ name: 'Bo', avatarUrl: null }, { name: 'Bo', avatarUrl: 'https://b' })).toEqual({
      avatarUrl: 'https://b',
    });
  });
});
