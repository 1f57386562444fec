// Which LIO mutations of this process may run at once. Those of different
// blocks may: each has its own backstore, HBA and target (a new HBA index is
// claimed by its mkdir, EEXIST moves on to the next; the iscsi fabric
// directory is made EEXIST-tolerant). Two of one block never do (keyed by its
// backstore name and IQN: a peer's apply may meet the start-up reconcile's).
// An exclusive one (the sweep of every empty user HBA, which could take one
// an apply has just made) runs alone.
const settledOf = (p: Promise<unknown>): Promise<void> =>
  p.then(
    () => undefined,
    () => undefined,
  );

export class MutationGate {
  private lastExclusive: Promise<void> = Promise.resolve();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly byKey = new Map<string, Promise<void>>();

  /** fn after the last exclusive call and the earlier calls sharing a key */
  shared<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const before = [this.lastExclusive, ...keys.flatMap((k) => this.byKey.get(k) ?? [])];
    const run = Promise.all(before).then(fn);
    const settled = settledOf(run);
    this.inFlight.add(settled);
    for (const k of keys) this.byKey.set(k, settled);
    void settled.then(() => {
      this.inFlight.delete(settled);
      for (const k of keys) if (this.byKey.get(k) === settled) this.byKey.delete(k);
    });
    return run;
  }

  /** fn after every earlier call, and before every later one */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = Promise.all([this.lastExclusive, ...this.inFlight]).then(fn);
    this.lastExclusive = settledOf(run);
    return run;
  }
}
