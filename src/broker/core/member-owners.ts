// Which principal a group member id belongs to. Share-group member ids are chosen by the
// client (a UUID) and every ShareFetch / ShareAcknowledge names one: without this, any
// principal allowed to Read the group could acknowledge or release the records another
// member acquired by naming its member id. The first request that names a member id binds
// it to its principal; a later request naming it from another principal is answered
// UNKNOWN_MEMBER_ID and changes nothing. Only kept while authorisation is on (without it
// every connection is the same principal).
//
// Bounded: at most maxEntries bindings, the oldest forgotten first (Map insertion order).
// A forgotten id is bound again by its next user; 100,000 members are ~10 MB.

import type { Principal } from '../../security/authorizer.js';
import { Errors, SpoolError } from '../../util/errors.js';

export const MAX_MEMBER_BINDINGS = 100_000;

export class MemberOwners {
  private readonly owners = new Map<string, string>();

  constructor(private readonly maxEntries = MAX_MEMBER_BINDINGS) {}

  get size(): number {
    return this.owners.size;
  }

  /** Binds (groupId, memberId) to who on first use; throws UNKNOWN_MEMBER_ID when another principal holds it. */
  claim(groupId: string, memberId: string, who: Principal): void {
    if (memberId === '') return;
    const key = `${groupId}\u0000${memberId}`;
    const owner = this.owners.get(key);
    if (owner === undefined) {
      if (this.owners.size >= this.maxEntries) this.owners.delete(this.owners.keys().next().value!);
      this.owners.set(key, who.principal);
      return;
    }
    if (owner !== who.principal) throw new SpoolError(Errors.UNKNOWN_MEMBER_ID, `member ${memberId} of group '${groupId}' belongs to another principal`);
  }
}
