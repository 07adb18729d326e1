// The profile screen's checks, before the server's own: the avatar address (as the server
// accepts it: https, http only for localhost), the new password typed twice, and what changed.

/** Whether an avatar address would be accepted: empty (none), https, or http on localhost. */
export function avatarAcceptable(url: string): boolean {
  const text = url.trim();
  if (text === '') return true;
  if (text.length > 2000) return false;
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return false;
  }
  if (parsed.protocol === 'https:') return true;
  return parsed.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(parsed.hostname);
}

/** The `updateMyProfile` input: only what changed (null: nothing to send). */
export function profileChanges(
  current: { name: string; avatarUrl?: string | null },
  form: { name: string; avatarUrl: string },
): { name?: string; avatarUrl?: string | null } | null {
  const changes: { name?: string; avatarUrl?: string | null } = {};
  const name = form.name.trim();
  const avatar = form.avatarUrl.trim() === '' ? null : form.avatarUrl.trim();
  if (name !== current.name) changes.name = name;
  if (avatar !== (current.avatarUrl ?? null)) changes.avatarUrl = avatar;
  return Object.keys(changes).length > 0 ? changes : null;
}
