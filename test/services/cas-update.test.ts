import { expect } from 'chai';
import { casUpdate } from '../../lib/services/cas-update.js';
import type { KvCputResult, KvTable } from '../../lib/services/kv-table.js';

/**
 * One counter cell with compare-and-put, and a rival writer: the pattern of many uploads
 * charging one quota cell. `rival` decides, per refused CPUT, whether the rival writes again at
 * once (so the value the refusal returned is already old when the updater next looks at it).
 */
class ContendedCell implements KvTable {
  value: Buffer = Buffer.from('0');
  refusals = 0;
  constructor(private readonly rival: { afterRefusal: boolean; beforeEveryCput: boolean }) {}

  async get(): Promise<Buffer | null> {
    return this.value;
  }
  async put(_r: string, _c: string, value: Buffer): Promise<void> {
    this.value = value;
  }
  async cput(_r: string, _c: string, expected: Buffer | null, value: Buffer): Promise<KvCputResult> {
    if (this.rival.beforeEveryCput) this.bump();
    if (expected === null || !this.value.equals(expected)) {
      this.refusals++;
      const current = this.value;
      if (this.rival.afterRefusal) this.bump();
      return { ok: false, current };
    }
    this.value = value;
    return { ok: true };
  }
  async delete(): Promise<boolean> {
    return true;
  }
  async listColumns(): Promise<{ columns: []; more: false }> {
    return { columns: [], more: false };
  }
  bump(): void {
    this.value = Buffer.from(String(Number(this.value.toString()) + 1));
  }
}

const addThousand = (current: Buffer | null): { next: Buffer; result: undefined } =>
  ({ next: Buffer.from(String(Number(current!.toString()) + 1000)), result: undefined });

describe('services: compare-and-put updates', () => {
  it('reads the cell again after a pause, so a refusal\'s value going stale cannot make every round lose (bug: stale compare)', async () => {
    const cell = new ContendedCell({ afterRefusal: true, beforeEveryCput: false });
    cell.bump(); // the updater's first read will be stale by its first CPUT
    const done = casUpdate(cell, 'r', 'c', addThousand);
    cell.bump();
    await done;
    // Every rival write is kept and the update landed once, on top of them.
    expect(Number(cell.value.toString()) % 1000).to.equal(cell.refusals + 2);
    expect(Number(cell.value.toString())).to.be.greaterThan(1000);
    expect(cell.refusals).to.be.lessThan(5);
  });

  it('gives up with UNAVAILABLE (reason CONTENTION) when the cell never holds still', async function () {
    this.timeout(30_000);
    const cell = new ContendedCell({ afterRefusal: false, beforeEveryCput: true });
    let caught: unknown;
    try {
      await casUpdate(cell, 'r', 'c', addThousand);
    } catch (err) {
      caught = err;
    }
    expect(caught).to.have.property('code', 'UNAVAILABLE');
    expect(caught).to.have.property('reason', 'CONTENTION');
    expect(Number(cell.value.toString())).to.be.lessThan(1000);
  });
});
