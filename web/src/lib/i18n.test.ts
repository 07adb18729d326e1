import { describe, expect, it } from 'vitest';
import { initialLanguage, translate } from './i18n';
import { en, fr } from './messages';

describe('translate', () => {
  it('fills placeholders', () => {
    expect(translate('en', 'offer.ringing', { seconds: 12 })).toBe('Ringing: 12 s left');
    expect(translate('fr', 'offer.ringing', { seconds: 12 })).toBe('Sonnerie : encore 12 s');
  });
  it('shows an unknown key (built from server data) as is', () => {
    expect(translate('en', 'backup.someday' as never)).toBe('backup.someday');
  });
  it('leaves an unknown placeholder visible', () => {
    expect(translate('en', 'presence.since')).toBe('for {duration}');
  });
});

describe('dictionaries', () => {
  it('French has every English key and the same placeholders', () => {
    expect(Object.keys(fr).sort()).toEqual(Object.keys(en).sort());
    const placeholders = (text: string) => (text.match(/\{\w+\}/g) ?? []).sort();
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(placeholders(fr[key]), key).toEqual(placeholders(en[key]));
    }
  });
});

describe('initialLanguage', () => {
  it('prefers the saved choice, then the browser, then English', () => {
    expect(initialLanguage('fr', ['en-US'])).toBe('fr');
    expect(initialLanguage(null, ['fr-CA', 'en'])).toBe('fr');
    expect(initialLanguage('de', ['de-DE'])).toBe('en');
  });
});
