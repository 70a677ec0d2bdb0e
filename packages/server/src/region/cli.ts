/** `steadfast hub add-user`: a hub staff account (region-lead or service-desk), never a practice account. */
import { Option, type Command } from 'commander';
import { SteadfastError } from '@steadfast/domain';
import { hubRoles } from '@steadfast/domain/region';

export function registerHubStaffCommands(hub: Command): void {
  hub
    .command('add-user')
    .description('add a hub staff account; the password is read from stdin; two-factor is set up at first sign-in')
    .requiredOption('--username <u>', 'sign-in name')
    .addOption(new Option('--role <role>', 'what the account may do at the hub').choices([...hubRoles]).makeOptionMandatory())
    .option('--name <name>', 'display name')
    .option('--password-stdin', 'read the password from stdin (required)')
    .option('--database-url <url>', 'the hub’s PostgreSQL (env STEADFAST_DATABASE_URL)')
    .action(async (options: { username: string; role: string; name?: string; passwordStdin?: boolean; databaseUrl?: string }) => {
      const url = options.databaseUrl ?? process.env.STEADFAST_DATABASE_URL;
      if (!url) throw new SteadfastError('required', 'add-user needs --database-url postgres://...', { field: '--database-url' });
      if (!options.passwordStdin) throw new SteadfastError('required', '--password-stdin is required', { field: '--password-stdin', hint: "e.g. echo 'long passphrase' | steadfast hub add-user ... --password-stdin" });
      const { readStdin } = await import('../cli/common.ts');
      const { addHubUser } = await import('./hub-accounts.ts');
      const password = (await readStdin()).replace(/\r?\n$/, '');
      const user = await addHubUser(url, { username: options.username, role: options.role, password, ...(options.name ? { name: options.name } : {}) });
      process.stdout.write(`added hub account ${user.username} (${user.role}); two-factor sign-in is set up at the first sign-in\n`);
    });
}
