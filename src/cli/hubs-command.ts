// `keyhole center hubs add|list|revoke`: per-hub tokens in the center's store (printed once, or written to a 0600 file; kept as a hash).
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { KeyholeError } from '../protocol/errors.ts';
import { issueHubToken, listHubCredentials, revokeHubToken } from '../center/auth/hub-credentials.ts';
import { nameArg } from './options.ts';
import { withStore } from './operators-command.ts';
import { table, when } from './table.ts';

interface DbFlags { db: string }

export function hubsCommand(): Command {
  const hubs = new Command('hubs').description('hub credentials: add (or replace) a hub\'s token, list, revoke');
  hubs.command('add').argument('<name>', 'hub name, as the hub passes it to --name', nameArg)
    .description('issue a token bound to this hub name (a new one replaces the old); printed once, or written to --token-file')
    .requiredOption('--db <path|url>', 'the center\'s store')
    .option('--token-file <file>', 'write the token to this file (0600) instead of printing it')
    .action(async (name: string, flags: DbFlags & { tokenFile?: string }) => {
      const { token, replaced } = await withStore(flags.db, (store) => issueHubToken(store.db, name, Date.now(), 'operator:cli'));
      if (flags.tokenFile === undefined) {
        process.stdout.write(`${token}\n`);
      } else {
        writeFileSync(flags.tokenFile, `${token}\n`, { mode: 0o600 });
        process.stdout.write(`token of hub ${name} written to ${flags.tokenFile}\n`);
      }
      process.stderr.write(replaced ? `hub ${name}: new token; the old one no longer works\n` : `hub ${name}: token issued; pass it to the hub with --hub-token-file\n`);
    });
  hubs.command('list').description('list the hubs that hold a token')
    .requiredOption('--db <path|url>', 'the center\'s store').option('--json', 'print JSON', false)
    .action(async (flags: DbFlags & { json: boolean }) => {
      const list = await withStore(flags.db, (store) => listHubCredentials(store.db));
      process.stdout.write(flags.json ? `${JSON.stringify(list)}\n` : table(['HUB', 'TOKEN ISSUED'], list.map((h) => [h.hub, when(h.createdAt)])));
    });
  hubs.command('revoke').argument('<name>', 'hub name', nameArg).description('revoke a hub\'s token: its next request is refused')
    .requiredOption('--db <path|url>', 'the center\'s store')
    .action(async (name: string, flags: DbFlags) => {
      const revoked = await withStore(flags.db, (store) => revokeHubToken(store.db, name, Date.now(), 'operator:cli'));
      if (!revoked) throw new KeyholeError('NOT_FOUND', `hub ${name} holds no token`);
      process.stdout.write(`token of hub ${name} revoked\n`);
    });
  return hubs;
}
