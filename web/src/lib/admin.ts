// Pure helpers of the admin screens.

/** A comma-, semicolon- or newline-separated list, trimmed, without empty items. */
export function splitList(text: string): string[] {
  return text
    .split(/[,;\n]/)
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** The copy-paste snippets a backup client runs with its ingest token (see README, backups). */
export function snippets(origin: string, token: string): { curl: string; restic: string } {
  const base = `${origin.replace(/\/$/, '')}/ping/${token}`;
  return {
    curl: `curl -fsS -m 10 --retry 5 -X POST ${base}`,
    restic: [
      'RUN=$(cat /proc/sys/kernel/random/uuid)',
      `curl -fsS -X POST "${base}/start?rid=$RUN"`,
      `restic backup /data --json | curl -fsS --data-binary @- "${base}?rid=$RUN" \\`,
      `  || curl -fsS -X POST "${base}/fail?rid=$RUN"`,
    ].join('\n'),
  };
}
