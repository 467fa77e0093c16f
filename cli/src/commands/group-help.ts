/**
 * `farm nar`, `farm drv`, `farm cache`: a command group on its own lists its subcommands (clipanion would
 * otherwise answer "command not found" for the bare group name). `farm nar --help` is routed
 * here by `routeGroupHelp`, because clipanion's own --help handling only knows leaf commands.
 */
import { Command, type CommandClass } from 'clipanion';

export const COMMAND_GROUPS = ['nar', 'drv', 'cache'] as const;

export function groupHelpCommand(group: string, summary: string): CommandClass {
  return class GroupHelpCommand extends Command {
    static override paths = [[group]];
    static override usage = Command.Usage({ category: 'Help', description: `list the \`${group}\` commands: ${summary}` });

    async execute(): Promise<number> {
      const prefix = `${this.cli.binaryName} ${group} `;
      const subcommands = this.cli.definitions().filter((d) => d.path.startsWith(prefix));
      const width = Math.max(...subcommands.map((d) => d.path.length));
      const lines = subcommands.map((d) => `  ${d.path.padEnd(width)}  ${(d.description ?? '').trim()}`);
      this.context.stdout.write(`${summary}\n\n${lines.join('\n')}\n\nRun \`${prefix}<command> --help\` for details.\n`);
      return 0;
    }
  };
}

/** Rewrites `<group> --help` / `<group> -h` to `<group>`, which lists the group's commands. */
export function routeGroupHelp(args: readonly string[]): string[] {
  const [first, second, ...rest] = args;
  const isGroup = (COMMAND_GROUPS as readonly string[]).includes(first ?? '');
  if (isGroup && rest.length === 0 && (second === '--help' || second === '-h')) return [first!];
  return [...args];
}
