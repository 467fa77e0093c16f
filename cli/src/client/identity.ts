/** Who is submitting, as the coordinator shows it: `user@host`. */
import { hostname, userInfo } from 'node:os';

export function clientIdentity(env: Readonly<Record<string, string | undefined>> = process.env): string {
  let user = env['USER'] ?? env['LOGNAME'] ?? '';
  if (user === '') {
    try {
      user = userInfo().username;
    } catch {
      user = 'unknown';
    }
  }
  return `${user}@${hostname()}`;
}
