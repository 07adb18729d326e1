import { describe, expect, it } from 'vitest';
import { backupTrouble, sortBoard } from './backups';

describe('sortBoard', () => {
  it('puts what needs attention first, then by name', () => {
    const rows = [
      { name: 'b', status: 'up' },
      { name: 'z', status: 'down' },
      { name: 'a', status: 'up' },
      { name: 'c', status: 'unmonitored' },
      { name: 'd', status: 'grace' },
      { name: 'e', status: 'something new' },
    ];
    expect(sortBoard(rows).map((row) => row.name)).toEqual(['z', 'd', 'a', 'b', 'c', 'e']);
  });
});

describe('backupTrouble', () => {
  it('names a failure first, then an overdue run, else nothing', () => {
    expect(backupTrouble({ failingSince: 'f', overdueSince: 'o' })).toEqual({ kind: 'failing', since: 'f' });
    expect(backupTrouble({ failingSince: null, overdueSince: 'o' })).toEqual({ kind: 'overdue', since: 'o' });
    expect(backupTrouble({})).toBeNull();
  });
});
