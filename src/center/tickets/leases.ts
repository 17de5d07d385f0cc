// Leasing pool addresses to a ticket's devices inside its transaction: reuse a device's lease, else allocate one.
import { KeyholeError } from '../../protocol/errors.ts';
import { allocateLease } from '../allocation.ts';
import { audit, type AuditEntry } from '../audit.ts';
import type { Actor, Tx } from '../context.ts';
import { RetryTransaction } from '../transaction.ts';
import type { HubRef } from './slots.ts';

/**
 * Makes sure each device of `devices` holds an active lease from `hub`'s block and returns device →
 * address. A lease the device already holds for another open ticket is shared; one that is being
 * released (same hub, same site) is taken back, since it still routes to this very site.
 */
export async function leaseDevices(trx: Tx, hub: HubRef, site: string, devices: readonly string[], actor: Actor, now: number): Promise<Map<string, string>> {
  const existing = await trx.selectFrom('leases').selectAll().where('site', '=', site).where('device', 'in', devices).execute();
  const byDevice = new Map(existing.map((lease) => [lease.device, lease]));
  const result = new Map<string, string>();
  const events: AuditEntry[] = [];
  for (const device of devices) {
    const lease = byDevice.get(device);
    if (lease === undefined) {
      const granted = await allocateLease(trx, hub, site, device, now);
      result.set(device, granted.address);
      events.push({ actor, action: 'lease.granted', subject: `lease:${granted.address}`, detail: { site, device, hub: hub.name } });
      continue;
    }
    if (lease.hub !== hub.name) {
      throw new KeyholeError('UNAVAILABLE', `device ${device}'s previous address on hub ${lease.hub} is still being released; try again in a few seconds`);
    }
    if (lease.state === 'releasing') {
      // Under the site's and the hub's locks nothing else may touch this row; check anyway, audit only what changed.
      const kept = await trx.updateTable('leases').set({ state: 'active', released_revision: null }).where('id', '=', lease.id).where('state', '=', 'releasing').executeTakeFirst();
      if (Number(kept.numUpdatedRows) !== 1) throw new RetryTransaction('LEASE_VANISHED', `lease ${lease.address} changed meanwhile`);
      events.push({ actor, action: 'lease.kept', subject: `lease:${lease.address}`, detail: { site, device, hub: hub.name } });
    }
    result.set(device, lease.address);
  }
  await audit(trx, now, events);
  return result;
}
