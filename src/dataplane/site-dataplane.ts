// The real site data plane: the WireGuard tunnel to the hub plus the nftables table that maps leases onto LAN devices.
import type { Logger } from 'pino';
import { parseAddress } from '../protocol/ip.ts';
import { forwardingWarnings } from './forwarding.ts';
import type { Host } from './host.ts';
import type { NftTable } from './nftables.ts';
import { siteNatOf } from './nftables-read.ts';
import { buildSiteRuleset } from './nftables-site.ts';
import { checkSitePlan } from './plan-check.ts';
import { Serial } from './serial.ts';
import type { Tunnel } from './tunnel.ts';
import type { NatObserved, Observed, SiteDataplane, SitePlan } from './types.ts';
import { dataplaneParts, type WireGuardDataplaneOptions } from './parts.ts';

type Wait = { signal: AbortSignal };

/** Converges a site to its plan: tunnel first, then the table in one transaction; removing NAT comes before tunnel changes. */
export class WireGuardSiteDataplane implements SiteDataplane {
  readonly #host: Host;
  readonly #tunnel: Tunnel;
  readonly #nft: NftTable;
  readonly #logger: Logger;
  readonly #serial = new Serial();

  constructor(options: WireGuardDataplaneOptions) {
    const parts = dataplaneParts(options);
    this.#logger = parts.logger;
    this.#host = parts.host;
    this.#tunnel = parts.tunnel;
    this.#nft = parts.nft;
  }

  async apply(plan: SitePlan, options: Wait): Promise<Observed> {
    checkSitePlan(plan);
    return this.#serial.run(async () => {
      if (plan.nat === null) await this.#nft.remove(options);
      const { tunnel, warnings } = await this.#tunnel.apply(plan.tunnel, options);
      if (plan.nat !== null) {
        await this.#nft.apply(buildSiteRuleset(plan.nat, this.#nft.name), options);
        const families = plan.nat.mappings.map((mapping) => parseAddress(mapping.address).family);
        warnings.push(...await forwardingWarnings(this.#host, families, 'leased devices cannot be reached', options));
      }
      const nat = await this.#readNat(options);
      for (const warning of warnings) this.#logger.warn({ iface: plan.tunnel?.iface, warning }, 'data plane warning');
      return { tunnel, warnings, nat };
    });
  }

  observe(options: Wait): Promise<Observed> {
    return this.#serial.run(async () => {
      const { tunnel, warnings } = await this.#tunnel.observe(options);
      return { tunnel, warnings, nat: await this.#readNat(options) };
    });
  }

  teardown(options: Wait): Promise<void> {
    return this.#serial.run(async () => {
      await this.#nft.remove(options);
      await this.#tunnel.remove(options);
    });
  }

  async #readNat(options: Wait): Promise<NatObserved | null> {
    const table = await this.#nft.read(options);
    return table === null ? null : siteNatOf(table);
  }
}
