// A set of bigint values stored as sorted, disjoint, non-adjacent runs [start, end].
//
// This is how the allocator tracks the used addresses of one pool family without ever
// materialising the pool: memory is proportional to the number of runs (contiguous blocks of
// used addresses), not to the pool size, and "the next free value at or after v" is a binary
// search. Sequential allocation keeps one run growing at its end (O(log runs) per add).

export class RunSet {
  private starts: bigint[] = [];
  private ends: bigint[] = [];
  private n = 0;

  /** Number of values in the set. */
  get size(): number {
    return this.n;
  }

  /** Number of runs (for tests and stats). */
  get runs(): number {
    return this.starts.length;
  }

  /** Index of the last run whose start is <= v, or -1. */
  private find(v: bigint): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((this.starts[mid] as bigint) <= v) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  has(v: bigint): boolean {
    const i = this.find(v);
    return i >= 0 && (this.ends[i] as bigint) >= v;
  }

  /** Adds v; returns false when it was already present. */
  add(v: bigint): boolean {
    const i = this.find(v);
    if (i >= 0 && (this.ends[i] as bigint) >= v) return false;
    const joinLeft = i >= 0 && (this.ends[i] as bigint) === v - 1n;
    const joinRight = i + 1 < this.starts.length && (this.starts[i + 1] as bigint) === v + 1n;
    if (joinLeft && joinRight) {
      this.ends[i] = this.ends[i + 1] as bigint;
      this.starts.splice(i + 1, 1);
      this.ends.splice(i + 1, 1);
    } else if (joinLeft) {
      this.ends[i] = v;
    } else if (joinRight) {
      this.starts[i + 1] = v;
    } else if (i + 1 === this.starts.length) {
      this.starts.push(v);
      this.ends.push(v);
    } else {
      this.starts.splice(i + 1, 0, v);
      this.ends.splice(i + 1, 0, v);
    }
    this.n++;
    return true;
  }

  /** Removes v; returns false when it was not present. */
  delete(v: bigint): boolean {
    const i = this.find(v);
    if (i < 0) return false;
    const s = this.starts[i] as bigint;
    const e = this.ends[i] as bigint;
    if (e < v) return false;
    if (s === e) {
      this.starts.splice(i, 1);
      this.ends.splice(i, 1);
    } else if (v === s) {
      this.starts[i] = v + 1n;
    } else if (v === e) {
      this.ends[i] = v - 1n;
    } else {
      this.ends[i] = v - 1n;
      this.starts.splice(i + 1, 0, v + 1n);
      this.ends.splice(i + 1, 0, e);
    }
    this.n--;
    return true;
  }

  /** The smallest value >= v that is NOT in the set. */
  nextAbsent(v: bigint): bigint {
    const i = this.find(v);
    if (i >= 0 && (this.ends[i] as bigint) >= v) return (this.ends[i] as bigint) + 1n;
    return v;
  }

  /** Builds a set from values sorted ascending (duplicates allowed): linear time. */
  static fromSorted(values: readonly bigint[]): RunSet {
    const r = new RunSet();
    for (const v of values) {
      const last = r.ends.length - 1;
      if (last >= 0) {
        const e = r.ends[last] as bigint;
        if (v <= e) continue;
        if (v === e + 1n) {
          r.ends[last] = v;
          r.n++;
          continue;
        }
      }
      r.starts.push(v);
      r.ends.push(v);
      r.n++;
    }
    return r;
  }

  /** All values (only for small sets: tests). */
  *values(): Generator<bigint> {
    for (let i = 0; i < this.starts.length; i++) {
      for (let v = this.starts[i] as bigint; v <= (this.ends[i] as bigint); v++) yield v;
    }
  }
}
