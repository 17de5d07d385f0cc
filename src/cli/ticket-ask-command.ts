// `keyhole tickets ask N --device dev:ssh`: an operator asks the ticket's user for more access (inert until accepted on the help page).
import { Command } from 'commander';
import { InputError } from '../protocol/errors.ts';
import { ROUTES } from '../protocol/routes.ts';
import { TicketView } from '../protocol/schemas/operator-api.ts';
import { formatServices, parseDeviceArg } from '../protocol/services.ts';
import { intArg } from './options.ts';
import { call, print, withOperatorFlags, type OperatorFlags } from './operator-commands.ts';
import { when } from './table.ts';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The ticket's asks, one a line: number, device, services, state, who, when. */
function asksText(t: TicketView): string {
  const asks = t.asks ?? [];
  if (asks.length === 0) return `ticket ${t.ticket}: no asks\n`;
  return `${asks.map((a) => `ask ${a.ask}  ${a.device}:${formatServices(a.services)}  ${a.state}  by ${a.askedBy} at ${when(a.askedAt)}`).join('\n')}\n`;
}

export function askCommand(): Command {
  return withOperatorFlags(new Command('ask')).description("ask the ticket's user for another service or device; nothing opens until they accept on the help page")
    .argument('<ticket>', 'ticket number', intArg(1, Number.MAX_SAFE_INTEGER))
    .requiredOption('--device <device:services>', 'the device and what to ask for: `printer:ssh`, `nas:22,443`, `cam:udp/554`, `pc` (everything); repeatable, one ask each', collect, [])
    .action(async (ticket: number, flags: OperatorFlags & { device: string[] }) => {
      // Every argument is read before anything is sent: a bad one asks nothing.
      const asks = flags.device.map((text) => parseDeviceArg(text, 'device'));
      if (asks.length === 0) throw new InputError('give --device DEVICE:SERVICES', { field: 'device' });
      let view: TicketView | null = null;
      for (const ask of asks) view = await call(flags, 'POST', ROUTES.ticketAsks(ticket), TicketView, ask);
      if (view !== null) print(flags, view, () => asksText(view));
    });
}
