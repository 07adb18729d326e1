import { describe, expect, it } from 'vitest';
import { snippets, splitList } from './admin';

describe('splitList', () => {
  it('splits on commas, semicolons and lines, dropping blanks', () => {
    expect(splitList(' +33 1 23, 0612;\n\n a@b.c ,')).toEqual(['+33 1 23', '0612', 'a@b.c']);
  });
});

describe('snippets', () => {
  it('pings the server the app came from with the token', () => {
    const { curl, restic } = snippets('https://save.example/', 'tok123');
    expect(curl).toBe('curl -fsS -m 10 --retry 5 -X POST https://save.example/ping/tok123');
    expect(restic).toContain('"https://save.example/ping/tok123/start?rid=$RUN"');
    expect(restic).toContain('restic backup /data --json | curl -fsS --data-binary @- "https://save.example/ping/tok123?rid=$RUN"');
    expect(restic).toContain('/ping/tok123/fail?rid=$RUN');
  });
});
