// A small i18n: two dictionaries, `{name}` placeholders, the choice kept in localStorage.
import { createContext, useContext } from 'react';
import { en, fr, type MessageKey } from './messages';

export type Language = 'en' | 'fr';
export const LANGUAGES: readonly Language[] = ['en', 'fr'];
const DICTIONARIES: Record<Language, Record<MessageKey, string>> = { en, fr };

export function translate(
  language: Language,
  key: MessageKey,
  params: Record<string, string | number> = {},
): string {
  // A key built at run time from server data (a status) may be unknown: show the key.
  const template = DICTIONARIES[language][key] ?? String(key);
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** The language to start with: the saved choice, else the browser's, else English. */
export function initialLanguage(saved: string | null, browser: readonly string[]): Language {
  if (saved === 'en' || saved === 'fr') return saved;
  for (const tag of browser) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'fr' || base === 'en') return base;
  }
  return 'en';
}

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

export interface I18n {
  language: Language;
  setLanguage: (language: Language) => void;
  t: Translate;
}

export const I18nContext = createContext<I18n>({
  language: 'en',
  setLanguage: () => undefined,
  t: (key, params) => translate('en', key, params),
});

export function useI18n(): I18n {
  return useContext(I18nContext);
}
