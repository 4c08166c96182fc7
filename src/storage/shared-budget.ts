/**
 * A number of bytes shared by whoever uses it at once: each user's share is the total divided by
 * the users, within [min, max]. One transfer alone gets the most (so that receiving goes on while
 * the disk or the hash catches up); many at once get less each, so that memory stays bounded.
 */
export class SharedBudget {
  private users = 0;

  constructor(
    private readonly total: number,
    private readonly min: number,
    private readonly max: number,
  ) {}

  enter(): void {
    this.users++;
  }

  leave(): void {
    this.users = Math.max(0, this.users - 1);
  }

  /** One user's share now. */
  share(): number {
    return Math.max(this.min, Math.min(this.max, Math.floor(this.total / Math.max(1, this.users))));
  }
}
