// The first run's setup link: `/setup#token=…` (the token stays in the fragment, so it never
// reaches the server's access logs or a proxy).

/** The token of a setup link's fragment (`#token=…`), or null. */
export function setupTokenOf(hash: string): string | null {
  const token = new URLSearchParams(hash.replace(/^#/, '')).get('token');
  return token && token.trim() !== '' ? token.trim() : null;
}

/** Whether `path` is the setup page. */
export function isSetupPath(path: string): boolean {
  return path === '/setup' || path.startsWith('/setup/');
}

/** The server's refusals of a setup link (`extensions.code`), each with its message. */
export const SETUP_REFUSALS = [
  'SETUP_TOKEN_INVALID',
  'SETUP_TOKEN_USED',
  'SETUP_TOKEN_EXPIRED',
  'ADMIN_EXISTS',
  'RATE_LIMITED',
] as const;

export function isSetupRefusal(code: string | undefined): code is (typeof SETUP_REFUSALS)[number] {
  return (SETUP_REFUSALS as readonly (string | undefined)[]).includes(code);
}
